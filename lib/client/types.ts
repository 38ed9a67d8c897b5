import type { Checkpoint, CheckpointState } from "../domain/checkpoint.ts";
import type { JobKind, JobStatus } from "../domain/job.ts";
import type { CheckpointOrderField } from "../domain/checkpoint-query.ts";
import type { RetentionPlan } from "../domain/retention.ts";
import type { JobView } from "../http/views.ts";
import type { SimulationOverview } from "../usecases/catalog/list-simulations.ts";

/** A checkpoint as the API returns it. */
export type {
  Checkpoint,
  CheckpointState,
  JobKind,
  JobStatus,
  JobView as Job,
  RetentionPlan as PrunePlan,
  SimulationOverview,
};

/** One page of a listing; pass `nextCursor` back for the next page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

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
  { dryRun: true; plans: RetentionPlan[] } | { dryRun: false; runId: string; jobs: JobView[] };

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
  onPoll?: (job: JobView) => void;
  signal?: AbortSignal;
}
