import { createHash } from "node:crypto";
import {
  archiveKey,
  manifestKey,
  recordArchive,
  snapshotFileName,
  type ArchiveManifest,
  type ArchiveRecord,
  type ArchiveStorageClass,
  type ChecksumAlgorithm,
} from "../../domain/archive.ts";
import { backoffSeconds } from "../../domain/backoff.ts";
import type { Checkpoint, S3Location } from "../../domain/checkpoint.ts";
import {
  ConcurrentModificationError,
  ConfigError,
  NotFoundError,
  RetryLaterError,
} from "../../domain/errors.ts";
import { checkpointArchived } from "../../domain/events.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { ArchiveStore, CopyResult, StoredObject } from "../../ports/archive-store.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { SIMSNAP_VERSION } from "../../version.ts";
import { copyVerified, type Verification, type VerifiedCopy } from "./verified-copy.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import { archiveObjectSet } from "../files/archive-object-set.ts";
import { isObjectSetCheckpoint, objectSetRefusal } from "../files/object-set-checkpoint.ts";

/** Where and how archives are written, from the function's settings. */
export interface ArchiveSettings {
  bucket: string;
  storageClass: ArchiveStorageClass;
  checksumAlgorithm: ChecksumAlgorithm;
  /** First retry delay after a failed verification; doubles with each delivery, up to 15 min. */
  retrySeconds: number;
}

/** What archive-checkpoint needs. */
export interface ArchiveCheckpointDeps {
  checkpoints: CheckpointStore;
  storage: ArchiveStore;
  events: EventPublisher;
  clock: Clock;
  /** Undefined when the deployment configured no archive bucket: archiving then fails loudly. */
  archive: ArchiveSettings | undefined;
  /** Only files in here are copied; a checkpoint of another tool's file is skipped. */
  owned: SnapshotOwnership;
  /** The provider a platform-held checkpoint names, whose capabilities say if it is archivable. */
  providers: Pick<ProviderDirectory, "byName">;
  /**
   * The files sources whose checkpoints (sets of objects other tools wrote) may be archived; a
   * set checkpoint is skipped, with why, when none are configured.
   */
  files?: FileOwnership;
}

/**
 * What one request led to. `missing`: the checkpoint is still COMPLETE and was never archived,
 * but its file is gone (removed outside simsnap): nothing is left to copy, and retrying cannot
 * change that, so the request ends with the reason instead of failing into the dead-letter queue.
 */
export interface ArchiveCheckpointResult {
  outcome: "archived" | "already-archived" | "skipped" | "missing";
  checkpointId: string;
  /** False when an identical copy was already in the archive (a retry after a crash). */
  copied?: boolean;
  /** Size of the archived file, when this request archived it. */
  bytes?: number;
  archive?: ArchiveRecord;
  reason?: string;
}

/** The archive settings, or a `ConfigError` naming the variable that is missing. */
export function requireArchiveSettings(settings: ArchiveSettings | undefined): ArchiveSettings {
  if (!settings) {
    throw new ConfigError(
      "Archiving needs SIMSNAP_ARCHIVE_BUCKET (and optionally SIMSNAP_ARCHIVE_STORAGE_CLASS): it is not set for this function",
    );
  }
  return settings;
}

const SAVE_ATTEMPTS = 3;

/**
 * Deliveries that may find a COMPLETE checkpoint's file gone before the request ends as `missing`:
 * a person's delete removes the file first and marks the record DELETED right after, so the first
 * such delivery waits (`retrySeconds`) for the record to say so.
 */
const MISSING_FILE_DELIVERIES = 2;

/**
 * Why a checkpoint a platform holds is not archived, said plainly rather than pretended: its
 * platform offers no bytes to copy (`archivable: false`, NVIDIA Air), or copying a platform's
 * bytes is not built yet.
 */
function heldRefusal(checkpoint: Checkpoint, deps: ArchiveCheckpointDeps): string {
  const provider = deps.providers.byName(checkpoint.provider);
  return provider.capabilities.archivable
    ? `checkpoint is held by ${provider.name}, and simsnap does not yet copy a platform's checkpoints to the archive`
    : `checkpoint is held by ${provider.name}, whose API offers no checkpoint bytes (archivable: false): it cannot be archived, it stays on ${provider.name} only`;
}

/**
 * Archives one completed checkpoint: copies its snapshot file to
 * `<archive bucket>/<simulation>/<yyyy>/<mm>/<file>` in the configured storage class, proves the
 * copy equals the file (S3 checksums, or streamed SHA-256 digests where the server keeps none),
 * writes the manifest beside it, records the archive on the checkpoint (conditional write) and
 * publishes `Checkpoint Archived`. A copy that does not match is retried with backoff and never
 * recorded. Duplicate deliveries copy nothing: a recorded archive ends the work at once, and an
 * unrecorded but identical copy (a crash after copying) is verified and recorded, not copied again.
 * A file gone before or during the copy is settled by the record (see `fileGone`), never left to
 * fail as S3's NoSuchKey. A checkpoint a platform holds (no file) is skipped with the reason (see
 * `heldRefusal`).
 */
