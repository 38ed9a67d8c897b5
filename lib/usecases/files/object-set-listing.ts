import { membership, type ObjectSetRef } from "../../domain/object-set.ts";
import type { ObjectInfo, ObjectStore } from "../../ports/object-store.ts";

/** A listed object of a set, with its key relative to the set. */
export interface SetMember extends ObjectInfo {
  relativeKey: string;
}

/** What a listing of one set shows: its objects, and those under it simsnap never touches. */
export interface SetListing {
  members: SetMember[];
  leftAlone: { key: string; reason: string }[];
}

/**
 * Lists one set: only under its own key (never a whole source or bucket), keeping the objects
 * `membership` assigns to it. Delete, archive and restore all start here, so they agree on what
 * a checkpoint is made of.
 */
export async function listObjectSet(
  objects: Pick<ObjectStore, "list">,
  set: ObjectSetRef,
): Promise<SetListing> {
  const listing: SetListing = { members: [], leftAlone: [] };
  for await (const object of objects.list(set.bucket, set.key)) {
    const member = membership(set.key, object.key);
    if (member?.kind === "member") listing.members.push({ ...object, ...member });
    if (member?.kind === "left-alone") {
      listing.leftAlone.push({ key: object.key, reason: member.reason });
    }
  }
  return listing;
}
