import {
  markCheckpointDeleted,
  type Checkpoint,
  type ErrorInfo,
  type S3Location,
} from "../../domain/checkpoint.ts";
import {
  AppError,
  ConcurrentModificationError,
  ConflictError,
  IllegalTransitionError,
} from "../../domain/errors.ts";
import { checkpointDeleted } from "../../domain/events.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type { ObjectStore } from "../../ports/object-store.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { deletedByPlatform } from "../../domain/platform-checkpoint.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";
import { getCheckpoint } from "./list-checkpoints.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import { deleteObjectSet } from "../files/delete-object-set.ts";
import { isObjectSetCheckpoint, objectSetRefusal } from "../files/object-set-checkpoint.ts";
import { purgeAfterFor, trashHeldCheckpoint } from "../../domain/trash.ts";
import { moveSetToTrash, removeTrashedOriginals } from "../files/trash-object-set.ts";
import {
  moveToTrash,
  recordDeleted,
  type TrashOutcome,
  type TrashSettings,
} from "./trash-checkpoint.ts";

/** What deleting a checkpoint needs. */
export interface DeleteCheckpointDeps {
  checkpoints: CheckpointStore;
  objects: Pick<ObjectStore, "deleteMany">;
  /** The provider a platform-held checkpoint names, whose delete removes it. */
  providers: Pick<ProviderDirectory, "byName">;
  events: EventPublisher;
  clock: Clock;
  /** Only files in here are deleted; see `ownershipRefusal`. */
  owned: SnapshotOwnership;
  /** The files sources whose checkpoints (sets of objects) may be deleted; none when undefined. */
  files?: FileOwnership;
  /** The files bucket's objects, listed and deleted under the sources' prefixes only. */
  fileObjects?: Pick<ObjectStore, "list" | "deleteMany">;
  /**
   * The trash: above 0 days, a snapshot file is moved there (`moveToTrash`), a set of objects
   * too (`moveSetToTrash`), and a platform's checkpoint keeps its bytes on the platform until
   * the purge (`trashHeldCheckpoint`), instead of being deleted.
   */
  trash?: TrashSettings;
}

const ATTEMPTS = 3;

/**
 * A person deletes a checkpoint: only a COMPLETE one, and a favorite only when forced. The file
 * goes first and the record becomes DELETED after, so a failure in between leaves a COMPLETE
 * record that a retry finishes (S3 deletes are idempotent), never a DELETED record whose file
 * still exists. Once the file is gone, a record changed meanwhile (a rename, a favorite mark) is
 * re-read and marked DELETED all the same: it describes a file that no longer exists. Deleting a
 * DELETED checkpoint again returns it unchanged, so a retried DELETE succeeds like the first. The
 * archive copy, if any, is left to its own lifecycle. A checkpoint whose file lies outside the
 * locations simsnap owns (cataloged from another tool's prefix by an older version) is refused,
 * file and record untouched, even with force: force overrides a favorite, not ownership. A
 * checkpoint a platform holds (`platformId`) is deleted through that platform, and marked DELETED
 * only once the platform confirms (reads it back DELETED, or no longer knows it); one the
 * platform had already deleted itself is marked with that reason. A checkpoint that is a set of
 * objects another tool wrote is deleted as retention deletes one (`deleteSet`). With a trash
 * (`deps.trash`) each kind goes there instead (see `DeleteCheckpointDeps.trash`), and the
 * checkpoint can be undeleted until its `purgeAfter`; a DELETE repeated after a crash between a
 * move's record and its removal of the originals removes what is left of them.
 */
