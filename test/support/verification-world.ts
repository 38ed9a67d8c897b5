import type { S3Location } from "../../lib/domain/checkpoint.ts";
import { ProviderError } from "../../lib/domain/errors.ts";
import type { VerificationStep } from "../../lib/domain/verification.ts";
import {
  directoryOf,
  type PlatformCheckpoints,
  type ProviderCapabilities,
  type SimulationDetails,
  type SimulationProvider,
  type SimulationStatus,
  type StartSimulationInput,
} from "../../lib/ports/simulation-provider.ts";
import type { UserCheck, UserCheckInput, UserCheckResult } from "../../lib/ports/user-check.ts";
import {
  advanceVerification,
  type AdvanceVerificationResult,
} from "../../lib/usecases/verification/advance-verification.ts";
import type { VerificationDeps } from "../../lib/usecases/verification/verification-deps.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryQueue,
} from "./memory.ts";
import { MemorySlotStore } from "./memory-slots.ts";

interface PlatformSimulation {
  status: SimulationStatus;
  tags: Record<string, string>;
  startedFrom?: S3Location;
  clientToken?: string;
}

const notFound = (name: string) =>
  new ProviderError("ResourceNotFoundException", `Simulation ${name} does not exist`, {
    status: 404,
  });

/**
 * A platform that hosts restore tests, in memory: simulations start (STARTING, then what
 * `startsAs` says on `settle`), stop and are deleted as SimSpace Weaver's do, remember their tags
 * and the snapshot they started from, and record every call, so a test can see what simsnap did
 * to which simulation. `startedFromOverride` makes it start from another file than asked (a
 * platform that loses the snapshot), `startFailure` refuse the start.
 */
export class ThrowawayPlatform implements SimulationProvider {
  readonly name = "fake";
  capabilities: ProviderCapabilities = {
    snapshotWhileRunning: true,
    checkpointOnStop: false,
    checkpointStorage: "s3",
    archivable: true,
    restoreInto: { newSimulation: true, sameSimulation: false, prefix: false },
    tags: true,
    restoreTest: { evidence: "snapshot-location" },
  };
  readonly simulations = new Map<string, PlatformSimulation>();
  readonly calls: string[] = [];
  startsAs: SimulationStatus = "STARTED";
  startedFromOverride?: S3Location;
  startFailure?: ProviderError;
  /** Set by `holdCheckpoints`: the platform keeps checkpoints itself and clones from them. */
  checkpoints?: PlatformCheckpoints;
  /** This many more clones are refused as NVIDIA Air refuses to clone a running source. */
  busyRestores = 0;
  /** The next clone is made, then the caller crashes before it hears back. */
  crashAfterRestore = false;

  /**
   * Turns this into a platform that holds its checkpoints (NVIDIA Air's shape) and says nothing
   * about what a simulation resumed from, and has no tags, but can delete simulations.
   */
  holdCheckpoints(): void {
    this.capabilities = {
      ...this.capabilities,
      checkpointStorage: "platform",
      tags: false,
      restoreTest: { evidence: "started" },
    };
    const unused = () => Promise.reject(new Error("not used by restore tests"));
    this.checkpoints = {
      list: unused,
      get: unused,
      update: unused,
      delete: unused,
      restore: async (id, target) => {
        const name = target.name ?? `${target.simulation}-clone`;
        this.calls.push(`restore ${id} into ${name}`);
        if (this.busyRestores > 0) {
          this.busyRestores -= 1;
          throw new ProviderError("ConflictException", `${target.simulation} is ACTIVE`, {
            status: 409,
          });
        }
        // As NVIDIA Air's adapter: no client token, so a name already taken is refused.
        if (this.simulations.has(name)) {
          throw new ProviderError("SimulationNameTaken", `${name} already exists`, {
            status: 409,
          });
        }
        this.simulations.set(name, { status: "STARTING", tags: {} });
        if (this.crashAfterRestore) {
          this.crashAfterRestore = false;
          throw new Error("the function died before the clone call answered");
        }
        return name;
      },
    };
  }

  /** Moves every simulation in a transition to where it was going. */
  settle(): void {
    for (const sim of this.simulations.values()) {
      if (sim.status === "STARTING") sim.status = this.startsAs;
      else if (sim.status === "STOPPING") sim.status = "STOPPED";
    }
    for (const [name, sim] of this.simulations) {
      if (sim.status === "DELETING") this.simulations.delete(name);
    }
  }

