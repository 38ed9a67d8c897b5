import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import { checkpointsPurged } from "../../domain/events.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import {
  ORPHAN_GRACE_MS,
  platformPurged,
  purgeCheckpoint,
  purgeDue,
  trashedCheckpointId,
  trashFolders,
  trashHolds,
} from "../../domain/trash.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";
import { isObjectSetCheckpoint } from "../files/object-set-checkpoint.ts";
import { removeTrashedOriginals, trashFolderKeys } from "../files/trash-object-set.ts";
import { forEachLimited } from "../for-each-limited.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";

/** What the purge needs. */
export interface PurgeTrashDeps {
  checkpoints: CheckpointStore;
  objects: Pick<ObjectStore, "list" | "deleteMany">;
  events: EventPublisher;
  clock: Clock;
  owned: SnapshotOwnership;
  /**
   * The providers by the name a checkpoint records: which trashed checkpoints are sets of objects
   * (their capabilities), and the platform whose delete a trashed platform checkpoint waits for.
   */
  providers?: Pick<ProviderDirectory, "byName">;
  /** The files sources, where a move that died half-way may have left a set's objects. */
  files?: FileOwnership;
  /** The files bucket's objects, listed and deleted under the sources only. */
  fileObjects?: Pick<ObjectStore, "list" | "deleteMany">;
}

/** What one purge run did. */
export interface PurgeTrashResult {
  /** Checkpoints whose deletion became final in this run. */
  purged: string[];
  /** Checkpoints due whose bytes S3 would not delete; they stay in the trash for the next run. */
  failed: { id: string; key: string; code: string; message: string }[];
  /** Trash copies no record pointed at (leftovers of an interrupted move or undelete), removed. */
  orphans: string[];
  /**
   * Bytes left in the trash folders after this run (copies of files and sets; a platform's
   * checkpoints are not counted), summed from the listing the orphan sweep makes anyway.
   */
  bytesInTrash: number;
}

const CONCURRENCY = 16;
const ATTEMPTS = 3;

/**
 * Makes deletions final: every DELETED checkpoint whose `purgeAfter` has passed loses its trash
 * copy (and its original file, should a move have stopped before removing it), a set its trash
 * folder (and any of its objects left at its key), and a checkpoint its platform kept is deleted
 * there. The record is marked purged first (conditional write), then the bytes go: the write is
 * where the purge meets an undelete that began before `purgeAfter`, and whichever writes first
 * wins whole (see `undeleteCheckpoint`). The copies go in DeleteObjects requests of up to 1,000
 * keys, gathered over the checkpoints due. A crash after the write leaves a copy no record points
 * at, which the sweep of the trash folders below removes, as it removes the copies of moves and
 * undeletes that stopped half-way, once older than `ORPHAN_GRACE_MS`; a platform's checkpoint
 * keeps `trashOnPlatform` until its platform confirms the delete, so the next run finishes it.
 * Idempotent: a second run finds nothing due.
 */
