import {
  completeCheckpoint,
  failCheckpoint,
  type Checkpoint,
  type ErrorInfo,
  type S3Location,
} from "../../domain/checkpoint.ts";
import { checkpointCompleted, checkpointFailed } from "../../domain/events.ts";
import { deterministicId } from "../../domain/ids.ts";
import type { SnapshotDeadlineTiming } from "../../domain/job-deadline.ts";
import { failJob, isJobFinished, succeedJob, type Job } from "../../domain/job.ts";
import { bindingJobsStartedWithin } from "../../domain/snapshot-binding.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type { ObjectStore } from "../../ports/object-store.ts";

/** The ports every step of a snapshot job writes through. */
export interface SnapshotJobPorts {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  events: EventPublisher;
  clock: Clock;
}

/** The id of a file's `discovered` record: one per file, whoever registers it. */
export const discoveredCheckpointId = (location: S3Location): string =>
  deterministicId("discovered", location.bucket, location.key);

/**
 * Ends a snapshot job as failed: the checkpoint becomes FAILED with the reason, then the job.
 * A file the checkpoint claimed but never recorded (a completion cut short between its claim and
 * its checkpoint's write) is handed to its `discovered` record first, so the file is cataloged on
 * its own (by its event's redelivery or the reconciling scan) instead of held by a FAILED record
 * that never names it, unpruned. Each write is conditional and each step skips what is already
 * done, so a retry after a crash finishes the job and a duplicate changes nothing. Returns true
 * when this call failed it.
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
      // Before the FAILED write: a crash after it would leave the claim with a record no one
      // fails again.
      for (const location of await ports.checkpoints.claimsOf(checkpoint.id)) {
        await ports.checkpoints.reassignLocation(
          location,
          checkpoint.id,
          discoveredCheckpointId(location),
        );
      }
      failed = failCheckpoint(checkpoint, error, now);
      await ports.checkpoints.save(failed);
    }
  }
  if (!isJobFinished(job)) await ports.jobs.save(failJob(job, error, now));
  if (failed) await ports.events.publish([checkpointFailed(failed)]);
  return failed !== undefined;
}

/** The ports completing a snapshot writes through, and the object store that confirms its file. */
export interface SnapshotCompletionPorts extends SnapshotJobPorts {
  objects: Pick<ObjectStore, "head">;
}

/** A snapshot file as HEAD found it: what a COMPLETE checkpoint records. */
export interface ConfirmedFile {
  location: S3Location;
  size: number;
  etag?: string;
  /** S3's checksum in the catalog's `algorithm:value` form (as archive checksums are). */
  checksum?: string;
}

/**
 * Confirms that a file announced by an event or a listing is really there, and describes it from
 * S3 itself. Every path to a COMPLETE checkpoint goes through here, so an event for a missing key
 * (forged, replayed after a delete) can never produce one, and a checkpoint records the stored
 * object's size, ETag and checksum rather than what the announcement said.
 */
export async function confirmSnapshotFile(
  location: S3Location,
  objects: Pick<ObjectStore, "head">,
): Promise<ConfirmedFile | undefined> {
  const head = await objects.head({ bucket: location.bucket, key: location.key });
  if (!head) return undefined;
  return {
    location: { bucket: head.bucket, key: head.key },
    size: head.size,
    etag: head.etag,
    checksum: head.checksum && `${head.checksum.algorithm.toLowerCase()}:${head.checksum.value}`,
  };
}

/**
 * What completing a job with a file did: `completed`; `missing` (no such object, nothing changed);
 * `taken` when the file belongs to another checkpoint or the job's checkpoint already has another
 * file (or failed), so the file must be cataloged on its own.
 */
export type JobCompletion = "completed" | "missing" | "taken";

const sameLocation = (a: S3Location | undefined, b: S3Location): boolean =>
  a?.bucket === b.bucket && a.key === b.key;

/**
 * Completes a snapshot job with the file bound to it: the file is confirmed in S3, then claimed
 * for the job's checkpoint (so it can never complete two), then the checkpoint and the job move
 * on. One file per job: a checkpoint that is no longer PENDING takes no other file. A retry after
 * a crash finishes what the first attempt started; a duplicate changes nothing.
 */
export async function completeSnapshotJob(
  job: Job,
  file: S3Location,
  ports: SnapshotCompletionPorts,
): Promise<JobCompletion> {
  const checkpointId = job.checkpointId;
  if (!checkpointId) return "taken";
  const confirmed = await confirmSnapshotFile(file, ports.objects);
  if (!confirmed) return "missing";
  const checkpoint = await ports.checkpoints.get(checkpointId);
  const resuming =
    checkpoint?.state === "COMPLETE" && sameLocation(checkpoint.location, confirmed.location);
  if (checkpoint?.state !== "PENDING" && !resuming) return "taken";
  const owner = await ports.checkpoints.claimLocation(confirmed.location, checkpointId);
  if (owner !== checkpointId) return "taken";
  const now = ports.clock.now();
  let completed: Checkpoint | undefined;
  if (checkpoint.state === "PENDING") {
    completed = completeCheckpoint(checkpoint, confirmed, now);
    await ports.checkpoints.save(completed);
  }
  if (!isJobFinished(job)) {
    await ports.jobs.save(succeedJob(job, now, { objects: 1, bytes: confirmed.size }));
  }
  if (completed) await ports.events.publish([checkpointCompleted(completed)]);
  return "completed";
}

/** What reading the jobs that may have made a file needs: the jobs, and how long a job may call. */
export interface SnapshotBindingPorts {
  jobs: JobStore;
  /** Bounds how far back a job that made a file may have started (`bindingJobsStartedWithin`). */
  timing: SnapshotDeadlineTiming;
}

/**
 * Every snapshot job of `simulation` the binding rule must weigh for files stamped between
 * `stamps.from` and `stamps.to`: the open ones, and the ended ones that started recently enough
 * for their windows to hold such a stamp (so a file of a job that already ended is never bound
 * to an open neighbour). Read together; a job in both lists counts once (`bindSnapshotFile`).
 */
export async function snapshotJobsAround(
  simulation: string,
  stamps: { from: Date; to: Date },
  ports: SnapshotBindingPorts,
): Promise<Job[]> {
  const [open, recent] = await Promise.all([
    ports.jobs.listOpen(simulation, "snapshot"),
    ports.jobs.listStartedWithin(
      simulation,
      bindingJobsStartedWithin(stamps, ports.timing),
      "snapshot",
    ),
  ]);
  return [...open, ...recent];
}

/**
 * Completes a job with a file its checkpoint already claimed: a completion that claimed the file
 * and died before the checkpoint's write decided the binding, on a file it had confirmed. Each
 * claimed file is confirmed again with HEAD (`completeSnapshotJob`), so one deleted since is not
 * recorded. For whoever is about to fail the job, which would otherwise throw that decision away.
 */
export async function completeFromClaims(
  job: Job,
  ports: SnapshotCompletionPorts,
): Promise<boolean> {
  if (!job.checkpointId) return false;
  for (const location of await ports.checkpoints.claimsOf(job.checkpointId)) {
    if ((await completeSnapshotJob(job, location, ports)) === "completed") return true;
  }
  return false;
}
