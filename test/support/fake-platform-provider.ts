import { ProviderError } from "../../lib/domain/errors.ts";
import type { Clock } from "../../lib/ports/messaging.ts";
import type {
  PlatformCheckpoint,
  PlatformCheckpointChanges,
  PlatformCheckpoints,
  ProviderCapabilities,
  SimulationDetails,
  SimulationProvider,
  SimulationStatus,
} from "../../lib/ports/simulation-provider.ts";

/** The operations of the fake platform a test can make fail once, in order. */
export type PlatformOperation =
  "list" | "get" | "update" | "delete" | "restore" | "stopWithCheckpoint" | "describeSimulation";

const notFound = (what: string) =>
  new ProviderError("ResourceNotFoundException", `${what} not found`, { status: 404 });

const conflict = (message: string) =>
  new ProviderError("ConflictException", message, { status: 409, retryable: false });

const unsupported = (operation: string) =>
  new ProviderError("UnsupportedOperation", `The platform cannot ${operation}`, {
    status: 400,
    retryable: false,
  });

/**
 * An in-memory platform that holds its simulations' checkpoints itself, shaped on NVIDIA Air:
 * checkpoints are only made by stopping with one (PENDING until the test calls `finishSaving`,
 * then COMPLETE), only COMPLETE ones can be deleted (they stay listed, DELETED), name and favorite
 * can be changed, and a checkpoint restores into the same stopped simulation or a clone. The test
 * drives what the platform does on its own (`deleteItself`, `editOnPlatform`, `forget`) and can
 * make the next call of an operation fail (`failNext`). Every call is recorded.
 */
export class FakePlatformProvider implements SimulationProvider {
  readonly name: string;
  readonly capabilities: ProviderCapabilities = {
    snapshotWhileRunning: false,
    checkpointOnStop: true,
    checkpointStorage: "platform",
    archivable: false,
    restoreInto: { newSimulation: true, sameSimulation: true, prefix: false },
    tags: false,
  };
  readonly checkpoints: PlatformCheckpoints;
  readonly statuses = new Map<string, SimulationStatus>();
  /** The platform's checkpoints by id, as it stores them. */
  readonly held = new Map<string, PlatformCheckpoint>();
  /** Every call, as `operation:argument`. */
  readonly calls: string[] = [];
  /** The status a simulation started from a checkpoint is in right after the call. */
  startsAs: SimulationStatus = "STARTED";
  private readonly failures = new Map<PlatformOperation, ProviderError[]>();
  private sequence = 0;
  private lastTime = 0;

  constructor(
    private readonly clock: Clock,
    simulations: Record<string, SimulationStatus> = {},
    name = "platform",
  ) {
    this.name = name;
    for (const [simulation, status] of Object.entries(simulations)) {
      this.statuses.set(simulation, status);
    }
    this.checkpoints = new FakeHeldCheckpoints(this);
  }