export async function purgeTrash(deps: PurgeTrashDeps): Promise<PurgeTrashResult> {
  const result: PurgeTrashResult = { purged: [], failed: [], orphans: [], bytesInTrash: 0 };
  const deletes = new TrashDeletes(deps, result);
  for (const simulation of await deps.checkpoints.listSimulations()) {
    const now = deps.clock.now();
    const due = (await loadSimulationCheckpoints(deps.checkpoints, simulation)).filter((c) =>
      purgeDue(c, now),
    );
    await forEachLimited(due, CONCURRENCY, (checkpoint) =>
      purgeOne(checkpoint, deps, result, deletes),
    );
    await deletes.flush(MAX_DELETE_KEYS);
  }
  await deletes.flush(1);
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

/**
 * The keys the purge deletes, gathered by bucket and sent in DeleteObjects requests of up to
 * 1,000 keys, each key's checkpoint kept to report what S3 refused.
 */
class TrashDeletes {
  private readonly byBucket = new Map<string, Map<string, string>>();

  constructor(
    private readonly deps: PurgeTrashDeps,
    private readonly result: PurgeTrashResult,
  ) {}

  add(bucket: string, key: string, id: string): void {
    const keys = this.byBucket.get(bucket) ?? new Map<string, string>();
    keys.set(key, id);
    this.byBucket.set(bucket, keys);
  }

  /** Sends every full batch, or everything with `at` 1. */
  async flush(at: number): Promise<void> {
    for (const [bucket, keys] of this.byBucket) {
      while (keys.size >= at && keys.size > 0) {
        const batch = [...keys.keys()].slice(0, MAX_DELETE_KEYS);
        const outcome = await this.deps.objects.deleteMany(bucket, batch);
        for (const failure of outcome.failed) {
          this.result.failed.push({ id: keys.get(failure.key) ?? "", ...failure });
        }
        for (const key of batch) keys.delete(key);
      }
    }
  }
}

async function purgeOne(
  checkpoint: Checkpoint,
  deps: PurgeTrashDeps,
  result: PurgeTrashResult,
  deletes: TrashDeletes,
): Promise<void> {
  let current: Checkpoint | undefined = checkpoint;
  for (let attempt = 1; ; attempt++) {
    if (!current || !purgeDue(current, deps.clock.now())) return;
    // A platform's checkpoint purged by a run that died before its platform confirmed the delete.
    if (current.purgedAt !== undefined) break;
    try {
      const next = purgeCheckpoint(current, deps.clock.now());
      await deps.checkpoints.save(next);
      [current, checkpoint] = [next, current];
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      current = await deps.checkpoints.get(checkpoint.id);
    }
  }
  if (current.trashOnPlatform) {
    await purgeHeld(current, deps, result);
    return;
  }
  // `checkpoint` is the record as it was before the write: where its bytes are.
  const trash = checkpoint.trash;
  if (!trash) return;
  const original = checkpoint.location;
  if (trash.key.endsWith("/")) {
    const { files, fileObjects, providers } = deps;
    if (original && files && fileObjects && providers) {
      if (isObjectSetCheckpoint(checkpoint, providers)) {
        // Before the copies go: what is left at the set's key is told by them.
        const refused = await removeTrashedOriginals(checkpoint, {
          store: deps.objects,
          fileObjects,
          files,
        });
        for (const key of refused) {
          result.failed.push({ id: current.id, key, code: "NotDeleted", message: "S3 kept it" });
        }
      }
    }
    for (const key of await trashFolderKeys(deps.objects, trash)) {
      deletes.add(trash.bucket, key, current.id);
    }
  } else {
    deletes.add(trash.bucket, trash.key, current.id);
    if (original && ownershipRefusal(original, deps.owned) === undefined) {
      deletes.add(original.bucket, original.key, current.id);
    }
  }
  // The record is final either way; a copy S3 kept is an orphan now, for the next run's sweep.
  result.purged.push(current.id);
}

/**
 * Deletes a purged checkpoint on the platform that kept it (one it deleted itself, or no longer
 * knows, needs nothing), confirms it, and only then drops `trashOnPlatform`; a failure leaves the
 * mark for the next run, reported in `failed`.
 */
async function purgeHeld(
  checkpoint: Checkpoint,
  deps: PurgeTrashDeps,
  result: PurgeTrashResult,
): Promise<void> {
  const platformId = checkpoint.platformId ?? "";
  const key = `${checkpoint.provider}:${platformId}`;
  try {
    if (!deps.providers) throw new Error("this function reaches no platform");
    const held = heldCheckpointsOf(deps.providers.byName(checkpoint.provider));
    const before = await held.get(platformId);
    if (before && before.state !== "DELETED") {
      await held.delete(platformId);
      const after = await held.get(platformId);
      if (after && after.state !== "DELETED") {
        throw new Error(
          `${checkpoint.provider} still reports checkpoint ${platformId} ${after.state}`,
        );
      }
    }
    await deps.checkpoints.save(platformPurged(checkpoint, deps.clock.now()));
    if (!result.purged.includes(checkpoint.id)) result.purged.push(checkpoint.id);
  } catch (error) {
    const code = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    result.failed.push({ id: checkpoint.id, key, code, message });
  }
}

/**
 * Removes trash copies no record points at, older than the grace period: a copy whose move never
 * reached its record, whose undelete removed it from the record but not the bucket, or whose
 * purge stopped after the record. A copy is kept while its checkpoint is DELETED and names it.
 * Each record is read once, however many objects of a set's folder name it; what stays is summed
 * into `bytesInTrash`.
 */
async function sweepOrphans(deps: PurgeTrashDeps, result: PurgeTrashResult): Promise<void> {
  const folders = trashFolders(deps.owned);
  const cutoff = deps.clock.now().getTime() - ORPHAN_GRACE_MS;
  const records = new Map<string, Promise<Checkpoint | undefined>>();
  const recordOf = (id: string) => {
    const known = records.get(id) ?? deps.checkpoints.get(id);
    records.set(id, known);
    return known;
  };
  for (const folder of folders) {
    const orphans = new Map<string, number>();
    for await (const object of deps.objects.list(deps.owned.bucket, folder)) {
      result.bytesInTrash += object.size;
      if ((object.lastModified?.getTime() ?? Number.POSITIVE_INFINITY) > cutoff) continue;
      const id = trashedCheckpointId(object.key, folders);
      const record = id === undefined ? undefined : await recordOf(id);
      const trash = record?.state === "DELETED" ? record.trash : undefined;
      const wanted = trash !== undefined && trashHolds(trash, deps.owned.bucket, object.key);
      if (!wanted) orphans.set(object.key, object.size);
    }
    const keys = [...orphans.keys()];
    for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
      const batch = keys.slice(i, i + MAX_DELETE_KEYS);
      const outcome = await deps.objects.deleteMany(deps.owned.bucket, batch);
      result.orphans.push(...outcome.deleted);
      for (const key of outcome.deleted) result.bytesInTrash -= orphans.get(key) ?? 0;
    }
  }
}
