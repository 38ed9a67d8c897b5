import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import { checkpointsPurged } from "../../domain/events.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import {
  ORPHAN_GRACE_MS,
  purgeCheckpoint,
  purgeDue,
  trashedCheckpointId,
  trashFolders,
} from "../../domain/trash.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";
import { forEachLimited } from "../for-each-limited.ts";

/** What the purge needs. */
export interface PurgeTrashDeps {
  checkpoints: CheckpointStore;
  objects: Pick<ObjectStore, "list" | "deleteMany">;
  events: EventPublisher;
  clock: Clock;
  owned: SnapshotOwnership;
}

/** What one purge run did. */
export interface PurgeTrashResult {
  /** Checkpoints whose deletion became final in this run. */
  purged: string[];
  /** Checkpoints due whose bytes S3 would not delete; they stay in the trash for the next run. */
  failed: { id: string; key: string; code: string; message: string }[];
  /** Trash copies no record pointed at (leftovers of an interrupted move or undelete), removed. */
  orphans: string[];
}

const CONCURRENCY = 16;
const ATTEMPTS = 3;

/**
 * Makes deletions final: every DELETED checkpoint whose `purgeAfter` has passed loses its trash
 * copy (and its original file, should a move have stopped before removing it). The record is
 * marked purged first (conditional write), then the bytes go: the write is where the purge meets
 * an undelete that began before `purgeAfter`, and whichever writes first wins whole (see
 * `undeleteCheckpoint`). A crash after the write leaves a copy no record points at, which the
 * sweep of the trash folders below removes, as it removes the copies of moves and undeletes that
 * stopped half-way, once older than `ORPHAN_GRACE_MS`. Idempotent: a second run finds nothing due.
 */
export async function purgeTrash(deps: PurgeTrashDeps): Promise<PurgeTrashResult> {
  const result: PurgeTrashResult = { purged: [], failed: [], orphans: [] };
  for (const simulation of await deps.checkpoints.listSimulations()) {
    const now = deps.clock.now();
    const due = (await loadSimulationCheckpoints(deps.checkpoints, simulation)).filter((c) =>
      purgeDue(c, now),
    );
    await forEachLimited(due, CONCURRENCY, (checkpoint) => purgeOne(checkpoint, deps, result));
  }
  await sweepOrphans(deps, result);
  if (result.purged.length > 0 || result.failed.length > 0 || result.orphans.length > 0) {
    await deps.events.publish([
      checkpointsPurged({
        purged: result.purged,
        failed: result.failed.map((f) => f.id),
        orphans: result.orphans.length,
      }),
    ]);
  }
  return result;
}

async function purgeOne(
  checkpoint: Checkpoint,
  deps: PurgeTrashDeps,
  result: PurgeTrashResult,
): Promise<void> {
  let current: Checkpoint | undefined = checkpoint;
  for (let attempt = 1; ; attempt++) {
    if (!current || !purgeDue(current, deps.clock.now())) return;
    try {
      await deps.checkpoints.save(purgeCheckpoint(current, deps.clock.now()));
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      current = await deps.checkpoints.get(checkpoint.id);
    }
  }
  const trash = current.trash;
  if (!trash) return;
  const byBucket = new Map<string, string[]>([[trash.bucket, [trash.key]]]);
  const original = current.location;
  if (original && ownershipRefusal(original, deps.owned) === undefined) {
    byBucket.set(original.bucket, [...(byBucket.get(original.bucket) ?? []), original.key]);
  }
  for (const [bucket, keys] of byBucket) {
    const outcome = await deps.objects.deleteMany(bucket, keys);
    for (const failure of outcome.failed) result.failed.push({ id: current.id, ...failure });
  }
  // The record is final either way; a copy S3 kept is an orphan now, for the next run's sweep.
  result.purged.push(current.id);
}

/**
 * Removes trash copies no record points at, older than the grace period: a copy whose move never
 * reached its record, whose undelete removed it from the record but not the bucket, or whose
 * purge stopped after the record. A copy is kept while its checkpoint is DELETED and names it.
 */
async function sweepOrphans(deps: PurgeTrashDeps, result: PurgeTrashResult): Promise<void> {
  const folders = trashFolders(deps.owned);
  const cutoff = deps.clock.now().getTime() - ORPHAN_GRACE_MS;
  for (const folder of folders) {
    const orphans: string[] = [];
    for await (const object of deps.objects.list(deps.owned.bucket, folder)) {
      if ((object.lastModified?.getTime() ?? Number.POSITIVE_INFINITY) > cutoff) continue;
      const id = trashedCheckpointId(object.key, folders);
      const record = id === undefined ? undefined : await deps.checkpoints.get(id);
      const wanted = record?.state === "DELETED" && record.trash?.key === object.key;
      if (!wanted) orphans.push(object.key);
    }
    for (let i = 0; i < orphans.length; i += MAX_DELETE_KEYS) {
      const batch = orphans.slice(i, i + MAX_DELETE_KEYS);
      const outcome = await deps.objects.deleteMany(deps.owned.bucket, batch);
      result.orphans.push(...outcome.deleted);
    }
  }
}