export async function deleteCheckpoint(
  id: string,
  options: { force: boolean },
  deps: DeleteCheckpointDeps,
): Promise<Checkpoint> {
  let current = await getCheckpoint(id, deps);
  if (current.state === "DELETED") {
    await removeLeftovers(current, deps);
    return current;
  }
  if (current.state !== "COMPLETE") {
    throw new IllegalTransitionError(
      `Checkpoint ${id} is ${current.state}; only COMPLETE checkpoints can be deleted`,
    );
  }
  if (current.favorite && !options.force) {
    throw new ConflictError(
      `Checkpoint ${id} is a favorite; unfavorite it first or delete it with force=true`,
    );
  }
  const trash = deps.trash && deps.trash.days > 0 ? deps.trash : undefined;
  let reason: ErrorInfo | undefined;
  if (current.platformId) {
    reason = await deleteHeld(current, current.platformId, options, deps, trash);
    if (trash && reason === undefined) return trashOne(current, options, deps, trash, "held");
  } else if (current.location && isObjectSetCheckpoint(current, deps.providers)) {
    if (trash) return trashOne(current, options, deps, trash, "set");
    await deleteSet(current, current.location, deps);
  } else if (current.location) {
    const refusal = ownershipRefusal(current.location, deps.owned);
    if (refusal) {
      throw new ConflictError(`Checkpoint ${id} cannot be deleted by simsnap: ${refusal}`);
    }
    if (trash) return trashOne(current, options, deps, trash, "file");
    const { bucket, key } = current.location;
    const failure = (await deps.objects.deleteMany(bucket, [key])).failed[0];
    if (failure) {
      throw new AppError(
        `Could not delete s3://${bucket}/${key}: ${failure.code} ${failure.message}`,
      );
    }
  }
  for (let attempt = 1; ; attempt++) {
    const deleted = markCheckpointDeleted(current, deps.clock.now(), reason);
    try {
      await deps.checkpoints.save(deleted);
      await deps.events.publish([checkpointDeleted(deleted)]);
      return deleted;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      current = await getCheckpoint(id, deps);
      if (current.state === "DELETED") return current;
    }
  }
}

/**
 * Removes what a move to the trash left at a checkpoint's place when it died after its record (a
 * snapshot file, or objects of a set), so a repeated DELETE finishes the job; best effort, as the
 * purge removes the rest.
 */
async function removeLeftovers(checkpoint: Checkpoint, deps: DeleteCheckpointDeps): Promise<void> {
  const location = checkpoint.location;
  if (!checkpoint.trash || checkpoint.purgedAt !== undefined || !location) return;
  if (isObjectSetCheckpoint(checkpoint, deps.providers)) {
    const setDeps = setTrashDeps(deps);
    if (setDeps) await removeTrashedOriginals(checkpoint, setDeps).catch(() => undefined);
  } else if (ownershipRefusal(location, deps.owned) === undefined) {
    await deps.objects.deleteMany(location.bucket, [location.key]).catch(() => undefined);
  }
}

/** The ports a set's move to the trash needs, or undefined without the files bucket or a trash. */
function setTrashDeps(deps: DeleteCheckpointDeps) {
  if (!deps.trash || deps.files === undefined || deps.fileObjects === undefined) return undefined;
  return {
    checkpoints: deps.checkpoints,
    store: deps.trash.store,
    fileObjects: deps.fileObjects,
    files: deps.files,
    owned: deps.owned,
    clock: deps.clock,
  };
}

/**
 * Deletes every object of a checkpoint another tool wrote (`deleteObjectSet`: the commit marker
 * first, then DeleteObjects batches of 1,000) and returns only once a listing shows none left, so
 * the caller marks it DELETED; a refusal (not a whole checkpoint of a configured source) is a 409
 * touching nothing, and objects S3 keeps are a 500 that leaves the record COMPLETE: the marker is
 * gone by then, so discovery does not take the remains as whole, and a retried DELETE finishes.
 */
async function deleteSet(
  checkpoint: Checkpoint,
  location: S3Location,
  deps: DeleteCheckpointDeps,
): Promise<void> {
  const refusal = objectSetRefusal(location, deps.files);
  if (refusal !== undefined || deps.files === undefined || deps.fileObjects === undefined) {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} cannot be deleted by simsnap: ${refusal ?? "this function has no access to the files bucket"}`,
    );
  }
  const result = await deleteObjectSet(location, { objects: deps.fileObjects, owned: deps.files });
  if (result.outcome === "refused") {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} cannot be deleted by simsnap: ${result.reason}`,
    );
  }
  if (result.outcome !== "deleted") {
    const first = result.failed[0];
    throw new AppError(
      `Could not delete every object of s3://${location.bucket}/${location.key}: ` +
        `${result.remaining.length} remain` +
        (first ? ` (${first.key}: ${first.code} ${first.message})` : "") +
        "; the checkpoint stays COMPLETE, try again",
    );
  }
}