export async function archiveCheckpoint(
  request: { checkpointId: string; attempt?: number },
  deps: ArchiveCheckpointDeps,
): Promise<ArchiveCheckpointResult> {
  const settings = requireArchiveSettings(deps.archive);
  const { checkpointId } = request;
  const checkpoint = await deps.checkpoints.get(checkpointId);
  if (!checkpoint) throw new NotFoundError(`Checkpoint ${checkpointId} does not exist`);
  if (checkpoint.archive) {
    return { outcome: "already-archived", checkpointId, archive: checkpoint.archive };
  }
  if (checkpoint.platformId) {
    return { outcome: "skipped", checkpointId, reason: heldRefusal(checkpoint, deps) };
  }
  if (checkpoint.state !== "COMPLETE" || !checkpoint.location) {
    return {
      outcome: "skipped",
      checkpointId,
      reason: `checkpoint is ${checkpoint.state}${checkpoint.location ? "" : " and has no file"}`,
    };
  }
  if (isObjectSetCheckpoint(checkpoint, deps.providers)) {
    return archiveSet(checkpoint, checkpoint.location, request.attempt ?? 1, deps);
  }
  const refusal = ownershipRefusal(checkpoint.location, deps.owned);
  if (refusal) return { outcome: "skipped", checkpointId, reason: refusal };

  const attempt = request.attempt ?? 1;
  const retryDelay = backoffSeconds(attempt - 1, {
    baseSeconds: settings.retrySeconds,
    maxSeconds: 900,
  });
  const source = await deps.storage.describe(checkpoint.location);
  if (!source) return fileGone(checkpointId, checkpoint.location, attempt, retryDelay, deps);
  const destination = {
    bucket: settings.bucket,
    key: archiveKey(checkpoint, snapshotFileName(checkpoint.location)),
  };
  let copy: VerifiedCopy;
  try {
    copy = await copyVerified(deps.storage, source, destination, {
      storageClass: settings.storageClass,
      checksumAlgorithm: settings.checksumAlgorithm,
      contentType: "application/zip",
      metadata: {
        "simsnap-checkpoint-id": checkpoint.id,
        "simsnap-simulation": checkpoint.simulation,
      },
    });
  } catch (error) {
    // S3 answers NoSuchKey when the file was deleted after it was described (a person deleting
    // the checkpoint meanwhile): asking again tells that apart from any other failure.
    if (await deps.storage.describe(checkpoint.location)) throw error;
    return fileGone(checkpointId, checkpoint.location, attempt, retryDelay, deps);
  }
  if (!copy.verification.match || !copy.copy) {
    throw new RetryLaterError(
      `Archive copy s3://${destination.bucket}/${destination.key} does not match its source: ${copy.verification.detail}`,
      retryDelay,
    );
  }

  const now = deps.clock.now();
  const record: ArchiveRecord = {
    ...destination,
    storageClass: copy.copy.storageClass,
    archivedAt: now.toISOString(),
  };
  const manifest = { bucket: destination.bucket, key: manifestKey(destination.key) };
  await deps.storage.put(
    manifest,
    JSON.stringify(
      buildManifest(checkpoint, source, copy.copy, copy.result, copy.verification, record),
      null,
      2,
    ),
    "application/json",
  );
  const checksum = `${copy.verification.algorithm.toLowerCase()}:${copy.verification.value}`;
  const archived = await saveArchive(checkpoint, record, checksum, deps);
  if (!archived) {
    const current = await deps.checkpoints.get(checkpointId);
    return { outcome: "already-archived", checkpointId, archive: current?.archive };
  }
  await deps.events.publish([
    checkpointArchived(archived, { manifest, checksum, copied: copy.copied }),
  ]);
  return {
    outcome: "archived",
    checkpointId,
    copied: copy.copied,
    archive: record,
    bytes: source.size,
  };
}

/**
 * Archives a checkpoint that is a set of objects another tool wrote (`archiveObjectSet`: every
 * object copied and verified, then the manifest, last) and records it as a file's archive is
 * recorded: `key` is the manifest, with the object count and bytes it lists, and the event's
 * checksum is the SHA-256 of the manifest as written. A set that cannot be archived now (its
 * marker gone: a prune or delete under way; nothing left) is settled by the record read again:
 * archived meanwhile, no longer COMPLETE, or skipped with the reason.
 */
