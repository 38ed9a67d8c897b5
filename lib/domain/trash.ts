/**
 * The trash: a deleted snapshot file is moved (copied, then removed) to a trash folder beside its
 * snapshot folder, `<prefix>/trash/<checkpoint id>/<file>`, and its record becomes DELETED with
 * `trash` and `purgeAfter`; until then an undelete copies it back. A set of objects (a files
 * checkpoint) moves to a folder there, `setTrashFolder`; a checkpoint its platform holds stays
 * there, its delete deferred to the purge (`trashHeldCheckpoint`). A folder of simsnap's own
 * rather than S3 versioning, because the snapshot bucket may be the user's (versioning and its
 * lifecycle rules are the bucket owner's to choose) and the local stack's S3 keeps no versions:
 * copy-then-delete behaves the same on both. The key holds the checkpoint id, so every copy can
 * be traced to its record, and one the purge finds without a record pointing at it is an orphan
 * of a crash, removed once older than `ORPHAN_GRACE_MS`.
 */
import * as z from "zod";
import { IllegalTransitionError } from "./errors.ts";
import { markCheckpointDeleted, type Checkpoint, type S3Location } from "./checkpoint.ts";
import { keySegment, prefixSegments, s3Key, segmentOfSpelling } from "./s3-key.ts";
import { normalizePrefix, snapshotFolder, type SnapshotOwnership } from "./snapshot-key.ts";

/** Days a deleted checkpoint stays recoverable when the config says nothing. */
export const DEFAULT_TRASH_DAYS = 7;

/**
 * Config `destination.trashDays`: how many days a deleted snapshot file stays in the trash before
 * the daily purge removes it for good; 0 deletes at once, as simsnap did before the trash.
 */
export const TrashDaysSchema = z
  .number({ error: "must be a whole number of days, 0 (no trash) to 365" })
  .int("must be a whole number of days, 0 (no trash) to 365")
  .min(0, "must be a whole number of days, 0 (no trash) to 365")
  .max(365, "must be a whole number of days, 0 (no trash) to 365");

const DAY_MS = 86_400_000;

/**
 * How old a trash copy without a record pointing at it must be before the purge removes it: a
 * move or undelete in progress writes its copy before its record, and no step of either runs
 * longer than a function's 15 minutes, so an hour only ever leaves crashes' leftovers.
 */
export const ORPHAN_GRACE_MS = 3_600_000;

/** The trash folder of an owned prefix: `<prefix>/trash/`. */
export const trashFolder = (prefix: string): string =>
  `${s3Key(...prefixSegments(prefix), "trash")}/`;

/**
 * Where the file at `location` waits while its checkpoint is in the trash: the trash folder of
 * the owned prefix whose snapshot folder holds it, under the checkpoint's id and the version of
 * the COMPLETE record it was moved from (`<prefix>/trash/<id>/v<version>/<file>`), so a
 * checkpoint deleted again after an undelete gets a key of its own, never one the purge may be
 * judging an orphan at that moment. Undefined when no
 * owned snapshot folder holds it (then simsnap must not touch it: see `ownershipRefusal`).
 */
export function trashLocation(
  location: S3Location,
  checkpoint: { id: string; version: number },
  owned: SnapshotOwnership,
): S3Location | undefined {
  if (location.bucket !== owned.bucket) return undefined;
  const prefix = owned.prefixes.find((p) => location.key.startsWith(snapshotFolder(p)));
  if (prefix === undefined) return undefined;
  const file = location.key.slice(location.key.lastIndexOf("/") + 1);
  return {
    bucket: location.bucket,
    key: s3Key(
      ...prefixSegments(prefix),
      "trash",
      keySegment(checkpoint.id),
      `v${checkpoint.version}`,
      keySegment(file),
    ),
  };
}

/**
 * Where the objects of a set (a files checkpoint, `checkpointStorage: "object-set"`) wait while
 * it is in the trash: a folder of its own in the snapshot bucket, under the destination prefix
 * (the first owned one), `<prefix>/trash/<id>/v<version>/`, ending in `/`. The files bucket may
 * be another one, and its sources belong to the tools writing there: a trash beside them would
 * be listed as their checkpoints, or deleted by their own retention. The checkpoint id and the
 * record's version give the folder, as `trashLocation` does for one file.
 */