  /** Simulations that still exist, by name. */
  names(): string[] {
    return [...this.simulations.keys()];
  }

  async listSimulations() {
    return [...this.simulations].map(([name, sim]) => ({ name, status: sim.status }));
  }

  async describeSimulation(name: string): Promise<SimulationDetails> {
    this.calls.push(`describe ${name}`);
    const sim = this.simulations.get(name);
    if (!sim) throw notFound(name);
    return {
      name,
      status: sim.status,
      arn: `arn:aws:simspaceweaver:us-east-1:123456789012:simulation/${name}`,
      ...(sim.startedFrom ? { startedFrom: sim.startedFrom } : {}),
    };
  }

  async createSnapshot() {
    throw new Error("not used by restore tests");
  }

  async listTags(arn: string) {
    return { ...this.simulations.get(arn.slice(arn.lastIndexOf("/") + 1))?.tags };
  }

  async stopSimulation(name: string) {
    this.calls.push(`stop ${name}`);
    const sim = this.simulations.get(name);
    if (!sim) throw notFound(name);
    sim.status = "STOPPING";
  }

  async deleteSimulation(name: string) {
    this.calls.push(`delete ${name}`);
    const sim = this.simulations.get(name);
    if (!sim) throw notFound(name);
    if (sim.status !== "STOPPED" && sim.status !== "FAILED") {
      throw new ProviderError("ValidationException", `Simulation ${name} is ${sim.status}`, {
        status: 400,
      });
    }
    sim.status = "DELETING";
  }

  async startSimulation(input: StartSimulationInput) {
    this.calls.push(`start ${input.name}`);
    if (this.startFailure) throw this.startFailure;
    const existing = this.simulations.get(input.name);
    if (existing) {
      if (existing.clientToken === input.clientToken) return {};
      throw new ProviderError("ValidationException", `${input.name} already exists`, {
        status: 400,
      });
    }
    this.simulations.set(input.name, {
      status: "STARTING",
      tags: { ...input.tags },
      startedFrom: this.startedFromOverride ?? input.snapshot,
      clientToken: input.clientToken,
    });
    return {};
  }
}

/** A user check that answers what the test set, and records what it was asked. */
export class ScriptedUserCheck implements UserCheck {
  readonly description = "scripted check";
  readonly inputs: UserCheckInput[] = [];
  constructor(public answer: UserCheckResult = { status: "PASSED", detail: "tick 42 resumed" }) {}

  async run(input: UserCheckInput): Promise<UserCheckResult> {
    this.inputs.push(input);
    return this.answer;
  }
}

/** Every port of the verification use cases in memory, around one `ThrowawayPlatform`. */
export function verificationWorld() {
  const platform = new ThrowawayPlatform();
  const clock = new ManualClock(new Date("2026-12-01T10:00:00.000Z"));
  const steps = new MemoryQueue<VerificationStep>();
  const ports = {
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    providers: directoryOf([platform]),
    steps,
    events: new MemoryEventPublisher(),
    clock,
    slots: new MemorySlotStore(),
  };
  const deps: VerificationDeps = {
    ...ports,
    verification: {
      roleArn: "arn:aws:iam::123456789012:role/sim",
      firstCheckSeconds: 5,
      maxCheckSeconds: 20,
      userCheckTimeoutSeconds: 30,
    },
  };
  return { ...ports, deps, platform };
}
/** The world the verification tests drive. */
export type VerificationWorld = ReturnType<typeof verificationWorld>;

/**
 * Runs a job's steps as its queue would deliver them: the newest step sent, at its due time,
 * with the platform settling between steps; stops when no new step was sent or after `limit`.
 */
export async function drive(
  world: VerificationWorld,
  limit = 30,
): Promise<AdvanceVerificationResult[]> {
  const results: AdvanceVerificationResult[] = [];
  let delivered = 0;
  while (delivered < world.steps.sent.length && results.length < limit) {
    const step = world.steps.sent[world.steps.sent.length - 1]?.message as VerificationStep;
    delivered = world.steps.sent.length;
    if (Date.parse(step.dueAt) > world.clock.now().getTime()) world.clock.set(step.dueAt);
    results.push(await advanceVerification(step, world.deps));
    world.platform.settle();
  }
  return results;
}