async function archiveSet(
  checkpoint: Checkpoint,
  location: S3Location,
  attempt: number,
  deps: ArchiveCheckpointDeps,
): Promise<ArchiveCheckpointResult> {
  const checkpointId = checkpoint.id;
  const refusal = objectSetRefusal(location, deps.files);
  if (refusal !== undefined || deps.files === undefined) {
    return { outcome: "skipped", checkpointId, reason: refusal ?? "no files sources" };
  }
  const result = await archiveObjectSet(
    {
      ...location,
      checkpointId,
      createdAt: checkpoint.createdAt,
      completedAt: checkpoint.completedAt,
      attempt,
    },
    { storage: deps.storage, archive: deps.archive, owned: deps.files, clock: deps.clock },
  );
  if (result.outcome === "refused") {
    const current = await deps.checkpoints.get(checkpointId);
    if (current?.archive) {
      return { outcome: "already-archived", checkpointId, archive: current.archive };
    }
    const reason =
      current?.state === "COMPLETE"
        ? result.reason
        : `checkpoint is ${current?.state ?? "gone"}: its objects were deleted before they could be archived`;
    return { outcome: "skipped", checkpointId, reason };
  }
  const record: ArchiveRecord = {
    bucket: result.manifest.bucket,
    key: result.manifest.key,
    storageClass: result.archive.storageClass,
    archivedAt: deps.clock.now().toISOString(),
    objects: result.objects,
    bytes: result.bytes,
  };
  const digest = createHash("sha256")
    .update(JSON.stringify(result.written, null, 2))
    .digest("base64");
  const checksum = `sha256:${digest}`;
  const archived = await saveArchive(checkpoint, record, checksum, deps);
  if (!archived) {
    const current = await deps.checkpoints.get(checkpointId);
    return { outcome: "already-archived", checkpointId, archive: current?.archive };
  }
  await deps.events.publish([
    checkpointArchived(archived, {
      manifest: result.manifest,
      checksum,
      copied: result.copied > 0,
    }),
  ]);
  return {
    outcome: "archived",
    checkpointId,
    copied: result.copied > 0,
    archive: record,
    bytes: result.bytes,
  };
}

/**
 * The checkpoint's file is gone, found before copying or by a copy that failed: the record,
 * read again, says why. Archived meanwhile (another delivery): done. No longer COMPLETE (deleted
 * by a person or by retention): skipped, nothing to archive. Still COMPLETE: the first such
 * delivery is retried later, since a delete in progress marks the record DELETED just after
 * removing the file; a later one ends as `missing`, because no retry can bring the file back.
 */
async function fileGone(
  checkpointId: string,
  location: S3Location,
  attempt: number,
  retryDelay: number,
  deps: ArchiveCheckpointDeps,
): Promise<ArchiveCheckpointResult> {
  const current = await deps.checkpoints.get(checkpointId);
  if (!current) throw new NotFoundError(`Checkpoint ${checkpointId} does not exist`);
  if (current.archive) {
    return { outcome: "already-archived", checkpointId, archive: current.archive };
  }
  if (current.state !== "COMPLETE") {
    return {
      outcome: "skipped",
      checkpointId,
      reason: `checkpoint is ${current.state}: its file was deleted before it could be archived`,
    };
  }
  const file = `s3://${location.bucket}/${location.key}`;
  if (attempt < MISSING_FILE_DELIVERIES) {
    throw new RetryLaterError(
      `Snapshot file ${file} of checkpoint ${checkpointId} is missing; retrying in case a delete in progress has yet to mark it DELETED`,
      retryDelay,
    );
  }
  return {
    outcome: "missing",
    checkpointId,
    reason: `snapshot file ${file} is gone, yet the checkpoint is still COMPLETE and was never archived: there is nothing to copy`,
  };
}

/**
 * Records the archive with a versioned write, re-reading after a lost race (a user renaming the
 * checkpoint meanwhile is no reason to copy again). Undefined when another delivery recorded it.
 */
async function saveArchive(
  checkpoint: Checkpoint,
  record: ArchiveRecord,
  checksum: string,
  deps: ArchiveCheckpointDeps,
): Promise<Checkpoint | undefined> {
  let current: Checkpoint | undefined = checkpoint;
  for (let attempt = 1; current && !current.archive; attempt++) {
    const next = recordArchive(current, record, checksum, deps.clock.now());
    try {
      await deps.checkpoints.save(next);
      return next;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= SAVE_ATTEMPTS) throw error;
      current = await deps.checkpoints.get(checkpoint.id);
    }
  }
  return undefined;
}

function buildManifest(
  checkpoint: Checkpoint,
  source: StoredObject,
  copy: StoredObject,
  result: CopyResult | undefined,
  verification: Verification,
  record: ArchiveRecord,
): ArchiveManifest {
  return {
    manifestVersion: "1",
    simsnapVersion: SIMSNAP_VERSION,
    checkpoint: { ...checkpoint, archive: undefined },
    source: {
      bucket: source.bucket,
      key: source.key,
      size: source.size,
      etag: source.etag,
      lastModified: source.lastModified?.toISOString(),
    },
    archive: {
      bucket: record.bucket,
      key: record.key,
      storageClass: record.storageClass,
      size: copy.size,
      copiedWith: result?.copiedWith,
      parts: result?.parts,
    },
    checksum: {
      algorithm: verification.algorithm,
      value: verification.value,
      verification: verification.verification,
    },
    times: {
      checkpointCreatedAt: checkpoint.createdAt,
      checkpointCompletedAt: checkpoint.completedAt,
      archivedAt: record.archivedAt,
    },
  };
}
