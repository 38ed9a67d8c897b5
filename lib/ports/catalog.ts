import type { Checkpoint, S3Location } from "../domain/checkpoint.ts";
import type { Job, JobKind } from "../domain/job.ts";

/**
 * A file's identity in maps keyed by location (`CheckpointStore.locationOwners`): bucket names
 * hold no `/`, so `bucket/key` names one object and no other.
 */
export const locationId = (location: S3Location): string => `${location.bucket}/${location.key}`;

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
 * What the catalog keeps about one simulation on its registry item, so that a tick over a whole
 * fleet reads one item per simulation (100 to a request) instead of a listing each.
 */
export interface SimulationRecord {
  simulation: string;
  /**
   * When its newest checkpoint that was ever COMPLETE was taken (that checkpoint's `createdAt`);
   * absent while none was. Kept by the store as a maximum, so a duplicate or late completion
   * never moves it back.
   */
  newestCompletedAt?: string;
  /**
   * When its first checkpoint was asked for (that checkpoint's `createdAt`; a backfilled record
   * may hold a later time, never after `newestCompletedAt`, since it is read only while no
   * checkpoint has completed). Absent on a registry
   * item written before the store kept these fields: such a record is untracked, and its
   * `newestCompletedAt` cannot be trusted until `backfillSimulationRecord` has filled it.
   */
  firstCheckpointAt?: string;
}

/** Tags a provider reported for one simulation, and when it was asked. */
export interface CachedTags {
  tags: Record<string, string>;
  /** ISO-8601. */
  readAt: string;
}

/**
 * Simulations' tags as last read from their provider, kept in the catalog table so a schedule
 * tick asks the provider only for the simulations whose tags it has not read lately, not for
 * every simulation at every tick. Keys name a simulation's incarnation (its ARN and creation
 * time), so a simulation deleted and created again under the same name is read afresh.
 */
export interface TagCache {
  /** The cached entries of these keys (100 to a catalog request); a missing key is absent. */
  get(keys: readonly string[]): Promise<Map<string, CachedTags>>;
  /** Replaces these entries (25 to a catalog request). */
  put(entries: ReadonlyMap<string, CachedTags>): Promise<void>;
}

/**
 * The checkpoint catalog. Every write is conditional: `create` only when absent, `save` only when
 * the stored version is `next.version - 1`, otherwise `ConcurrentModificationError`.
 */
export interface CheckpointStore {
  /** Creates the record; returns false (and changes nothing) when its id already exists. */
  create(checkpoint: Checkpoint): Promise<boolean>;
  get(id: string): Promise<Checkpoint | undefined>;
  /**
   * The current records of these ids, read as consistently as `get` but 100 to a catalog request:
   * a prune re-reads every checkpoint right before deleting its file (a favorite set since the
   * plan must survive), and one read per checkpoint made that its largest cost. An id without a
   * record is absent from the map.
   */
  getMany(ids: readonly string[]): Promise<Map<string, Checkpoint>>;
  save(next: Checkpoint): Promise<void>;
  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>>;
  /**
   * Binds a file to one checkpoint, first come first served, and returns the owner's id. This is
   * the uniqueness constraint that keeps one snapshot file from completing two checkpoints.
   */
  claimLocation(location: S3Location, checkpointId: string): Promise<string>;
  /**
   * The files claimed for this checkpoint (`claimLocation`, `reassignLocation`), read from an
   * index a moment behind the claims. A claim is written before the checkpoint records its file,
   * so a crash in between leaves a file claimed by a checkpoint that never names it: whoever ends
   * that checkpoint looks here to finish or hand on what the claim decided. Claims written before
   * this lookup existed are not found.
   */
  claimsOf(checkpointId: string): Promise<S3Location[]>;
  /**
   * Hands a file's claim from checkpoint `from` to `to`, only while `from` holds it (a
   * conditional write), and returns the owner afterwards (undefined when nobody claims the file).
   * A checkpoint that fails without ever
   * naming its claimed file hands the claim to the file's `discovered` record, so the file is
   * cataloged on its own instead of held forever by a record that says nothing of it.
   */
  reassignLocation(location: S3Location, from: string, to: string): Promise<string | undefined>;
  /**
   * The owners of these files' claims (`claimLocation`), 100 to a catalog request, keyed by
   * `locationId`; a file nobody claimed is absent. A claim is written before any record names
   * the file and is never removed, so this is how a scan of the bucket finds, in batches, the
   * snapshot files the catalog does not know without reading every checkpoint.
   */
  locationOwners(locations: readonly S3Location[]): Promise<Map<string, string>>;
  /**
   * Every simulation that has ever had a checkpoint, sorted by name: the daily prune must reach
   * simulations that no longer run, which the provider no longer lists.
   */
  listSimulations(): Promise<string[]>;
  /**
   * The registry records of these simulations, 100 to a catalog request; a simulation that never
   * had a checkpoint has none. The store keeps them as checkpoints are created and complete.
   */
  simulationRecords(simulations: readonly string[]): Promise<Map<string, SimulationRecord>>;
  /**
   * Fills an untracked record (one without `firstCheckpointAt`) with what a full read of the
   * simulation's checkpoints found, once: it changes nothing when the record is already tracked
   * or a completion since then recorded a newer `newestCompletedAt`.
   */
  backfillSimulationRecord(record: SimulationRecord): Promise<void>;
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
   * Jobs of a simulation, open and finished, that started between `from` and `to` (inclusive),
   * oldest first. For binding a snapshot file: the jobs whose windows could hold its stamp, ended
   * ones included, started within a range a few hours wide (`bindingJobsStartedWithin`), which
   * the `byCreated` index reads without touching the simulation's older history.
   */
  listStartedWithin(
    simulation: string,
    range: { from: Date; to: Date },
    kind?: JobKind,
  ): Promise<Job[]>;
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
