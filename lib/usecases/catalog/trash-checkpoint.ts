import type { Checkpoint, S3Location } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import { markCheckpointDeleted } from "../../domain/checkpoint.ts";
import { needsThaw } from "../../domain/archive.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import { trashCheckpoint, trashLocation } from "../../domain/trash.ts";
import type { ArchiveStore } from "../../ports/archive-store.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";

/**
 * The object operations a move to the trash and back needs: server-side copies, deletes, and
 * listings (a set's trash folder).
 */
export type TrashStore = Pick<ArchiveStore, "describe" | "copy" | "deleteMany" | "list">;

/**
 * The trash of a deployment (config `destination.trashDays`): how long a deleted checkpoint
 * stays recoverable (a snapshot file, a set of objects, or a platform's checkpoint whose delete
 * waits), 0 for deletes that are final at once, and the store that moves bytes there and back
 * (an undelete of what an earlier setting trashed still works with 0).
 */
export interface TrashSettings {
  days: number;
  store: TrashStore;
}

/** What moving one checkpoint to the trash needs. */
export interface MoveToTrashDeps {
  checkpoints: CheckpointStore;
  store: TrashStore;
  clock: Clock;
  owned: SnapshotOwnership;
}

/** What one move led to. */
export type TrashOutcome =
  /**
   * DELETED; `checkpoint.trash` holds the bytes, or nothing when the file was already gone.
   * `original`: the file still at its place, for a caller that deletes originals in batches
   * (`removeOriginal: false`); the record no longer needs it.
   */
  | { kind: "trashed"; checkpoint: Checkpoint; original?: S3Location }
  /** The record changed meanwhile so that it must stay (a favorite, another state): untouched. */
  | { kind: "kept" }
  /** Nothing changed in the catalog; the checkpoint stays COMPLETE for a retry. */
  | { kind: "failed"; code: string; message: string };

const ATTEMPTS = 3;

/**
 * Moves a COMPLETE checkpoint's snapshot file to the trash, in the one order that survives a
 * crash between any two writes: copy the file to its trash key and confirm the copy (the MD5
 * ETag S3 answers the copy with, or else its size by a HEAD),
 * then mark the record DELETED with `trash` and `purgeAfter` (conditional write), and only then
 * remove the original. Before the record changes, the catalog's COMPLETE is still true (the
 * original is there); after it, the copy it points to is there; a copy whose record never
 * changed is an orphan the purge removes (`ORPHAN_GRACE_MS`), traceable by the id in its key. A
 * failed delete of the original is not a failure: the record is already right, and the purge
 * removes the original with the copy. `keep` is asked of the re-read record before the catalog
 * changes (a checkpoint marked favorite since it was planned survives). A file already gone is
 * recorded DELETED without a trash, as an S3 delete of a missing key counts as done, and so is
 * one in a cold storage class (Glacier), deleted for good: copying it would need a thaw first.
 * With `removeOriginal: false` the original is left to the caller (`original` in the outcome),
 * which deletes many in one DeleteObjects request; a crash before it leaves what a crash before
 * the single delete leaves.
 */
export async function moveToTrash(
  checkpoint: Checkpoint,
  purgeAfter: Date,
  deps: MoveToTrashDeps,
  keep: (current: Checkpoint) => boolean = () => false,
  options: { removeOriginal: boolean } = { removeOriginal: true },
): Promise<TrashOutcome> {
  const location = checkpoint.location;
  if (!location) return { kind: "failed", code: "NoFile", message: "the checkpoint has no file" };
  const refusal = ownershipRefusal(location, deps.owned);
  const trash = trashLocation(location, checkpoint, deps.owned);
  if (refusal !== undefined || trash === undefined) {
    return { kind: "failed", code: "NotOwned", message: refusal ?? "not an owned snapshot file" };
  }
  let copied = false;
  try {
    const source = await deps.store.describe(location);
    if (source && needsThaw(source)) {
      // A file the bucket's own lifecycle moved to a cold class cannot be copied without a thaw
      // of hours: it is deleted for good, as without a trash, file first and record after.
      const failure = (await deps.store.deleteMany(location.bucket, [location.key])).failed[0];
      if (failure) return { kind: "failed", code: failure.code, message: failure.message };
    } else if (source) {
      const result = await deps.store.copy(source, trash, {
        storageClass: "STANDARD",
        checksumAlgorithm: "CRC64NVME",
        contentType: "application/zip",
        // Whoever finds the copy in the bucket learns whose it is without the catalog.
        metadata: { "simsnap-checkpoint": checkpoint.id, "simsnap-original-key": location.key },
      });
      // S3's answer names the copy's MD5 when it wrote the source's bytes (see `CopyResult`):
      // that confirms the copy; otherwise a HEAD does, by its size.
      const sameBytes =
        source.etag !== undefined && !source.etag.includes("-") && result.etag === source.etag;
      const copy = sameBytes ? source : await deps.store.describe(trash);
      if (!copy || copy.size !== source.size) {
        return {
          kind: "failed",
          code: "TrashCopyMismatch",
          message: `the copy at s3://${trash.bucket}/${trash.key} has ${copy?.size ?? "no"} bytes, the file ${source.size}; the checkpoint stays COMPLETE`,
        };
      }
      copied = true;
    }
  } catch (error) {
    return {
      kind: "failed",
      code: error instanceof Error ? error.name : "Error",
      message: `could not copy s3://${location.bucket}/${location.key} to the trash: ${error instanceof Error ? error.message : String(error)}`,
    };
  }

  // The copy was made of this version's file; a rename since does not change the file.
  const outcome = await recordDeleted(checkpoint, deps, keep, (current, now) =>
    copied ? trashCheckpoint(current, trash, purgeAfter, now) : markCheckpointDeleted(current, now),
  );
  // The original goes only when the record names this copy (another writer's DELETED may not).
  if (outcome.kind !== "trashed" || !copied || outcome.checkpoint.trash?.key !== trash.key) {
    return outcome;
  }
  if (!options.removeOriginal) return { ...outcome, original: location };
  // Best effort: the record already says DELETED and where the bytes are.
  await deps.store.deleteMany(location.bucket, [location.key]).catch(() => undefined);
  return outcome;
}

/**
 * Marks the record DELETED (`next` of the record as re-read after a lost race), unless it must
 * stay (`keep`, or no longer COMPLETE); a record another writer made DELETED counts as done. One
 * conditional write for every kind of checkpoint (a file, an object set, a platform's), so they
 * all lose a race with a favorite or a rename the same way.
 */
export async function recordDeleted(
  checkpoint: Checkpoint,
  deps: { checkpoints: CheckpointStore; clock: Clock },
  keep: (current: Checkpoint) => boolean,
  next: (current: Checkpoint, now: Date) => Checkpoint,
): Promise<Exclude<TrashOutcome, { kind: "failed" }>> {
  let current: Checkpoint | undefined = checkpoint;
  for (let attempt = 1; ; attempt++) {
    if (!current || current.state !== "COMPLETE" || keep(current)) {
      return current?.state === "DELETED"
        ? { kind: "trashed", checkpoint: current }
        : { kind: "kept" };
    }
    const written = next(current, deps.clock.now());
    try {
      await deps.checkpoints.save(written);
      return { kind: "trashed", checkpoint: written };
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      current = await deps.checkpoints.get(checkpoint.id);
    }
  }
}
