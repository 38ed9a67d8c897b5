import {
  markCheckpointDeleted,
  type Checkpoint,
  type S3Location,
} from "../../domain/checkpoint.ts";
import { AppError, ConflictError } from "../../domain/errors.ts";
import { objectSetSource, type FileOwnership, type ObjectSetRef } from "../../domain/object-set.ts";
import type { SnapshotOwnership } from "../../domain/snapshot-key.ts";
import {
  relativeKeyOfTrashKey,
  setTrashFolder,
  setTrashKey,
  trashCheckpoint,
} from "../../domain/trash.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectInfo, type ObjectStore } from "../../ports/object-store.ts";
import { recordDeleted, type TrashOutcome, type TrashStore } from "../catalog/trash-checkpoint.ts";
import { forEachLimited } from "../for-each-limited.ts";
import { deleteObjectSet } from "./delete-object-set.ts";
import { listObjectSet, type SetMember } from "./object-set-listing.ts";

/**
 * What moving a set of objects (a files checkpoint) to the trash and back needs: the snapshot
 * bucket's store for the copies (server-side copies both ways, listings of the trash folder), the
 * files bucket's objects (listed and deleted under the sources only), which sets simsnap owns,
 * and where its trash is.
 */
export interface SetTrashDeps {
  checkpoints: CheckpointStore;
  store: TrashStore;
  fileObjects: Pick<ObjectStore, "list" | "deleteMany">;
  files: FileOwnership;
  owned: SnapshotOwnership;
  clock: Clock;
}

/**
 * Copies in flight at once for one set: a DELETE of a set of hundreds of objects fits in the API's
 * 29 s; a larger one that does not is answered 504 and, repeated, copies only what is missing.
 */
const COPY_CONCURRENCY = 16;

/** A copy in the trash folder, by the relative key of the object it holds. */
type Copies = Map<string, ObjectInfo>;

/** The copies in a set's trash folder (one LIST per 1,000), by relative key. */
async function listCopies(store: Pick<TrashStore, "list">, folder: S3Location): Promise<Copies> {
  const copies: Copies = new Map();
  for await (const object of store.list(folder.bucket, folder.key)) {
    const relativeKey = relativeKeyOfTrashKey(folder.key, object.key);
    if (relativeKey !== undefined) copies.set(relativeKey, object);
  }
  return copies;
}

/**
 * True when `copy` holds `member`'s bytes: the same size, written after the member was (a copy
 * is made of the object as it was; a member written after its copy is another object).
 */
const holds = (copy: ObjectInfo | undefined, member: SetMember): boolean =>
  copy !== undefined &&
  copy.size === member.size &&
  (copy.lastModified?.getTime() ?? 0) >= (member.lastModified?.getTime() ?? 0);

/** The key of the set's commit marker, when its source commits with one (a directory set). */
function markerKeyOf(set: ObjectSetRef, files: FileOwnership): string | undefined {
  const owner = objectSetSource(set, files);
  if ("refusal" in owner) return undefined;
  const { commit } = owner.source;
  return commit.kind === "marker" && set.key.endsWith("/") ? set.key + commit.marker : undefined;
}

/**
 * Deletes keys of the files bucket, the commit marker first in a request of its own (S3 deletes
 * one request's keys in no promised order: a tool must never see the marker beside a partial
 * set), the rest in batches of 1,000. Answers the keys S3 refused; nothing more after a refused
 * marker.
 */
async function deleteMarkerFirst(
  objects: Pick<ObjectStore, "deleteMany">,
  bucket: string,
  keys: readonly string[],
  markerKey: string | undefined,
): Promise<string[]> {
  const refused: string[] = [];
  if (markerKey !== undefined && keys.includes(markerKey)) {
    const outcome = await objects.deleteMany(bucket, [markerKey]);
    if (outcome.failed.length > 0) return outcome.failed.map((f) => f.key);
  }
  const rest = keys.filter((key) => key !== markerKey);
  for (let i = 0; i < rest.length; i += MAX_DELETE_KEYS) {
    const outcome = await objects.deleteMany(bucket, rest.slice(i, i + MAX_DELETE_KEYS));
    refused.push(...outcome.failed.map((f) => f.key));
  }
  return refused;
}