/**
 * Deletes a platform-held checkpoint on its platform and confirms it: answers the reason to
 * record when the platform had deleted it itself, undefined when simsnap's delete did it, and
 * throws when the platform keeps it (a PENDING checkpoint cannot be deleted; an unconfirmed
 * delete is retried by the caller's next request). A favorite on the platform not yet mirrored
 * is guarded like one in the catalog. With a `trash`, a checkpoint the platform holds COMPLETE
 * is not deleted there (the caller records it trashed; the purge deletes it).
 */
async function deleteHeld(
  checkpoint: Checkpoint,
  platformId: string,
  options: { force: boolean },
  deps: DeleteCheckpointDeps,
  trash: TrashSettings | undefined,
): Promise<ErrorInfo | undefined> {
  const held = heldCheckpointsOf(deps.providers.byName(checkpoint.provider));
  const before = await held.get(platformId);
  if (!before || before.state === "DELETED") {
    return deletedByPlatform(checkpoint.provider, platformId);
  }
  if (before.favorite && !options.force) {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} is a favorite on ${checkpoint.provider}; unfavorite it first or delete it with force=true`,
    );
  }
  if (before.state !== "COMPLETE") {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} is ${before.state} on ${checkpoint.provider}, which deletes only COMPLETE checkpoints`,
    );
  }
  if (trash) return undefined;
  await held.delete(platformId);
  const after = await held.get(platformId);
  if (after && after.state !== "DELETED") {
    throw new AppError(
      `${checkpoint.provider} accepted the delete of checkpoint ${platformId} but still reports it ${after.state}; try again`,
    );
  }
  return undefined;
}

/**
 * The trash's delete: moves the file there (`moveToTrash`), or the set's objects
 * (`moveSetToTrash`), or records a platform's checkpoint trashed on its platform, and publishes
 * `Checkpoint Deleted` with where it waits and until when. A record changed meanwhile into a
 * favorite is refused as one found at the start; a move that failed leaves the checkpoint
 * COMPLETE, to be tried again.
 */
async function trashOne(
  checkpoint: Checkpoint,
  options: { force: boolean },
  deps: DeleteCheckpointDeps,
  trash: TrashSettings,
  kind: "file" | "set" | "held",
): Promise<Checkpoint> {
  const purgeAfter = purgeAfterFor(deps.clock.now(), trash.days);
  const keep = (current: Checkpoint) => current.favorite && !options.force;
  let outcome: TrashOutcome;
  if (kind === "held") {
    outcome = await recordDeleted(checkpoint, deps, keep, (current, now) =>
      trashHeldCheckpoint(current, purgeAfter, now),
    );
  } else if (kind === "set") {
    const setDeps = setTrashDeps(deps);
    const refusal = checkpoint.location && objectSetRefusal(checkpoint.location, deps.files);
    if (refusal || !setDeps) {
      throw new ConflictError(
        `Checkpoint ${checkpoint.id} cannot be deleted by simsnap: ${refusal || "this function has no access to the files bucket"}`,
      );
    }
    outcome = await moveSetToTrash(checkpoint, purgeAfter, setDeps, keep);
  } else {
    outcome = await moveToTrash(checkpoint, purgeAfter, { ...deps, store: trash.store }, keep);
  }
  if (outcome.kind === "failed") {
    throw new AppError(
      `Could not move checkpoint ${checkpoint.id} to the trash: ${outcome.code} ${outcome.message}`,
    );
  }
  if (outcome.kind === "kept") {
    const current = await getCheckpoint(checkpoint.id, deps);
    throw new ConflictError(
      current.favorite
        ? `Checkpoint ${checkpoint.id} is a favorite; unfavorite it first or delete it with force=true`
        : `Checkpoint ${checkpoint.id} is ${current.state}; only COMPLETE checkpoints can be deleted`,
    );
  }
  await deps.events.publish([checkpointDeleted(outcome.checkpoint)]);
  return outcome.checkpoint;
}
