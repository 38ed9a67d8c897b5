import { needsThaw, snapshotFileName } from "../../domain/archive.ts";
import type { S3Location } from "../../domain/checkpoint.ts";
import { RetryLaterError } from "../../domain/errors.ts";
import type { Job } from "../../domain/job.ts";
import { restoredSnapshotKey, type RestoreProgress } from "../../domain/restore.ts";
import { ownershipRefusal } from "../../domain/snapshot-key.ts";
import {
  isOwnArchive,
  restoreProvider,
  sourceRefusal,
  type PhaseResult,
  type RestoreDeps,
} from "./restore-deps.ts";
import { copyVerified } from "../archive/verified-copy.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";

/**
 * The `locating` phase of a checkpoint a platform holds: it must still be COMPLETE there (the
 * platform may have deleted it since the request); there is no other copy to fall back on.
 */
export async function locateOnPlatform(job: Job, deps: RestoreDeps): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint?.platformId) {
    return {
      kind: "fail",
      error: { code: "NotFound", message: `Checkpoint ${job.checkpointId} no longer exists` },
    };
  }
  const provider = await restoreProvider(job, deps);
  const held = await heldCheckpointsOf(provider).get(checkpoint.platformId);
  if (checkpoint.state !== "COMPLETE" || held?.state !== "COMPLETE") {
    return {
      kind: "fail",
      error: {
        code: "NothingToRestore",
        message: `Checkpoint ${checkpoint.id} is ${held ? held.state : "unknown"} on ${provider.name}${
          checkpoint.state === "COMPLETE" ? "" : ` (${checkpoint.state} in the catalog)`
        }, which holds its only copy`,
      },
    };
  }
  return { kind: "next", changes: { phase: "starting", from: "platform" } };
}

/**
 * The `locating` phase: the hot file when it is still there, else the archive copy (thawed first
 * when cold). Checked again here, not only on request, because the file may have been pruned and
 * the settings changed since.
 */
export async function locate(job: Job, deps: RestoreDeps): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint) {
    return {
      kind: "fail",
      error: { code: "NotFound", message: `Checkpoint ${job.checkpointId} no longer exists` },
    };
  }
  if (
    checkpoint.state === "COMPLETE" &&
    checkpoint.location &&
    !ownershipRefusal(checkpoint.location, deps.owned)
  ) {
    if (await deps.storage.describe(checkpoint.location)) {
      return {
        kind: "next",
        changes: { phase: "starting", from: "hot", snapshot: checkpoint.location },
      };
    }
  }
  if (!checkpoint.archive || !isOwnArchive(checkpoint.archive, deps)) {
    return {
      kind: "fail",
      error: {
        code: "NothingToRestore",
        message:
          sourceRefusal(checkpoint, deps) ??
          `Checkpoint ${checkpoint.id} has neither its snapshot file nor an archive copy`,
      },
    };
  }
  return {
    kind: "next",
    changes: {
      phase: "thawing",
      from: "archive",
      source: { bucket: checkpoint.archive.bucket, key: checkpoint.archive.key },
    },
  };
}

/**
 * The `thawing` phase: makes the archive copy readable. Nothing to do for warm storage classes;
 * for cold ones an S3 restore request (once), then waiting until S3 reports the temporary copy
 * ready, since a DEEP_ARCHIVE thaw takes hours and no function may wait that long.
 */
export async function thaw(progress: RestoreProgress, deps: RestoreDeps): Promise<PhaseResult> {
  const source = progress.source as S3Location;
  const archived = await deps.storage.describe(source);
  if (!archived) return archiveMissing(source);
  if (!needsThaw(archived)) return { kind: "next", changes: { phase: "copying" } };
  if (archived.restore?.ongoing) return { kind: "wait", changes: {} };
  await deps.storage.requestRestore(archived, deps.restore.thaw);
  return { kind: "wait", changes: { thawRequestedAt: deps.clock.now().toISOString() } };
}

const archiveMissing = (source: S3Location): PhaseResult => ({
  kind: "fail",
  error: {
    code: "ArchiveMissing",
    message: `The archive copy s3://${source.bucket}/${source.key} is missing`,
  },
});

/**
 * The `copying` phase: copies the (readable) archive back beside the snapshots, where the
 * simulation role reads, and checks the copy before the simulation is started from it.
 */
export async function copyBack(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  const source = progress.source as S3Location;
  const archived = await deps.storage.describe(source);
  if (!archived) return archiveMissing(source);
  if (needsThaw(archived)) return { kind: "next", changes: { phase: "thawing" } };
  const destination = {
    bucket: deps.restore.snapshotBucket,
    key: restoredSnapshotKey(
      deps.restore.snapshotPrefix,
      job.checkpointId ?? job.id,
      snapshotFileName(source),
    ),
  };
  const copy = await copyVerified(deps.storage, archived, destination, {
    storageClass: "STANDARD",
    checksumAlgorithm: deps.restore.checksumAlgorithm,
    contentType: "application/zip",
    metadata: { "simsnap-restore-job": job.id },
  });
  if (!copy.verification.match) {
    throw new RetryLaterError(
      `The copy of s3://${source.bucket}/${source.key} back to s3://${destination.bucket}/${destination.key} does not match: ${copy.verification.detail}`,
      deps.restore.firstCheckSeconds,
    );
  }
  return { kind: "next", changes: { phase: "starting", snapshot: destination } };
}
