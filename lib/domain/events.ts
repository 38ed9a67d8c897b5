import type { Checkpoint } from "./checkpoint.ts";
import type { Job } from "./job.ts";

/**
 * A domain event as published on the `simsnap` bus: a fact about checkpoints and jobs, so it is
 * the domain's to define; the publisher port and its adapters only carry it.
 */
export interface DomainEvent {
  detailType: string;
  detail: Record<string, unknown>;
}

/**
 * Detail schema version of every simsnap event. Consumers match on it; a breaking change to a
 * detail bumps it, so subscribers are never surprised by a new shape under an old version.
 */
export const EVENT_SCHEMA_VERSION = "1";

const checkpointSummary = (checkpoint: Checkpoint) => ({
  id: checkpoint.id,
  simulation: checkpoint.simulation,
  provider: checkpoint.provider,
  platformId: checkpoint.platformId,
  name: checkpoint.name,
  state: checkpoint.state,
  trigger: checkpoint.trigger,
  favorite: checkpoint.favorite,
  tags: checkpoint.tags,
  createdAt: checkpoint.createdAt,
  completedAt: checkpoint.completedAt,
  location: checkpoint.location,
  size: checkpoint.size,
  error: checkpoint.error,
  jobId: checkpoint.jobId,
  step: checkpoint.step,
  metrics: checkpoint.metrics,
  trash: checkpoint.trash,
  trashOnPlatform: checkpoint.trashOnPlatform,
  purgeAfter: checkpoint.purgeAfter,
});

/** A snapshot was asked of the provider: the checkpoint is PENDING, its job RUNNING. */
export const snapshotRequested = (checkpoint: Checkpoint, job: Job): DomainEvent => ({
  detailType: "Snapshot Requested",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    checkpoint: checkpointSummary(checkpoint),
    jobId: job.id,
  },
});

/**
 * The checkpoint is COMPLETE: its snapshot file exists (`location`), or the platform holding it
 * (`platformId`) says it is complete.
 */
export const checkpointCompleted = (checkpoint: Checkpoint): DomainEvent => ({
  detailType: "Checkpoint Completed",
  detail: { version: EVENT_SCHEMA_VERSION, checkpoint: checkpointSummary(checkpoint) },
});

/**
 * A checkpoint is gone and its record DELETED: a person deleted it, or the platform holding it
 * did (`checkpoint.error` then says so). With `checkpoint.trash` its file waits there until
 * `checkpoint.purgeAfter` and can be undeleted until then (with `trashOnPlatform`, its platform
 * keeps it until then); without either, the delete is final.
 */
export const checkpointDeleted = (checkpoint: Checkpoint): DomainEvent => ({
  detailType: "Checkpoint Deleted",
  detail: { version: EVENT_SCHEMA_VERSION, checkpoint: checkpointSummary(checkpoint) },
});

/** A DELETED checkpoint came back from the trash: COMPLETE again, its file at its location. */
export const checkpointUndeleted = (checkpoint: Checkpoint): DomainEvent => ({
  detailType: "Checkpoint Undeleted",
  detail: { version: EVENT_SCHEMA_VERSION, checkpoint: checkpointSummary(checkpoint) },
});

/**
 * One purge run made deletions final: the trashed files of these checkpoints, past their
 * `purgeAfter`, are gone (ids capped at `MAX_EVENT_IDS`), and `orphans` trash copies no record
 * pointed at (leftovers of interrupted moves) were removed.
 */
export const checkpointsPurged = (input: {
  purged: string[];
  failed: string[];
  orphans: number;
}): DomainEvent => ({
  detailType: "Checkpoints Purged",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    purgedCount: input.purged.length,
    purged: input.purged.slice(0, MAX_EVENT_IDS),
    failedCount: input.failed.length,
    failed: input.failed.slice(0, MAX_EVENT_IDS),
    orphans: input.orphans,
    truncated: input.purged.length > MAX_EVENT_IDS || input.failed.length > MAX_EVENT_IDS,
  },
});

/** The snapshot could not be taken; `checkpoint.error` says why. */
export const checkpointFailed = (checkpoint: Checkpoint): DomainEvent => ({
  detailType: "Checkpoint Failed",
  detail: { version: EVENT_SCHEMA_VERSION, checkpoint: checkpointSummary(checkpoint) },
});

/** Most ids listed in one pruning event; the full lists are in the report it points to. */
export const MAX_EVENT_IDS = 1000;

/**
 * One retention run removed checkpoints of a simulation. Lists are capped at `MAX_EVENT_IDS`
 * (EventBridge details are limited to 256 KB); the report in S3 has everything, with reasons.
 * `trashed` are the removed ones whose files went to the trash, recoverable until `purgeAfter`;
 * the other removed ones are gone for good.
 */
