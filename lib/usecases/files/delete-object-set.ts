import { objectSetSource, type FileOwnership, type ObjectSetRef } from "../../domain/object-set.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import { listObjectSet } from "./object-set-listing.ts";

/** What deleting a set needs: the object store, and which sets simsnap owns. */
export interface DeleteObjectSetDeps {
  objects: Pick<ObjectStore, "list" | "deleteMany">;
  owned: FileOwnership;
}

/** A key S3 did not delete, in S3's words. */
export interface DeleteFailure {
  key: string;
  code: string;
  message: string;
}

/**
 * What one run did. Only `deleted` lets the caller mark the checkpoint DELETED: a listing taken
 * after the deletes shows none of the set's objects. `incomplete` leaves the checkpoint as it is
 * for a later run to finish; `refused` touched nothing.
 */
export interface DeleteObjectSetResult {
  outcome: "deleted" | "incomplete" | "refused";
  /** Why nothing was touched, when refused. */
  reason?: string;
  /** Objects this run deleted (a re-run counts only what was left). */
  deleted: number;
  /** True when this run deleted the commit marker (false when it was already gone). */
  markerDeleted: boolean;
  /** DeleteObjects requests this run made (retries of failed keys included). */
  requests: number;
  /** Keys S3 refused to delete, after one retry. */
  failed: DeleteFailure[];
  /** Keys of the set still listed after the deletes (the failed ones, or ones written since). */
  remaining: string[];
  /** Objects under the set that simsnap never touches (see `membership`); they stay. */
  leftAlone: { key: string; reason: string }[];
}

/**
 * Deletes every object of one checkpoint another tool wrote, so retention can prune it. Only a
 * whole checkpoint of an owned source is accepted (see `objectSetSource`), and only the objects
 * listed under its own key are deleted. The commit marker goes first, in a request of its own,
 * and the rest only once S3 confirms it gone: S3 deletes the keys of one request in no promised
 * order, and a crash must never leave the marker beside a partial set, which discovery would call
 * COMPLETE. The rest follows in DeleteObjects batches of 1,000 (a 5,000-object checkpoint with a
 * marker: 1 + 5 requests), each key S3 refuses retried once. A fresh listing then decides the
 * outcome, so a run after a crash at any point (the marker gone, some batches done) lists what is
 * left and finishes the job.
 */
export async function deleteObjectSet(
  set: ObjectSetRef,
  deps: DeleteObjectSetDeps,
): Promise<DeleteObjectSetResult> {
  const result: DeleteObjectSetResult = {
    outcome: "incomplete",
    deleted: 0,
    markerDeleted: false,
    requests: 0,
    failed: [],
    remaining: [],
    leftAlone: [],
  };
  const owner = objectSetSource(set, deps.owned);
  if ("refusal" in owner) return { ...result, outcome: "refused", reason: owner.refusal };
  const { commit } = owner.source;
  const listing = await listObjectSet(deps.objects, set);
  result.leftAlone = listing.leftAlone;

  const remove = async (keys: string[]): Promise<DeleteFailure[]> => {
    result.requests++;
    let outcome = await deps.objects.deleteMany(set.bucket, keys);
    result.deleted += outcome.deleted.length;
    if (outcome.failed.length > 0) {
      result.requests++;
      outcome = await deps.objects.deleteMany(
        set.bucket,
        outcome.failed.map((f) => f.key),
      );
      result.deleted += outcome.deleted.length;
    }
    return outcome.failed;
  };

  const markerKey =
    commit.kind === "marker" && set.key.endsWith("/") ? set.key + commit.marker : undefined;
  if (markerKey !== undefined && listing.members.some((m) => m.key === markerKey)) {
    result.failed = await remove([markerKey]);
    if (result.failed.length > 0) {
      // Nothing else is deleted while the marker stands: the set stays whole, and COMPLETE.
      return { ...result, remaining: listing.members.map((m) => m.key) };
    }
    result.markerDeleted = true;
  }
  const rest = listing.members.filter((m) => m.key !== markerKey).map((m) => m.key);
  for (let i = 0; i < rest.length; i += MAX_DELETE_KEYS) {
    result.failed.push(...(await remove(rest.slice(i, i + MAX_DELETE_KEYS))));
  }
  result.remaining = (await listObjectSet(deps.objects, set)).members.map((m) => m.key);
  return { ...result, outcome: result.remaining.length === 0 ? "deleted" : "incomplete" };
}
