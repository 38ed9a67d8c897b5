import type { S3Location } from "../domain/checkpoint.ts";
import { ConfigError } from "../domain/errors.ts";

/** Simulation statuses as SimSpace Weaver reports them. */
export const SIMULATION_STATUSES = [
  "UNKNOWN",
  "STARTING",
  "STARTED",
  "STOPPING",
  "STOPPED",
  "FAILED",
  "DELETING",
  "DELETED",
  "SNAPSHOT_IN_PROGRESS",
] as const;
/** One of the provider's simulation statuses. */
export type SimulationStatus = (typeof SIMULATION_STATUSES)[number];

/**
 * A simulation in one of these runs: a start that reaches one succeeded, and a schedule or a
 * person can snapshot it now or once the current snapshot ends. One set for every use case that
 * asks whether a simulation runs (planning, snapshot requests, listings, restores, restore tests),
 * so they agree.
 */
export const RUNNING_STATUSES: ReadonlySet<SimulationStatus> = new Set([
  "STARTED",
  "SNAPSHOT_IN_PROGRESS",
]);

/**
 * A simulation in one of these will not start any more (a start that reaches one failed) and
 * can no longer finish a snapshot.
 */
export const ENDED_STATUSES: ReadonlySet<SimulationStatus> = new Set([
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "DELETED",
]);

/** What a listing says about one simulation. */
export interface SimulationSummary {
  name: string;
  status: SimulationStatus;
  targetStatus?: SimulationStatus;
  arn?: string;
  creationTime?: Date;
  /**
   * The platform's own state when it says more than `status` (NVIDIA Air's SAVING and
   * SHUTTING_DOWN are both STOPPING), so messages and stop tracking can name it.
   */
  providerStatus?: string;
}

/** What a describe says; `executionId` identifies the current run. */
export interface SimulationDetails extends SimulationSummary {
  executionId?: string;
  /**
   * The snapshot the simulation was started from, as the platform records it (SimSpace Weaver's
   * `SnapshotS3Location`): what a restore test checks a throwaway simulation against.
   */
  startedFrom?: S3Location;
  maximumDuration?: string;
  startError?: string;
}

/** Where a snapshot is written: the provider appends `snapshot/<name>-<time>.zip`. */
export interface SnapshotDestination {
  bucket: string;
  prefix: string;
}

/** What starting a simulation needs; `snapshot` restores from a snapshot file. */
export interface StartSimulationInput {
  name: string;
  roleArn: string;
  schema?: S3Location;
  snapshot?: S3Location;
  maximumDuration?: string;
  description?: string;
  clientToken?: string;
  tags?: Record<string, string>;
}

/**
 * What a platform can do, declared by its adapter. Use cases branch on these, never on a
 * provider's name, so a third platform is one adapter with its own answers here, not a redesign.
 */
export interface ProviderCapabilities {
  /**
   * A checkpoint can be taken while the simulation keeps running (SimSpace Weaver's
   * CreateSnapshot). Without it, a checkpoint is only taken as part of stopping (NVIDIA Air's
   * shutdown with `create_checkpoint`), so schedules skip the provider's simulations.
   */
  snapshotWhileRunning: boolean;
  /** Stopping can itself produce the final checkpoint (`stopWithCheckpoint`). */
  checkpointOnStop: boolean;
  /**
   * Where checkpoint bytes live: `s3`, one file per checkpoint that simsnap can HEAD, copy and
   * delete itself; `object-set`, a set of objects another tool wrote under the checkpoint's key
   * (its `location.key`, a directory prefix or a single object) in a configured files source,
   * handled with the object-set operations (`lib/usecases/files/`); `platform`, held by the
   * platform and reachable only through `checkpoints` (then `checkpoints` is set).
   */
  checkpointStorage: "s3" | "object-set" | "platform";
  /** The checkpoint's bytes can be read out, so it can be archived; never pretended. */
  archivable: boolean;
  /**
   * Where a checkpoint can be restored: a new simulation, the same (stopped) one, or a prefix (its
   * objects copied under a chosen key, where the tool that wrote them resumes from them; no
   * simulation is started).
   */
  restoreInto: { newSimulation: boolean; sameSimulation: boolean; prefix: boolean };
  /** Simulations carry tags that schedule selectors can match (`listTags`). */
  tags: boolean;
  /**
   * A restore test can run here: a checkpoint starts a new simulation that simsnap may then stop
   * and delete. `evidence` is what the platform tells about what a started simulation resumed
   * from: `snapshot-location`, the snapshot it started from (`SimulationDetails.startedFrom`);
   * `started`, nothing beyond its status. Absent: restore tests skip the provider, with a reason.
   */
  restoreTest?: { evidence: "snapshot-location" | "started" };
}

/** States of a checkpoint the platform itself keeps (NVIDIA Air's, which simsnap's mirror). */
export type PlatformCheckpointState = "PENDING" | "COMPLETE" | "DELETED";

