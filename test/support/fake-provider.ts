import { ProviderError } from "../../lib/domain/errors.ts";
import type {
  ProviderCapabilities,
  SimulationDetails,
  SimulationProvider,
  SimulationStatus,
  SnapshotDestination,
  StartSimulationInput,
} from "../../lib/ports/simulation-provider.ts";

/**
 * An in-memory simulation provider for use-case tests: it records every call and lets a test
 * script the provider's answers (statuses, refusals) without any transport.
 */
export class FakeProvider implements SimulationProvider {
  readonly name = "fake";
  /** A SimSpace Weaver-like platform: snapshots into S3 while running. */
  readonly capabilities: ProviderCapabilities = {
    snapshotWhileRunning: true,
    checkpointOnStop: false,
    checkpointStorage: "s3",
    archivable: true,
    restoreInto: { newSimulation: true, sameSimulation: false, prefix: false },
    tags: true,
  };
  readonly statuses = new Map<string, SimulationStatus>();
  readonly snapshotCalls: { simulation: string; destination: SnapshotDestination }[] = [];
  readonly stopCalls: string[] = [];
  /** AWS tags per simulation name, answered by `listTags`. */
  readonly tags = new Map<string, Record<string, string>>();
  /** ARNs whose tags were asked for, in order. */
  readonly tagCalls: string[] = [];
  /** Errors thrown by the next CreateSnapshot calls, in order. */
  readonly snapshotFailures: ProviderError[] = [];

  constructor(simulations: Record<string, SimulationStatus> = {}) {
    for (const [name, status] of Object.entries(simulations)) this.statuses.set(name, status);
  }

  async listSimulations() {
    return [...this.statuses].map(([name, status]) => ({ name, status, arn: fakeArn(name) }));
  }

  async describeSimulation(name: string): Promise<SimulationDetails> {
    const status = this.statuses.get(name);
    if (!status) throw notFound(name);
    return { name, status, arn: fakeArn(name), executionId: `exec-${name}` };
  }

  async createSnapshot(simulation: string, destination: SnapshotDestination) {
    this.snapshotCalls.push({ simulation, destination });
    const failure = this.snapshotFailures.shift();
    if (failure) throw failure;
    this.statuses.set(simulation, "SNAPSHOT_IN_PROGRESS");
  }

  async listTags(arn: string) {
    this.tagCalls.push(arn);
    return { ...this.tags.get(arn.slice(arn.lastIndexOf("/") + 1)) };
  }

  async stopSimulation(name: string) {
    this.stopCalls.push(name);
    this.statuses.set(name, "STOPPED");
  }

  async deleteSimulation(name: string) {
    this.statuses.delete(name);
  }

  async startSimulation(input: StartSimulationInput) {
    this.statuses.set(input.name, "STARTED");
    return { executionId: `exec-${input.name}` };
  }
}

const fakeArn = (name: string) =>
  `arn:aws:simspaceweaver:us-east-1:123456789012:simulation/${name}`;

const notFound = (name: string) =>
  new ProviderError("ResourceNotFoundException", `Simulation ${name} not found`, { status: 404 });

/** The provider's refusals, as the service words them. */
export const providerErrors = {
  conflict: () =>
    new ProviderError("ConflictException", "A snapshot is already in progress", { status: 409 }),
  validation: (message = "Simulation must be STARTED to take a snapshot") =>
    new ProviderError("ValidationException", message, { status: 400 }),
  notFound,
};
