/*
 * The API's JSON as plain types. They are written out here instead of imported from the
 * server's zod schemas so that the package needs neither zod nor any server module; a type test
 * in the simsnap repository (test/unit/client/wire-types.test.ts) fails the type-check when one
 * of them and the server's type drift apart.
 */

/** Lifecycle of a checkpoint. `DELETED` records stay as an audit trail. */
export type CheckpointState = "PENDING" | "COMPLETE" | "FAILED" | "DELETED";

/** Why a checkpoint exists; `discovered` marks files written by other tools. */
export type CheckpointTrigger = "schedule" | "shutdown" | "manual" | "discovered";

/** The long-running actions simsnap tracks as jobs. */
export type JobKind = "snapshot" | "prune" | "archive" | "restore" | "stop" | "verify";

/** A job is finished once it left `RUNNING`. */
export type JobStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

/** A simulation's status as its platform reports it (in SimSpace Weaver's words). */
export type SimulationStatus =
  | "UNKNOWN"
  | "STARTING"
  | "STARTED"
  | "STOPPING"
  | "STOPPED"
  | "FAILED"
  | "DELETING"
  | "DELETED"
  | "SNAPSHOT_IN_PROGRESS";

/** What went wrong, in the platform's or simsnap's own words. */
export interface ErrorInfo {
  code: string;
  message: string;
}

/** An S3 object address. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** The latest restore test of a checkpoint. */
export interface CheckpointVerification {
  status: "PASSED" | "FAILED";
  at: string;
  durationMs: number;
  detail: string;
  /** The verification job. */
  jobId: string;
}

/** A checkpoint as the API returns it: the catalog record, `version` included (for `If-Match`). */
export interface Checkpoint {
  id: string;
  version: number;
  simulation: string;
  provider: string;
  run?: string;
  name: string;
  description: string;
  tags: string[];
  favorite: boolean;
  state: CheckpointState;
  trigger: CheckpointTrigger;
  /** ISO 8601 with offset, as are the other times. */
  createdAt: string;
  modifiedAt: string;
  completedAt?: string;
  /** The platform's own id of a checkpoint the platform holds (it then has no `location`). */
  platformId?: string;
  /** Known once the file exists; a PENDING checkpoint has none yet. */
  location?: S3Location;
  size?: number;
  etag?: string;
  checksum?: string;
  /** The training or solver step the checkpoint was written at, when its source names one. */
  step?: number;
  /** Metric values reported with the checkpoint (e.g. `eval_loss`). */
  metrics?: Record<string, number>;
  /**
   * The verified archive copy: the copy of a snapshot file, or the manifest of a set of objects
   * (a files checkpoint), whose `objects` and `bytes` say what it holds.
   */
  archive?: {
    bucket: string;
    key: string;
    storageClass: string;
    archivedAt: string;
    objects?: number;
    bytes?: number;
  };
  error?: ErrorInfo;
  jobId?: string;
  /** The latest restore test; absent until one has run. */
  verification?: CheckpointVerification;
  /** Where a DELETED checkpoint's file waits in the trash until `purgeAfter` (undelete it then). */
  trash?: S3Location;
  /** A DELETED checkpoint its platform still holds until the purge (undelete brings it back). */
  trashOnPlatform?: true;
  /** When the daily purge makes a trashed checkpoint's deletion final. */
  purgeAfter?: string;
  /** When the purge removed the trashed file: the deletion is final. */
  purgedAt?: string;
}

/** One step of a multi-step job; `SKIPPED` steps had nothing to do. */
export interface JobStep {
  name: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "SKIPPED";
  startedAt: string;
  endedAt?: string;
  message?: string;
}

/** Where a restore job stands. */
export type RestorePhase = "locating" | "thawing" | "copying" | "starting" | "waiting";

/** A job as the API shows it: what a client polls for. */
export interface Job {
  id: string;
  kind: JobKind;
  simulation: string;
  checkpointId?: string;
  status: JobStatus;
  startTime: string;
  endTime?: string;
  aborted: boolean;
  error?: ErrorInfo;
  stats: { objects: number; bytes: number };
  attempts: number;
  nextCheckAt?: string;
  /** The steps of a multi-step job (a stop: final snapshot, then StopSimulation). */
  steps?: JobStep[];
  /**
   * A restore job's target simulation, how far it got, and what it restores from; for a set of
   * files restored under a prefix, the prefix and, once done, its `s3://` URI.
   */
  restore?: {
    target: string;
    phase: RestorePhase;
    from?: "hot" | "archive" | "platform";
    prefix?: string;
    uri?: string;
  };
  /**
   * A restore test's throwaway simulation, how far it got, and its verdict once decided (the job
   * still stops and deletes the throwaway before it ends).
   */
  verify?: {
    target: string;
    phase: "starting" | "waiting" | "checking" | "stopping" | "deleting";
    verdict?: { status: "PASSED" | "FAILED"; detail: string; at: string };
    /**
     * Set when the checkpoint was deleted during the test: its FAILED verdict was not recorded
     * on the checkpoint (the job FAILED with code `CheckpointDeleted`).
     */
    abandoned?: string;
  };
}

