import type { Checkpoint } from "./checkpoint.ts";
import type { Job } from "./job.ts";
import type { DomainEvent } from "../ports/messaging.ts";

/**
 * Detail schema version of every simsnap event. Consumers match on it; a breaking change to a
 * detail bumps it, so subscribers are never surprised by a new shape under an old version.
 */
export const EVENT_SCHEMA_VERSION = "1";

const checkpointSummary = (checkpoint: Checkpoint) => ({
  id: checkpoint.id,
  simulation: checkpoint.simulation,
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

/** The snapshot file exists and the checkpoint is COMPLETE. */
export const checkpointCompleted = (checkpoint: Checkpoint): DomainEvent => ({
  detailType: "Checkpoint Completed",
  detail: { version: EVENT_SCHEMA_VERSION, checkpoint: checkpointSummary(checkpoint) },
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
 */
export const checkpointsPruned = (input: {
  simulation: string;
  jobId: string;
  removed: string[];
  kept: { id: string; reasons: string[] }[];
  failed: string[];
  report: { bucket: string; key: string };
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
    truncated:
      input.removed.length > MAX_EVENT_IDS ||
      input.kept.length > MAX_EVENT_IDS ||
      input.failed.length > MAX_EVENT_IDS,
    report: input.report,
  },
});