/**
 * Removes what is left of a trashed set at its own key: the objects its trash copies hold (see
 * `holds`), marker first. Objects written there since (a tool that wrote a new checkpoint under
 * the same name) are no copy's, and stay. Called right after a move, again by a retried prune or
 * DELETE after a crash between the record and this step, and by the purge; a listing decides
 * each time, so it never deletes twice what is gone. Answers the keys S3 refused.
 */
export async function removeTrashedOriginals(
  checkpoint: Checkpoint,
  deps: Pick<SetTrashDeps, "fileObjects" | "files"> & { store: Pick<TrashStore, "list"> },
  known?: { members: SetMember[]; copies: Copies },
): Promise<string[]> {
  const set = checkpoint.location;
  const folder = checkpoint.trash;
  if (!set || !folder || !folder.key.endsWith("/")) return [];
  const { members } = known ?? (await listObjectSet(deps.fileObjects, set));
  if (members.length === 0) return [];
  const copies = known?.copies ?? (await listCopies(deps.store, folder));
  const doomed = members.filter((m) => holds(copies.get(m.relativeKey), m)).map((m) => m.key);
  return deleteMarkerFirst(deps.fileObjects, set.bucket, doomed, markerKeyOf(set, deps.files));
}

/**
 * Moves a COMPLETE set of objects to the trash, in the order that survives a crash between any
 * two steps: copy every object of the set to its trash folder (`setTrashFolder`, concurrently, at
 * most 16 at once), confirm every copy by a listing of the folder (its size), mark the record
 * DELETED with `trash` (the folder) and `purgeAfter` (a conditional write), and only then delete
 * the originals, the commit marker first (`removeTrashedOriginals`). A run after a crash before
 * the record lists the folder and copies only what is missing; after the record, the retried
 * prune or DELETE (or the purge) removes the originals left. Until the record changes the set is
 * whole at its key and COMPLETE; from then on its copies are whole in the trash. Discovery never
 * re-catalogs it meanwhile: its record exists throughout (COMPLETE, then DELETED), and discovery
 * acts on PENDING records only. A set already gone is recorded DELETED without a trash, and so
 * is one S3 cannot copy because the bucket's lifecycle moved it to a cold class (Glacier): it is
 * deleted for good, marker first (`deleteObjectSet`), as a cold snapshot file is (`moveToTrash`).
 */
export async function moveSetToTrash(
  checkpoint: Checkpoint,
  purgeAfter: Date,
  deps: SetTrashDeps,
  keep: (current: Checkpoint) => boolean = () => false,
): Promise<TrashOutcome> {
  const set = checkpoint.location;
  if (!set) return { kind: "failed", code: "NoFile", message: "the checkpoint has no objects" };
  const owner = objectSetSource(set, deps.files);
  if ("refusal" in owner) return { kind: "failed", code: "NotOwned", message: owner.refusal };
  const folder = setTrashFolder(checkpoint, deps.owned);
  let members: SetMember[];
  let copies: Copies;
  try {
    members = (await listObjectSet(deps.fileObjects, set)).members;
    copies = await listCopies(deps.store, folder);
    const missing = members.filter((m) => !holds(copies.get(m.relativeKey), m));
    await forEachLimited(missing, COPY_CONCURRENCY, async (member) => {
      await deps.store.copy(
        { ...member, storageClass: "STANDARD" },
        { bucket: folder.bucket, key: setTrashKey(folder.key, member.relativeKey) },
        {
          storageClass: "STANDARD",
          checksumAlgorithm: "CRC64NVME",
          // Whoever finds the copy in the bucket learns whose it is without the catalog.
          metadata: { "simsnap-checkpoint": checkpoint.id },
        },
      );
    });
    if (missing.length > 0) copies = await listCopies(deps.store, folder);
  } catch (error) {
    if (error instanceof Error && error.name === "InvalidObjectState") {
      return deleteColdSet(checkpoint, set, deps, keep);
    }
    return {
      kind: "failed",
      code: error instanceof Error ? error.name : "Error",
      message: `could not copy s3://${set.bucket}/${set.key} to the trash: ${error instanceof Error ? error.message : String(error)}; the checkpoint stays COMPLETE`,
    };
  }
  const unconfirmed = members.filter((m) => !holds(copies.get(m.relativeKey), m));
  if (unconfirmed.length > 0) {
    return {
      kind: "failed",
      code: "TrashCopyMismatch",
      message: `${unconfirmed.length} of ${members.length} objects of s3://${set.bucket}/${set.key} have no copy of their size in s3://${folder.bucket}/${folder.key} (e.g. ${unconfirmed[0]?.key}); the checkpoint stays COMPLETE`,
    };
  }

  const outcome = await recordDeleted(checkpoint, deps, keep, (current, now) =>
    members.length > 0
      ? trashCheckpoint(current, folder, purgeAfter, now)
      : markCheckpointDeleted(current, now),
  );
  // Best effort: the record already says DELETED and where the copies are; what S3 keeps here
  // is removed by a retry or the purge.
  if (outcome.kind === "trashed" && members.length > 0) {
    await removeTrashedOriginals(outcome.checkpoint, deps, { members, copies }).catch(
      () => undefined,
    );
  }
  return outcome;
}

