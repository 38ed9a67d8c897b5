import {
  completeCheckpoint,
  failCheckpoint,
  type Checkpoint,
  type ErrorInfo,
} from "../domain/checkpoint.ts";
import { checkpointCompleted, checkpointFailed } from "../domain/events.ts";
import { failJob, isJobFinished, succeedJob, type Job } from "../domain/job.ts";
import type { CheckpointStore, JobStore } from "../ports/catalog.ts";
import type { Clock, EventPublisher } from "../ports/messaging.ts";
import type { ObjectInfo } from "../ports/object-store.ts";

/** The ports every step of a snapshot job writes through. */
export interface SnapshotJobPorts {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  events: EventPublisher;
  clock: Clock;
}

/** How long after a job started a file may still be stamped earlier (clock skew, provider lag). */
export const SNAPSHOT_TIME_SKEW_MS = 120_000;

/**
 * Ends a snapshot job as failed: the checkpoint becomes FAILED with the reason, then the job.
 * Each write is conditional and each step skips what is already done, so a retry after a crash
 * finishes the job and a duplicate changes nothing. Returns true when this call failed it.
 */
export async function failSnapshotJob(
  job: Job,
  error: ErrorInfo,
  ports: SnapshotJobPorts,
): Promise<boolean> {
  const now = ports.clock.now();
  let failed: Checkpoint | undefined;
  if (job.checkpointId) {
    const checkpoint = await ports.checkpoints.get(job.checkpointId);
    if (checkpoint?.state === "PENDING") {
      failed = failCheckpoint(checkpoint, error, now);
      await ports.checkpoints.save(failed);
    }
  }
  if (!isJobFinished(job)) await ports.jobs.save(failJob(job, error, now));
  if (failed) await ports.events.publish([checkpointFailed(failed)]);
  return failed !== undefined;
}

/**
 * Completes a snapshot job with the file found for it: the file is first bound to the job's
 * checkpoint (so it can never complete two), then the checkpoint and the job move on. Returns
 * false when the file already belongs to another checkpoint.
 */
export async function completeSnapshotJob(
  job: Job,
  file: ObjectInfo,
  ports: SnapshotJobPorts,
): Promise<boolean> {
  const checkpointId = job.checkpointId;
  if (!checkpointId) return false;
  const owner = await ports.checkpoints.claimLocation(file, checkpointId);
  if (owner !== checkpointId) return false;
  const now = ports.clock.now();
  const checkpoint = await ports.checkpoints.get(checkpointId);
  let completed: Checkpoint | undefined;
  if (checkpoint?.state === "PENDING") {
    completed = completeCheckpoint(
      checkpoint,
      { location: { bucket: file.bucket, key: file.key }, size: file.size, etag: file.etag },
      now,
    );
    await ports.checkpoints.save(completed);
  }
  if (!isJobFinished(job)) {
    await ports.jobs.save(succeedJob(job, now, { objects: 1, bytes: file.size }));
  }
  if (completed) await ports.events.publish([checkpointCompleted(completed)]);
  return true;
}
