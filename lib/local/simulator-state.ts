import { randomUUID } from "node:crypto";
import type { SimulationStatus } from "../ports/simulation-provider.ts";
import { notFound, type WeaverS3Location } from "./simulator-wire.ts";

/** How long simulations take to change state, and one clock tick, in milliseconds. */
export interface SimulatorTiming {
  start: number;
  stop: number;
  snapshot: number;
  tick: number;
}

/** The simulator's own view of one simulation, including what the API does not show (the tick). */
export interface SimulatedSimulation {
  name: string;
  arn: string;
  executionId: string;
  status: SimulationStatus;
  targetStatus: SimulationStatus;
  creationTime: Date;
  tick: number;
  /** The tick a start from a snapshot resumed at; absent for a simulation started from a schema. */
  restoredTick?: number;
  startError?: string;
}

/** How a test made the next snapshot end: without a file, or never. */
export type SnapshotMode = { kind: "fail"; status: "STARTED" | "FAILED" } | { kind: "stall" };

/** One simulation as the simulator holds it, with its clock and any pending transition. */
export interface Sim {
  seq: number;
  name: string;
  arn: string;
  executionId: string;
  creationTime: Date;
  status: SimulationStatus;
  targetStatus: SimulationStatus;
  roleArn: string;
  description?: string;
  maximumDuration: string;
  schema?: WeaverS3Location;
  snapshot?: WeaverS3Location;
  clientToken?: string;
  startError?: string;
  tags: Record<string, string>;
  tickBase: number;
  /** The tick a start from a snapshot resumed at (what its app endpoint reports). */
  restoredTick?: number;
  runMs: number;
  runningSince?: number;
  timer?: NodeJS.Timeout;
  /** Bumped on every status change, so a late timer or S3 call never overwrites a newer state. */
  generation: number;
  snapshotModes: SnapshotMode[];
}

/** The statuses in which a simulation's clock runs. */
export const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);

/**
 * Every simulation the simulator holds and the clock that moves each between statuses: one place
 * owns the generation rule (a late timer or S3 call never overwrites a newer state) and the
 * in-flight steps `close` waits for, whichever operation or test started them.
 */
export class SimulationTable {
  private readonly simulations = new Map<string, Sim>();
  private readonly tasks = new Set<Promise<void>>();
  private sequence = 0;
  private misrestores = 0;

  constructor(
    readonly timing: SimulatorTiming,
    private readonly arnOf: (name: string) => string,
  ) {}

  get(name: string): Sim | undefined {
    return this.simulations.get(name);
  }

  has(name: string): boolean {
    return this.simulations.has(name);
  }

  /** Every simulation held, in no particular order. */
  all(): Sim[] {
    return [...this.simulations.values()];
  }

  /** Throws the service's ResourceNotFoundException for an unknown name. */
  mustGet(name: string): Sim {
    const sim = this.simulations.get(name);
    if (!sim) throw notFound(name);
    return sim;
  }

  /** Adds a simulation with status UNKNOWN; the caller moves it on with `changeStatus`. */
  add(
    name: string,
    fields: { roleArn: string; description?: string; maximumDuration: string; creationTime?: Date },
  ): Sim {
    const sim: Sim = {
      seq: ++this.sequence,
      name,
      arn: this.arnOf(name),
      executionId: randomUUID(),
      creationTime: fields.creationTime ?? new Date(),
      status: "UNKNOWN",
      targetStatus: "STARTED",
      roleArn: fields.roleArn,
      description: fields.description,
      maximumDuration: fields.maximumDuration,
      tags: {},
      tickBase: 0,
      runMs: 0,
      generation: 0,
      snapshotModes: [],
    };
    this.simulations.set(name, sim);
    return sim;
  }

  /** Makes the next `count` starts from a snapshot resume at tick 0 instead of the snapshot's. */
  misrestore(count: number): void {
    this.misrestores += count;
  }

  /** True (once per `misrestore` count) when this start from a snapshot loses its clock. */
  takeMisrestore(): boolean {
    if (this.misrestores === 0) return false;
    this.misrestores -= 1;
    return true;
  }

  /** Forgets `sim`, unless a newer simulation has taken its name since. */
  remove(sim: Sim): void {
    if (this.simulations.get(sim.name) === sim) this.simulations.delete(sim.name);
  }

  tickOf(sim: Sim): number {
    const running = sim.runningSince === undefined ? 0 : Date.now() - sim.runningSince;
    return sim.tickBase + Math.floor((sim.runMs + running) / this.timing.tick);
  }

  /** Moves a simulation to `status`; the clock runs only while STARTED or SNAPSHOT_IN_PROGRESS. */
  changeStatus(sim: Sim, status: SimulationStatus, targetStatus?: SimulationStatus): void {
    clearTimeout(sim.timer);
    sim.timer = undefined;
    const now = Date.now();
    if (sim.runningSince !== undefined && !RUNNING.has(status)) {
      sim.runMs += now - sim.runningSince;
      sim.runningSince = undefined;
    } else if (sim.runningSince === undefined && RUNNING.has(status)) {
      sim.runningSince = now;
    }
    sim.status = status;
    sim.targetStatus = targetStatus ?? defaultTarget(status, sim.targetStatus);
    sim.generation++;
  }

  /** Runs `step` after `ms` unless the simulation changes status first. */
  later(sim: Sim, ms: number, step: () => void | Promise<void>): void {
    const generation = sim.generation;
    sim.timer = setTimeout(() => {
      sim.timer = undefined;
      if (sim.generation !== generation) return;
      const task = Promise.resolve()
        .then(step)
        .catch(() => undefined)
        .finally(() => this.tasks.delete(task));
      this.tasks.add(task);
    }, ms);
  }

  view(sim: Sim): SimulatedSimulation {
    const view: SimulatedSimulation = {
      name: sim.name,
      arn: sim.arn,
      executionId: sim.executionId,
      status: sim.status,
      targetStatus: sim.targetStatus,
      creationTime: sim.creationTime,
      tick: this.tickOf(sim),
    };
    if (sim.startError !== undefined) view.startError = sim.startError;
    if (sim.restoredTick !== undefined) view.restoredTick = sim.restoredTick;
    return view;
  }

  /** Cancels every pending transition. */
  cancelTimers(): void {
    for (const sim of this.simulations.values()) clearTimeout(sim.timer);
  }

  /** Resolves once every step already running (an S3 write, a snapshot read) has settled. */
  async settle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}

function defaultTarget(status: SimulationStatus, previous: SimulationStatus): SimulationStatus {
  switch (status) {
    case "STARTING":
    case "STARTED":
    case "SNAPSHOT_IN_PROGRESS":
      return "STARTED";
    case "STOPPING":
    case "STOPPED":
      return "STOPPED";
    case "DELETING":
    case "DELETED":
      return "DELETED";
    default:
      return previous;
  }
}