/**
 * A set S3 cannot copy (an object in a cold storage class): deleted for good, marker first, then
 * recorded DELETED without a trash, only once a listing shows nothing left of it.
 */
async function deleteColdSet(
  checkpoint: Checkpoint,
  set: S3Location,
  deps: SetTrashDeps,
  keep: (current: Checkpoint) => boolean,
): Promise<TrashOutcome> {
  const current = await deps.checkpoints.get(checkpoint.id);
  if (!current || current.state !== "COMPLETE" || keep(current)) {
    return current?.state === "DELETED"
      ? { kind: "trashed", checkpoint: current }
      : { kind: "kept" };
  }
  const result = await deleteObjectSet(set, { objects: deps.fileObjects, owned: deps.files });
  if (result.outcome !== "deleted") {
    const first = result.failed[0];
    return {
      kind: "failed",
      code: first?.code ?? "ObjectSetNotDeleted",
      message: `a set in a cold storage class is deleted for good, but ${result.remaining.length} objects remain under s3://${set.bucket}/${set.key}; the checkpoint stays COMPLETE`,
    };
  }
  return recordDeleted(current, deps, () => false, markCheckpointDeleted);
}

/**
 * Copies a trashed set back to its own key for an undelete and confirms it, every object but the
 * commit marker first (concurrently) and the marker last, so the tool and discovery never see a
 * half set as whole. Objects already back (a retried undelete, or originals a move never
 * removed) are not copied again. Refused (409) when the set's key holds objects that are not the
 * trashed ones (a tool wrote a new checkpoint there since), or when the bytes are gone from both
 * places. Answers the set's total bytes, what was copied back (for the caller to remove again
 * when the purge wins the record), and the trash copies (to remove once the record is COMPLETE).
 */