/** A checkpoint as the platform that holds it describes it. */
export interface PlatformCheckpoint {
  /** The platform's own id, recorded on simsnap's checkpoint as `platformId`. */
  id: string;
  simulation: string;
  /** The run (execution) that produced it, when the platform tracks runs. */
  run?: string;
  state: PlatformCheckpointState;
  name: string;
  favorite: boolean;
  created: Date;
  modified: Date;
}

/** The fields of a platform checkpoint its owner may change. */
export interface PlatformCheckpointChanges {
  name?: string;
  favorite?: boolean;
}

/**
 * Checkpoints held by the platform (capability `checkpointStorage: "platform"`): listed and read
 * to mirror them into the catalog, changed when a person renames or favorites one in simsnap,
 * deleted by retention (only COMPLETE ones), restored by starting from one or cloning it.
 */
export interface PlatformCheckpoints {
  /** Every checkpoint of a simulation, all pages, in any state, oldest first. */
  list(simulation: string): Promise<PlatformCheckpoint[]>;
  /** Undefined when the platform does not know the id (404). */
  get(id: string): Promise<PlatformCheckpoint | undefined>;
  update(id: string, changes: PlatformCheckpointChanges): Promise<PlatformCheckpoint>;
  /** Only a COMPLETE checkpoint can be deleted; it becomes DELETED on the platform. */
  delete(id: string): Promise<void>;
  /**
   * Starts `target` from checkpoint `id`: the same simulation (`restoreInto.sameSimulation`) or a
   * clone under a new name (`restoreInto.newSimulation`); answers the started simulation's name.
   * `name` is the clone's name (the restore use case picks and checks it, as for SimSpace
   * Weaver); without it the adapter derives one from the simulation and checkpoint.
   */
  restore(
    id: string,
    target: { simulation: string; into: "same" | "new"; name?: string },
  ): Promise<string>;
}

/**
 * The simulation service as simsnap needs it. Every failure is a `ProviderError` carrying the
 * service's code and message, so use cases decide on codes (`ConflictException`, …), never on
 * transport details. Operations a platform lacks are told by `capabilities`; calling one anyway
 * fails with a `ProviderError` of code `UnsupportedOperation`.
 */
export interface SimulationProvider {
  /** Identifies the provider in checkpoint records. */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Set exactly when `capabilities.checkpointStorage` is `platform`. */
  readonly checkpoints?: PlatformCheckpoints;
  /**
   * Why this deployment calls the platform no more (SimSpace Weaver turned off), when it does
   * not: its records still resolve, and a request to act on it is refused at once with this.
   */
  readonly turnedOff?: string;
  /**
   * Why the platform could not have a simulation of this name (its own rule, stricter than
   * simsnap's `SimulationNameSchema`), or undefined when it could. A platform that names
   * simulations as freely as simsnap leaves it out. Use cases ask it before acting on a name: a
   * name the platform refuses is not one of its simulations (so locating it skips the provider),
   * and a restore into it is a 400 at once, not a job that fails after an archive was thawed.
   */
  simulationNameRefusal?(name: string): string | undefined;
  /**
   * Stops the simulation and has the platform save a final checkpoint as it does (capability
   * `checkpointOnStop`); the checkpoint shows up in `checkpoints.list` as PENDING, then COMPLETE.
   */
  stopWithCheckpoint?(name: string): Promise<void>;
  listSimulations(): Promise<SimulationSummary[]>;
  describeSimulation(name: string): Promise<SimulationDetails>;
  createSnapshot(name: string, destination: SnapshotDestination): Promise<void>;
  /** The simulation's AWS tags, by its ARN (listings carry it); schedule selectors match on them. */
  listTags(arn: string): Promise<Record<string, string>>;
  stopSimulation(name: string): Promise<void>;
  deleteSimulation(name: string): Promise<void>;
  startSimulation(input: StartSimulationInput): Promise<{ arn?: string; executionId?: string }>;
}

/**
 * Several platforms at once: each simulation belongs to exactly one provider, named in its
 * checkpoints and messages. Use cases that act on any simulation resolve its provider here.
 */
export interface ProviderDirectory {
  /** Every configured provider, in configuration order. */
  all(): readonly SimulationProvider[];
  /** The provider of that name; a `ConfigError` when none is configured. */
  byName(name: string): SimulationProvider;
}

/**
 * The directory of a fixed list of providers, as configuration or a test builds it. Two providers
 * of one name would make every checkpoint record of that name ambiguous, so they are refused.
 */
export function directoryOf(providers: readonly SimulationProvider[]): ProviderDirectory {
  const byName = new Map<string, SimulationProvider>();
  for (const provider of providers) {
    if (byName.has(provider.name)) {
      throw new ConfigError(`Two simulation providers are named ${provider.name}`);
    }
    byName.set(provider.name, provider);
  }
  const list = [...providers];
  return {
    all: () => list,
    byName: (name) => {
      const provider = byName.get(name);
      if (!provider) {
        throw new ConfigError(
          `No simulation provider named ${name} is configured here (configured: ${
            list.map((p) => p.name).join(", ") || "none"
          })`,
        );
      }
      return provider;
    },
  };
}
