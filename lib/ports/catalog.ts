import type { Checkpoint, S3Location } from "../domain/checkpoint.ts";
import type { Job, JobKind } from "../domain/job.ts";

/** One page of a listing; `nextCursor` is opaque and absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** How to page through a simulation's records, ordered by creation time. */
export interface ListOptions {
  limit?: number;
  cursor?: string;
  newestFirst?: boolean;
}

/**
 * The checkpoint catalog. Every write is conditional: `create` only when absent, `save` only when
 * the stored version is `next.version - 1`, otherwise `ConcurrentModificationError`.
 */
export interface CheckpointStore {
  /** Creates the record; returns false (and changes nothing) when its id already exists. */
  create(checkpoint: Checkpoint): Promise<boolean>;
  get(id: string): Promise<Checkpoint | undefined>;
  save(next: Checkpoint): Promise<void>;
  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>>;
  /**
   * Binds a file to one checkpoint, first come first served, and returns the owner's id. This is
   * the uniqueness constraint that keeps one snapshot file from completing two checkpoints.
   */
  claimLocation(location: S3Location, checkpointId: string): Promise<string>;
  /**
   * Every simulation that has ever had a checkpoint, sorted by name: the daily prune must reach
   * simulations that no longer run, which the provider no longer lists.
   */
  listSimulations(): Promise<string[]>;
}

/** The job records, with the same conditional-write contract as the catalog. */
export interface JobStore {
  create(job: Job): Promise<boolean>;
  get(id: string): Promise<Job | undefined>;
  save(next: Job): Promise<void>;
  /** Jobs of a simulation still RUNNING, oldest first. */
  listOpen(simulation: string, kind?: JobKind): Promise<Job[]>;
  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Job>>;
  /**
   * Every job of every simulation, a page at a time, in no particular order (pages may be short;
   * only an absent cursor ends the listing). For views across simulations, such as the API's
   * `GET /jobs` without a simulation: jobs of restored or stopped simulations may have no
   * checkpoint, so the catalog's registry of simulations cannot find them.
   */
  listAll(options?: Pick<ListOptions, "limit" | "cursor">): Promise<Page<Job>>;
  /**
   * Every RUNNING job of every simulation, a page at a time, in no particular order (pages may be
   * short; only an absent cursor ends the listing). For the sweeper, which must find jobs whose
   * messages were lost without reading the finished ones: it reads the sparse `openJobs` index.
   * A job that finishes between two pages simply does not appear on the later one.
   */
  listAllOpen(options?: Pick<ListOptions, "limit" | "cursor">): Promise<Page<Job>>;
}