export async function copySetBack(
  checkpoint: Checkpoint,
  deps: Pick<SetTrashDeps, "store" | "fileObjects" | "files">,
): Promise<{ size: number; copiedBack: string[]; trashKeys: string[] }> {
  const set = checkpoint.location as S3Location;
  const folder = checkpoint.trash as S3Location;
  const id = checkpoint.id;
  const owner = objectSetSource(set, deps.files);
  if ("refusal" in owner) {
    throw new ConflictError(`Checkpoint ${id} cannot be undeleted by simsnap: ${owner.refusal}`);
  }
  const copies = await listCopies(deps.store, folder);
  const present = new Map(
    (await listObjectSet(deps.fileObjects, set)).members.map((m) => [m.relativeKey, m]),
  );
  const foreign = [...present.values()].filter(
    (m) => copies.size > 0 && copies.get(m.relativeKey)?.size !== m.size,
  );
  if (foreign.length > 0) {
    throw new ConflictError(
      `Checkpoint ${id} cannot be undeleted: s3://${set.bucket}/${set.key} now holds ` +
        `${foreign.length} object(s) that are not its own (${foreign
          .slice(0, 3)
          .map((m) => m.key)
          .join(", ")}); a tool wrote there since`,
    );
  }
  if (copies.size === 0) {
    // A trash folder gone with the set still whole at its key (a move that stopped before it
    // removed the originals, then lost its copies) is the set: it is taken as it is.
    const bytes = [...present.values()].reduce((sum, m) => sum + m.size, 0);
    if (present.size > 0 && bytes === checkpoint.size) {
      return { size: bytes, copiedBack: [], trashKeys: [] };
    }
    throw new ConflictError(
      `Checkpoint ${id} cannot be undeleted: its objects are gone from the trash ` +
        `(s3://${folder.bucket}/${folder.key}) and from s3://${set.bucket}/${set.key}`,
    );
  }
  const destinationOf = (relativeKey: string): string =>
    set.key.endsWith("/") ? set.key + relativeKey : set.key;
  const markerKey = markerKeyOf(set, deps.files);
  const missing = [...copies].filter(([relativeKey, copy]) => {
    const there = present.get(relativeKey);
    return there === undefined || there.size !== copy.size;
  });
  const copiedBack: string[] = [];
  const copyBack = async ([relativeKey, copy]: [string, ObjectInfo]) => {
    const key = destinationOf(relativeKey);
    await deps.store.copy(
      { ...copy, storageClass: "STANDARD" },
      { bucket: set.bucket, key },
      { storageClass: "STANDARD", checksumAlgorithm: "CRC64NVME" },
    );
    copiedBack.push(key);
  };
  await forEachLimited(
    missing.filter(([relativeKey]) => destinationOf(relativeKey) !== markerKey),
    COPY_CONCURRENCY,
    copyBack,
  );
  const back = new Map(
    (await listObjectSet(deps.fileObjects, set)).members.map((m) => [m.relativeKey, m]),
  );
  const wrong = [...copies].filter(
    ([relativeKey, copy]) =>
      destinationOf(relativeKey) !== markerKey && back.get(relativeKey)?.size !== copy.size,
  );
  const marker = missing.find(([relativeKey]) => destinationOf(relativeKey) === markerKey);
  if (wrong.length === 0 && marker !== undefined) {
    await copyBack(marker);
    const [relativeKey, copy] = marker;
    const markerBack = (await listObjectSet(deps.fileObjects, set)).members.find(
      (m) => m.relativeKey === relativeKey,
    );
    if (markerBack?.size !== copy.size) wrong.push(marker);
  }
  if (wrong.length > 0) {
    throw new AppError(
      `The copy back to s3://${set.bucket}/${set.key} misses ${wrong.length} of ${copies.size} ` +
        `objects (e.g. ${destinationOf(wrong[0]?.[0] ?? "")}); the checkpoint stays DELETED, try again`,
    );
  }
  return {
    size: [...copies.values()].reduce((sum, copy) => sum + copy.size, 0),
    copiedBack,
    trashKeys: [...copies.values()].map((copy) => copy.key),
  };
}

/**
 * Removes what an undelete copied back, marker first, when the purge won the record meanwhile:
 * the objects must not outlive a deletion that is final.
 */
export async function removeCopiedBack(
  set: S3Location,
  keys: readonly string[],
  deps: Pick<SetTrashDeps, "fileObjects" | "files">,
): Promise<void> {
  await deleteMarkerFirst(deps.fileObjects, set.bucket, keys, markerKeyOf(set, deps.files));
}

/** Every key of a set's trash folder, for the purge to delete in batches. */
export async function trashFolderKeys(
  store: Pick<TrashStore, "list">,
  folder: S3Location,
): Promise<string[]> {
  return [...(await listCopies(store, folder)).values()].map((copy) => copy.key);
}