export function setTrashFolder(
  checkpoint: { id: string; version: number },
  owned: SnapshotOwnership,
): S3Location {
  const prefix = prefixSegments(owned.prefixes[0] ?? "");
  return {
    bucket: owned.bucket,
    key: `${s3Key(...prefix, "trash", checkpoint.id, `v${checkpoint.version}`)}/`,
  };
}

/**
 * The trash key of a set's object, by its key relative to the set (see `membership`): each
 * segment spelt by `s3Key`, so a placeholder (`""`, `sub/`) or a `!` survives the round trip.
 */
export const setTrashKey = (folder: string, relativeKey: string): string =>
  folder + s3Key(...relativeKey.split("/"));

/** The relative key a set's trash key holds (`setTrashKey` backwards), or undefined. */
export function relativeKeyOfTrashKey(folder: string, key: string): string | undefined {
  if (!key.startsWith(folder) || key.length === folder.length) return undefined;
  return key.slice(folder.length).split("/").map(segmentOfSpelling).join("/");
}

/**
 * True when `key` is one of the bytes a trashed record's `trash` names: its one file, or an object
 * in its set's folder (a `trash` key ending in `/`).
 */
export const trashHolds = (trash: S3Location, bucket: string, key: string): boolean =>
  trash.bucket === bucket &&
  (trash.key === key || (trash.key.endsWith("/") && key.startsWith(trash.key)));

/** The owned prefixes' trash folders, which the purge lists for orphans. */
export const trashFolders = (owned: SnapshotOwnership): string[] =>
  [...new Set(owned.prefixes.map(normalizePrefix))].map(trashFolder);

/**
 * The checkpoint id a trash key names (`<prefix>/trash/<id>/v<version>/<file>`, or a set's
 * `<prefix>/trash/<id>/v<version>/<spelt path>`, under one of `folders`), or undefined for any
 * other key. Ids are UUIDs, which `keySegment` leaves as is.
 */
export function trashedCheckpointId(key: string, folders: readonly string[]): string | undefined {
  const folder = folders.find((f) => key.startsWith(f));
  if (folder === undefined) return undefined;
  const [id, version, ...path] = key.slice(folder.length).split("/");
  return id && version?.startsWith("v") && path.length > 0 && !path.includes("") ? id : undefined;
}

/** When a checkpoint trashed at `now` is purged, `days` later. */
export const purgeAfterFor = (now: Date, days: number): Date =>
  new Date(now.getTime() + days * DAY_MS);

/**
 * COMPLETE → DELETED with its file kept at `trash` until `purgeAfter`. Only once the copy there is
 * confirmed: the record then says where the bytes are before the original is removed, so a crash
 * at any point leaves either a COMPLETE record with its file, or a DELETED one with its copy.
 */
export const trashCheckpoint = (
  checkpoint: Checkpoint,
  trash: S3Location,
  purgeAfter: Date,
  now: Date,
): Checkpoint => ({
  ...markCheckpointDeleted(checkpoint, now),
  trash,
  purgeAfter: purgeAfter.toISOString(),
});

/**
 * COMPLETE → DELETED for a checkpoint its platform holds (`platformId`), without the platform's
 * delete: no platform keeps a trash simsnap could take a checkpoint back from, so the delete is
 * deferred to the purge after `purgeAfter` (`trashOnPlatform` marks it until the platform
 * confirms it), and an undelete until then only needs the record back.
 */
export const trashHeldCheckpoint = (
  checkpoint: Checkpoint,
  purgeAfter: Date,
  now: Date,
): Checkpoint => ({
  ...markCheckpointDeleted(checkpoint, now),
  trashOnPlatform: true,
  purgeAfter: purgeAfter.toISOString(),
});

/** True when a DELETED record keeps bytes recoverable: a trash copy, or its platform's. */
export const inTrash = (checkpoint: Checkpoint): boolean =>
  checkpoint.state === "DELETED" &&
  (checkpoint.trash !== undefined || checkpoint.trashOnPlatform === true);

/**
 * Why a checkpoint cannot be undeleted now, or undefined when it can (a DELETED record whose
 * bytes wait in the trash and whose `purgeAfter` has not passed). A COMPLETE one needs no
 * undelete; the caller returns it as it is, so a repeated undelete succeeds like the first.
 */