/** What `GET /simulations` says about one simulation. */
export interface SimulationOverview {
  name: string;
  /** As the provider reports it; `UNKNOWN` when the provider no longer lists the simulation. */
  status: SimulationStatus;
  provider: string;
  /** Creation time of the newest COMPLETE checkpoint. */
  lastCheckpointAt?: string;
  checkpoints: Record<CheckpointState, number>;
  /** Fresh or late by the staleness alarms' rule, when the deployment has snapshot schedules. */
  freshness?: {
    /** Seconds since the newest completed checkpoint (else the first asked for; 0 for none). */
    ageSeconds: number;
    /** The strictest schedule selecting it and its threshold (twice its longest interval). */
    schedule?: string;
    lateAfterSeconds?: number;
    /** Older than the threshold: that schedule's staleness alarm would fire. */
    late?: boolean;
    /** Schedules selecting on tags, which the API does not read: they may select it too. */
    undecided?: string[];
  };
}

/** A kept checkpoint with every reason that keeps it (restic's wording, `favorite` first). */
export interface KeptCheckpoint {
  id: string;
  reasons: string[];
}

/**
 * What retention would do to one simulation, newest first; when `refused` is set nothing is
 * removed.
 */
export interface PrunePlan {
  simulation: string;
  keep: KeptCheckpoint[];
  remove: { id: string }[];
  refused: string | null;
}

/** One page of a listing; pass `nextCursor` back for the next page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A field a checkpoint listing can be ordered by. */
export type CheckpointOrderField = "createdAt" | "modifiedAt" | "name" | "state" | "favorite";

/** An ordering key: a field, optionally prefixed with `-` for descending. */
export type CheckpointOrdering = CheckpointOrderField | `-${CheckpointOrderField}`;

/** Filters, ordering and paging of `GET /checkpoints`; lists mean "any of" (states) or "all of" (tags). */
export interface CheckpointQuery {
  simulation?: string;
  run?: string;
  state?: CheckpointState | CheckpointState[];
  favorite?: boolean;
  tag?: string | string[];
  /** Case-insensitive text in the name or the description. */
  search?: string;
  /** Inclusive. */
  createdAfter?: string | Date;
  /** Exclusive. */
  createdBefore?: string | Date;
  ordering?: CheckpointOrdering | CheckpointOrdering[];
  /** Page size, 1 to 1000. */
  limit?: number;
  cursor?: string;
}

/** Filters and paging of `GET /jobs` (newest first). */
export interface JobQuery {
  simulation?: string;
  kind?: JobKind | JobKind[];
  status?: JobStatus | JobStatus[];
  limit?: number;
  cursor?: string;
}

/** What a user may change on a checkpoint. */
export interface CheckpointChanges {
  name?: string;
  description?: string;
  tags?: string[];
  favorite?: boolean;
}

/** A manual snapshot's own name, description and tags. */
export interface SnapshotOptions {
  name?: string;
  description?: string;
  tags?: string[];
  /** Stop the simulation once the snapshot is complete (the answer is then the stop job). */
  stop?: boolean;
}

/** How to stop a simulation. */
export interface StopOptions {
  /** Take a final snapshot first (default true). */
  snapshot?: boolean;
  /** Stop even if the final snapshot fails (default false). */
  force?: boolean;
  reason?: string;
}

/** Where and how a checkpoint is restored. */
export interface RestoreOptions {
  /** Name of the new simulation (default derived from the checkpoint). */
  simulationName?: string;
  /** StartSimulation's MaximumDuration, e.g. `12h` or `14d`. */
  maximumDuration?: string;
  description?: string;
  /**
   * For a checkpoint of files another tool wrote: the prefix (e.g. `restored/exp7`) its files are
   * copied under, inside one of the configured sources; no simulation is started.
   */
  target?: { prefix: string };
}

/** What retention should do. */
export interface PruneOptions {
  /** One simulation, or all of them. */
  simulation?: string;
  /** Only plan (default true): nothing is deleted. */
  dryRun?: boolean;
  /** Allow removing more than the configured share of a simulation's checkpoints. */
  force?: boolean;
}

/** `POST /prune`'s answer: the plans of a dry run, or the jobs of a real run. */
export type PruneResult =
  { dryRun: true; plans: PrunePlan[] } | { dryRun: false; runId: string; jobs: Job[] };

/** Options of calls that start work: the key that makes a retry safe. */
export interface StartOptions {
  /** Sent as `Idempotency-Key`; a fresh one per call when absent (reused by the call's retries). */
  idempotencyKey?: string;
}

/** How `jobs.wait` polls. */
export interface WaitOptions {
  /** Give up after this long (default 10 minutes) with a `SimsnapTimeoutError`. */
  timeoutMs?: number;
  /** Time between polls (default 2 seconds). */
  intervalMs?: number;
  /** Called with the job after every poll, for progress displays. */
  onPoll?: (job: Job) => void;
  signal?: AbortSignal;
}