  /** The next call of `operation` throws `error` (several queue up, in order). */
  failNext(operation: PlatformOperation, error: ProviderError): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), error]);
  }

  /** Records a call and throws its scripted failure, if any. */
  call(operation: PlatformOperation, argument: string): void {
    this.calls.push(`${operation}:${argument}`);
    const failure = this.failures.get(operation)?.shift();
    if (failure) throw failure;
  }

  /** The platform's clock, strictly increasing, so no two of its events share a time. */
  tick(): Date {
    this.lastTime = Math.max(this.clock.now().getTime(), this.lastTime + 1);
    return new Date(this.lastTime);
  }

  /** A checkpoint the platform already has (a test's starting state). */
  seed(
    simulation: string,
    overrides: Partial<Omit<PlatformCheckpoint, "simulation">> = {},
  ): PlatformCheckpoint {
    const now = this.tick();
    this.sequence += 1;
    const checkpoint: PlatformCheckpoint = {
      id: `ckpt-${this.sequence}`,
      simulation,
      run: `run-${this.sequence}`,
      state: "COMPLETE",
      name: `checkpoint ${this.sequence}`,
      favorite: false,
      created: now,
      modified: now,
      ...overrides,
    };
    this.held.set(checkpoint.id, checkpoint);
    return { ...checkpoint };
  }

  /** The simulations being saved finish: their PENDING checkpoints complete, they stop. */
  finishSaving(simulation?: string): void {
    for (const checkpoint of this.held.values()) {
      if (checkpoint.state !== "PENDING") continue;
      if (simulation !== undefined && checkpoint.simulation !== simulation) continue;
      checkpoint.state = "COMPLETE";
      checkpoint.modified = this.tick();
      this.statuses.set(checkpoint.simulation, "STOPPED");
    }
  }

  /** The platform deletes a checkpoint on its own ("to make room"): it stays listed, DELETED. */
  deleteItself(id: string): void {
    const checkpoint = this.held.get(id);
    if (!checkpoint) throw new Error(`No checkpoint ${id}`);
    checkpoint.state = "DELETED";
    checkpoint.modified = this.tick();
  }

  /** The platform no longer knows a checkpoint at all (404 on every read). */
  forget(id: string): void {
    this.held.delete(id);
  }

  /** A person renames or favorites a checkpoint on the platform itself. */
  editOnPlatform(id: string, changes: PlatformCheckpointChanges): void {
    const checkpoint = this.held.get(id);
    if (!checkpoint) throw new Error(`No checkpoint ${id}`);
    Object.assign(checkpoint, changes, { modified: this.tick() });
  }

  async listSimulations() {
    return [...this.statuses].map(([name, status]) => ({ name, status }));
  }

  async describeSimulation(name: string): Promise<SimulationDetails> {
    this.call("describeSimulation", name);
    const status = this.statuses.get(name);
    if (!status) throw notFound(`Simulation ${name}`);
    return { name, status };
  }

  /** Shutdown with a checkpoint: the simulation is saving, its new checkpoint PENDING. */
  async stopWithCheckpoint(name: string): Promise<void> {
    this.call("stopWithCheckpoint", name);
    const status = this.statuses.get(name);
    if (!status) throw notFound(`Simulation ${name}`);
    if (status !== "STARTED") throw conflict(`Simulation ${name} is ${status}, not running`);
    this.statuses.set(name, "STOPPING");
    this.seed(name, { state: "PENDING", name: `${name} shutdown` });
  }

  /** Shutdown without a checkpoint (a purge). */
  async stopSimulation(name: string): Promise<void> {
    this.calls.push(`stopSimulation:${name}`);
    if (!this.statuses.has(name)) throw notFound(`Simulation ${name}`);
    this.statuses.set(name, "STOPPED");
  }

  async startSimulation(): Promise<{ executionId?: string }> {
    throw unsupported("start a simulation from a file");
  }

  async createSnapshot(): Promise<void> {
    throw unsupported("snapshot a running simulation");
  }

  async listTags(): Promise<Record<string, string>> {
    throw unsupported("list tags");
  }

  async deleteSimulation(): Promise<void> {
    throw unsupported("delete a simulation");
  }
}

class FakeHeldCheckpoints implements PlatformCheckpoints {
  constructor(private readonly platform: FakePlatformProvider) {}

  async list(simulation: string): Promise<PlatformCheckpoint[]> {
    this.platform.call("list", simulation);
    if (!this.platform.statuses.has(simulation)) throw notFound(`Simulation ${simulation}`);
    return [...this.platform.held.values()]
      .filter((c) => c.simulation === simulation)
      .sort((a, b) => a.created.getTime() - b.created.getTime())
      .map((c) => ({ ...c }));
  }

  async get(id: string): Promise<PlatformCheckpoint | undefined> {
    this.platform.call("get", id);
    const checkpoint = this.platform.held.get(id);
    return checkpoint && { ...checkpoint };
  }

  async update(id: string, changes: PlatformCheckpointChanges): Promise<PlatformCheckpoint> {
    this.platform.call("update", id);
    const checkpoint = this.platform.held.get(id);
    if (!checkpoint || checkpoint.state === "DELETED") throw notFound(`Checkpoint ${id}`);
    Object.assign(checkpoint, changes, { modified: this.platform.tick() });
    return { ...checkpoint };
  }

  async delete(id: string): Promise<void> {
    this.platform.call("delete", id);
    const checkpoint = this.platform.held.get(id);
    if (!checkpoint) throw notFound(`Checkpoint ${id}`);
    if (checkpoint.state !== "COMPLETE") {
      throw conflict(`Checkpoint ${id} is ${checkpoint.state}; only COMPLETE ones can be deleted`);
    }
    checkpoint.state = "DELETED";
    checkpoint.modified = this.platform.tick();
  }

  async restore(
    id: string,
    target: { simulation: string; into: "same" | "new"; name?: string },
  ): Promise<string> {
    this.platform.call("restore", `${id}:${target.into}:${target.name ?? target.simulation}`);
    const checkpoint = this.platform.held.get(id);
    if (!checkpoint || checkpoint.state !== "COMPLETE") throw notFound(`Checkpoint ${id}`);
    const { statuses } = this.platform;
    if (target.into === "same") {
      const status = statuses.get(target.simulation);
      if (!status) throw notFound(`Simulation ${target.simulation}`);
      if (status !== "STOPPED") throw conflict(`Simulation ${target.simulation} is ${status}`);
      statuses.set(target.simulation, this.platform.startsAs);
      return target.simulation;
    }
    const name = target.name ?? `${target.simulation}-clone`;
    if (statuses.has(name)) throw conflict(`A simulation named ${name} already exists`);
    statuses.set(name, this.platform.startsAs);
    return name;
  }
}