export function undeleteRefusal(checkpoint: Checkpoint, now: Date): string | undefined {
  const id = checkpoint.id;
  if (checkpoint.state !== "DELETED") {
    return `Checkpoint ${id} is ${checkpoint.state}; only a DELETED checkpoint can be undeleted`;
  }
  if (checkpoint.purgedAt !== undefined) {
    return `Checkpoint ${id} was purged at ${checkpoint.purgedAt}: its deletion is final`;
  }
  if (!inTrash(checkpoint)) {
    if (checkpoint.platformId !== undefined) {
      return (
        `Checkpoint ${id} was held by ${checkpoint.provider}, which deleted it (trashDays was 0, ` +
        `or the platform deleted it itself): the platform keeps no trash simsnap can take it back from`
      );
    }
    return (
      `Checkpoint ${id} was deleted for good, not moved to the trash (trashDays was 0, or it ` +
      `was deleted before simsnap kept a trash for its kind, or its file was already gone)`
    );
  }
  if (checkpoint.purgeAfter !== undefined && now.getTime() >= Date.parse(checkpoint.purgeAfter)) {
    return (
      `Checkpoint ${id} is past its purgeAfter (${checkpoint.purgeAfter}): its deletion is ` +
      `final, and the daily purge removes what is left`
    );
  }
  return undefined;
}

/**
 * DELETED → COMPLETE, once the file is back at its location and confirmed by a HEAD (its size
 * as recorded): the record describes the file actually stored, as when it first completed (a
 * set's total bytes; no `file` for a checkpoint its platform kept, whose record is unchanged).
 * The trash fields and a platform's deletion reason go; `verification`, `archive` and the rest stay.
 * It comes back a favorite: a person asked for it back, and the policy that pruned it would
 * otherwise move it to the trash again at the very next prune (a debounced one may already be
 * queued); unfavoriting it hands it back to retention.
 */
export function undeleteCheckpoint(
  checkpoint: Checkpoint,
  file: { size: number; etag?: string } | undefined,
  now: Date,
): Checkpoint {
  const refusal = undeleteRefusal(checkpoint, now);
  if (refusal !== undefined) throw new IllegalTransitionError(refusal);
  const rest: Checkpoint = { ...checkpoint };
  delete rest.trash;
  delete rest.trashOnPlatform;
  delete rest.purgeAfter;
  delete rest.error;
  return {
    ...rest,
    state: "COMPLETE",
    favorite: true,
    ...(file === undefined ? {} : { size: file.size, etag: file.etag ?? checkpoint.etag }),
    version: checkpoint.version + 1,
    modifiedAt: now.toISOString(),
  };
}

/**
 * A trashed checkpoint whose deletion the purge makes final: still DELETED, now with `purgedAt`,
 * written before any byte goes (an undelete from then on is refused). A trash copy's `trash` goes
 * with this write; a platform's `trashOnPlatform` stays until the platform confirms its delete
 * (`platformPurged`), so a purge that dies in between is finished by the next run.
 */
export function purgeCheckpoint(checkpoint: Checkpoint, now: Date): Checkpoint {
  if (!inTrash(checkpoint)) {
    throw new IllegalTransitionError(
      `Checkpoint ${checkpoint.id} is ${checkpoint.state} with nothing in the trash; nothing to purge`,
    );
  }
  const rest: Checkpoint = { ...checkpoint };
  delete rest.trash;
  return {
    ...rest,
    purgedAt: checkpoint.purgedAt ?? now.toISOString(),
    version: checkpoint.version + 1,
    modifiedAt: now.toISOString(),
  };
}

/** A purged checkpoint whose platform confirmed its delete: nothing of it is left anywhere. */
export function platformPurged(checkpoint: Checkpoint, now: Date): Checkpoint {
  const rest: Checkpoint = { ...checkpoint };
  delete rest.trashOnPlatform;
  return { ...rest, version: checkpoint.version + 1, modifiedAt: now.toISOString() };
}

/**
 * True when the purge is due: the checkpoint is in the trash and `purgeAfter` has passed (or a
 * purge already made it final and its platform has yet to confirm the delete).
 */
export const purgeDue = (checkpoint: Checkpoint, now: Date): boolean =>
  inTrash(checkpoint) &&
  (checkpoint.purgeAfter === undefined || Date.parse(checkpoint.purgeAfter) <= now.getTime());
