import type { Checkpoint } from "../../domain/checkpoint.ts";
import { AppError, ConcurrentModificationError, ConflictError } from "../../domain/errors.ts";
import { checkpointUndeleted } from "../../domain/events.ts";
import { undeleteCheckpoint as undeleted, undeleteRefusal } from "../../domain/trash.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { isObjectSetCheckpoint } from "../files/object-set-checkpoint.ts";
import { copySetBack, removeCopiedBack } from "../files/trash-object-set.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";
import { getCheckpoint } from "./list-checkpoints.ts";
import type { TrashStore } from "./trash-checkpoint.ts";

/** What undeleting a checkpoint needs. */
export interface UndeleteCheckpointDeps {
  checkpoints: CheckpointStore;
  /** Absent in a deployment that keeps no trash: there is nothing to bring back from. */
  store?: TrashStore;
  events: EventPublisher;
  clock: Clock;
  /**
   * The providers by the name a checkpoint records: whether it is a set of objects (its
   * capabilities), and the platform a trashed platform checkpoint is asked about.
   */
  providers?: Pick<ProviderDirectory, "byName">;
  /** The files sources a trashed set is copied back into; none when undefined. */
  files?: FileOwnership;
  /** The files bucket's objects, listed (and deleted, should the purge win) under the sources. */
  fileObjects?: Pick<ObjectStore, "list" | "deleteMany">;
}

/** What an undelete put back, and what it removes once the record says COMPLETE again. */
interface BroughtBack {
  /** The size to record; undefined when the record's stays (a platform's checkpoint). */
  file?: { size: number; etag?: string };
  /** Removes what was copied back, when the purge won the record meanwhile. */
  undo: () => Promise<void>;
  /** Removes the trash copies, once the record no longer points at them. */
  cleanUp: () => Promise<void>;
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
 *
 * A set of objects (its provider's `checkpointStorage: "object-set"`) is copied back the same way,
 * its commit marker last (`copySetBack`), so neither the tool nor discovery sees a half set; the
 * record stays DELETED meanwhile, which discovery leaves alone. A checkpoint its platform kept
 * (`trashOnPlatform`) comes back once the platform confirms it still holds it COMPLETE.
 */
export async function undeleteCheckpoint(
  id: string,
  deps: UndeleteCheckpointDeps,
): Promise<Checkpoint> {
  let current = await getCheckpoint(id, deps);
  if (current.state === "COMPLETE") return current;
  const refusal = undeleteRefusal(current, deps.clock.now());
  if (refusal !== undefined) throw new ConflictError(refusal);
  const back = current.trashOnPlatform
    ? await heldBack(current, deps)
    : current.location && deps.providers && isObjectSetCheckpoint(current, deps.providers)
      ? await setBack(current, deps)
      : await fileBack(current, deps);

  for (let attempt = 1; ; attempt++) {
    const late = undeleteRefusal(current, deps.clock.now());
    if (late !== undefined) {
      // The purge won the record meanwhile: what was copied back must not outlive it.
      await back.undo();
      throw new ConflictError(late);
    }
    const next = undeleted(current, back.file, deps.clock.now());
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
  await back.cleanUp().catch(() => undefined);
  await deps.events.publish([checkpointUndeleted(current)]);
  return current;
}

/** A snapshot file copied back from the trash (see `undeleteCheckpoint`). */
async function fileBack(current: Checkpoint, deps: UndeleteCheckpointDeps): Promise<BroughtBack> {
  const id = current.id;
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

  return {
    file: { size: restored.size, etag: restored.etag },
    undo: async () => {
      if (copiedBack) await store.deleteMany(location.bucket, [location.key]);
    },
    cleanUp: async () => {
      if (copy) await store.deleteMany(trash.bucket, [trash.key]);
    },
  };
}

/** A set of objects copied back from its trash folder, marker last (`copySetBack`). */
async function setBack(current: Checkpoint, deps: UndeleteCheckpointDeps): Promise<BroughtBack> {
  const { store, files, fileObjects } = deps;
  if (!store) throw new ConflictError("This deployment keeps no trash to undelete from");
  if (!current.trash || !current.location || !files || !fileObjects) {
    throw new ConflictError(
      `Checkpoint ${current.id} is a set of files, and this function has no files sources to copy it back into`,
    );
  }
  const set = current.location;
  const trash = current.trash;
  const back = await copySetBack(current, { store, fileObjects, files });
  return {
    file: { size: back.size },
    undo: () => removeCopiedBack(set, back.copiedBack, { fileObjects, files }),
    cleanUp: async () => {
      for (let i = 0; i < back.trashKeys.length; i += MAX_DELETE_KEYS) {
        await store.deleteMany(trash.bucket, back.trashKeys.slice(i, i + MAX_DELETE_KEYS));
      }
    },
  };
}

/**
 * A checkpoint its platform kept while in the trash: brought back only when the platform still
 * holds it COMPLETE (someone may have deleted it there meanwhile); nothing to copy or remove.
 */
async function heldBack(current: Checkpoint, deps: UndeleteCheckpointDeps): Promise<BroughtBack> {
  const platformId = current.platformId;
  if (!platformId || !deps.providers) {
    throw new ConflictError(`Checkpoint ${current.id} names no platform to bring it back from`);
  }
  const held = await heldCheckpointsOf(deps.providers.byName(current.provider)).get(platformId);
  if (held?.state !== "COMPLETE") {
    throw new ConflictError(
      `Checkpoint ${current.id} cannot be undeleted: ${current.provider} ` +
        (held
          ? `reports checkpoint ${platformId} ${held.state}`
          : `no longer holds checkpoint ${platformId}`),
    );
  }
  const nothing = async () => undefined;
  return { undo: nothing, cleanUp: nothing };
}
