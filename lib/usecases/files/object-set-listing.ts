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

/**
 * Runs `work` on `items` with at most `limit` in flight. After the first failure no new item is
 * started and the failure is rethrown once every running item has ended, so nothing keeps copying
 * in the background of a call that has already failed.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (failure === undefined && next < items.length) {
        const item = items[next++] as T;
        try {
          await work(item);
        } catch (error) {
          failure ??= { error };
        }
      }
    }),
  );
  if (failure !== undefined) throw failure.error;
}
