import type { Checkpoint } from "../../domain/checkpoint.ts";
import { AppError, ConcurrentModificationError, ConflictError } from "../../domain/errors.ts";
import { checkpointUndeleted } from "../../domain/events.ts";
import { undeleteCheckpoint as undeleted, undeleteRefusal } from "../../domain/trash.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import { getCheckpoint } from "./list-checkpoints.ts";
import type { TrashStore } from "./trash-checkpoint.ts";

/** What undeleting a checkpoint needs. */
export interface UndeleteCheckpointDeps {
  checkpoints: CheckpointStore;
  /** Absent in a deployment that keeps no trash: there is nothing to bring back from. */
  store?: TrashStore;
  events: EventPublisher;
  clock: Clock;
}

const ATTEMPTS = 3;

/**
 * Brings a DELETED checkpoint back from the trash to COMPLETE, file and record, in the order that
 * survives a crash between any two writes: copy the trash copy back to the file's own location
 * and confirm it (a HEAD, its size), then mark the record COMPLETE (conditional write), then
 * remove the trash copy. Until the record changes it is DELETED, which is true whatever lies at
 * the location; once it is COMPLETE the file is there; a trash copy left behind is an orphan the
 * purge removes. A repeated undelete returns the COMPLETE checkpoint as it is. The copy is made
 * again only when the file is not already back (a crash after the copy), and when the trash copy
 * is gone but the file is still at its location (a move that stopped before removing it) that
 * file is taken. Refused (409) when there is nothing to bring back: past `purgeAfter`, purged, a
 * delete that was final, or the bytes gone from both places. The record's conditional write is
 * where an undelete and the purge meet: the purge marks the record before it removes bytes, so
 * when the purge wins, the undelete removes the file it copied back and is refused.
 *
 * The copy back raises S3's "Object Created" for the file, as the snapshot did: the location's
 * claim still names this checkpoint, so complete-snapshot answers it as a duplicate.
 */
export async function undeleteCheckpoint(
  id: string,
  deps: UndeleteCheckpointDeps,
): Promise<Checkpoint> {
  let current = await getCheckpoint(id, deps);
  if (current.state === "COMPLETE") return current;
  const refusal = undeleteRefusal(current, deps.clock.now());
  if (refusal !== undefined) throw new ConflictError(refusal);
  const trash = current.trash;
  const location = current.location;
  if (!trash || !location) throw new ConflictError(`Checkpoint ${id} has no file to bring back`);
  const store = deps.store;
  if (!store) throw new ConflictError("This deployment keeps no trash to undelete from");

  const [copy, original] = await Promise.all([store.describe(trash), store.describe(location)]);
  const expected = copy?.size ?? current.size;
  let restored = original && original.size === expected ? original : undefined;
  const copiedBack = !restored && copy !== undefined;
  if (!restored && copy) {
    await store.copy(copy, location, {
      storageClass: "STANDARD",
      checksumAlgorithm: "CRC64NVME",
      contentType: "application/zip",
    });
    restored = await store.describe(location);
    if (!restored || restored.size !== copy.size) {
      throw new AppError(
        `The copy back to s3://${location.bucket}/${location.key} has ${restored?.size ?? "no"} ` +
          `bytes, the trash copy ${copy.size}; the checkpoint stays DELETED, try again`,
      );
    }
  }
  if (!restored) {
    throw new ConflictError(
      `Checkpoint ${id} cannot be undeleted: its bytes are gone from the trash ` +
        `(s3://${trash.bucket}/${trash.key}) and from s3://${location.bucket}/${location.key}`,
    );
  }

  for (let attempt = 1; ; attempt++) {
    const late = undeleteRefusal(current, deps.clock.now());
    if (late !== undefined) {
      // The purge won the record meanwhile: what was copied back must not outlive it.
      if (copiedBack) await store.deleteMany(location.bucket, [location.key]);
      throw new ConflictError(late);
    }
    const next = undeleted(current, { size: restored.size, etag: restored.etag }, deps.clock.now());
    try {
      await deps.checkpoints.save(next);
      current = next;
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      current = await getCheckpoint(id, deps);
      if (current.state === "COMPLETE") return current;
    }
  }
  // Best effort: the record no longer points at the copy, so the purge takes it if this fails.
  if (copy) await store.deleteMany(trash.bucket, [trash.key]).catch(() => undefined);
  await deps.events.publish([checkpointUndeleted(current)]);
  return current;
}