export const checkpointsPruned = (input: {
  simulation: string;
  jobId: string;
  removed: string[];
  kept: { id: string; reasons: string[] }[];
  failed: string[];
  report: { bucket: string; key: string };
  trashed?: string[];
  purgeAfter?: string;
}): DomainEvent => ({
  detailType: "Checkpoints Pruned",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    simulation: input.simulation,
    jobId: input.jobId,
    removedCount: input.removed.length,
    removed: input.removed.slice(0, MAX_EVENT_IDS),
    kept: input.kept.slice(0, MAX_EVENT_IDS),
    failedCount: input.failed.length,
    failed: input.failed.slice(0, MAX_EVENT_IDS),
    trashedCount: input.trashed?.length ?? 0,
    trashed: (input.trashed ?? []).slice(0, MAX_EVENT_IDS),
    purgeAfter: input.purgeAfter,
    truncated:
      input.removed.length > MAX_EVENT_IDS ||
      input.kept.length > MAX_EVENT_IDS ||
      input.failed.length > MAX_EVENT_IDS,
    report: input.report,
  },
});

/**
 * A checkpoint's file was copied to the archive bucket and verified; the manifest beside it says
 * how. `archive` is where restores read from once the hot file is pruned.
 */
export const checkpointArchived = (
  checkpoint: Checkpoint,
  details: { manifest: { bucket: string; key: string }; checksum: string; copied: boolean },
): DomainEvent => ({
  detailType: "Checkpoint Archived",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    checkpoint: checkpointSummary(checkpoint),
    archive: checkpoint.archive,
    manifest: details.manifest,
    checksum: details.checksum,
    copied: details.copied,
  },
});

/** The restore-specific fields of a restore job's events. */
const restoreSummary = (job: Job) => ({
  jobId: job.id,
  checkpointId: job.checkpointId,
  simulation: job.simulation,
  target: job.restore?.target,
  from: job.restore?.from,
  snapshot: job.restore?.snapshot,
  into: job.restore?.into,
  prefix: job.restore?.prefix,
  uri: job.restore?.uri,
});

/** A restore of a checkpoint into a new simulation was accepted; its job is RUNNING. */
export const restoreRequested = (job: Job): DomainEvent => ({
  detailType: "Restore Requested",
  detail: { version: EVENT_SCHEMA_VERSION, ...restoreSummary(job) },
});

/** The new simulation started from the checkpoint's snapshot; the restore job SUCCEEDED. */
export const checkpointRestored = (job: Job): DomainEvent => ({
  detailType: "Checkpoint Restored",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    ...restoreSummary(job),
    arn: job.restore?.arn,
    executionId: job.restore?.executionId,
  },
});

/** The restore could not be done; `error` says why. */
export const restoreFailed = (job: Job): DomainEvent => ({
  detailType: "Restore Failed",
  detail: { version: EVENT_SCHEMA_VERSION, ...restoreSummary(job), error: job.error },
});

/**
 * simsnap stopped the simulation (or found it already stopped). `finalSnapshot` says how its last
 * checkpoint ended; `forced` marks a stop made although that snapshot failed.
 */
export const simulationStopped = (input: {
  simulation: string;
  jobId: string;
  finalSnapshot: "COMPLETE" | "FAILED" | "SKIPPED";
  checkpointId?: string;
  location?: { bucket: string; key: string };
  forced: boolean;
  alreadyStopped: boolean;
}): DomainEvent => ({
  detailType: "Simulation Stopped",
  detail: { version: EVENT_SCHEMA_VERSION, ...input },
});

/**
 * A stop did not end as asked; `error` says why. Usually the simulation was left running; on a
 * platform that saves the final checkpoint while stopping, the simulation stopped but that
 * checkpoint could not be confirmed, which `error` says.
 */
export const simulationStopFailed = (input: {
  simulation: string;
  jobId: string;
  checkpointId?: string;
  error: { code: string; message: string };
}): DomainEvent => ({
  detailType: "Simulation Stop Failed",
  detail: { version: EVENT_SCHEMA_VERSION, ...input },
});

/**
 * Archive retention removed archive copies of a simulation's checkpoints (their records stay,
 * without `archive`). Lists are capped at `MAX_EVENT_IDS`.
 */
export const archivesPruned = (input: {
  simulation: string;
  removed: string[];
  failed: string[];
}): DomainEvent => ({
  detailType: "Archives Pruned",
  detail: {
    version: EVENT_SCHEMA_VERSION,
    simulation: input.simulation,
    removedCount: input.removed.length,
    removed: input.removed.slice(0, MAX_EVENT_IDS),
    failedCount: input.failed.length,
    failed: input.failed.slice(0, MAX_EVENT_IDS),
    truncated: input.removed.length > MAX_EVENT_IDS || input.failed.length > MAX_EVENT_IDS,
  },
});

/**
 * A restore test ended: `Checkpoint Verified` when the throwaway simulation resumed from the
 * checkpoint (and the user check, if any, passed), `Checkpoint Verification Failed` otherwise,
 * with the detail saying why. The job and throwaway name let a subscriber find the test's logs.
 */
export const checkpointVerification = (
  checkpoint: Checkpoint,
  job: Pick<Job, "id">,
  throwaway: string,
): DomainEvent => {
  const verification = checkpoint.verification;
  return {
    detailType:
      verification?.status === "PASSED" ? "Checkpoint Verified" : "Checkpoint Verification Failed",
    detail: {
      version: EVENT_SCHEMA_VERSION,
      checkpoint: checkpointSummary(checkpoint),
      verification,
      jobId: job.id,
      throwaway,
    },
  };
};
