import {
  completeCheckpoint,
  failCheckpoint,
  type Checkpoint,
  type S3Location,
} from "../../domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import { checkpointCompleted, checkpointFailed, type DomainEvent } from "../../domain/events.ts";
import { decideCommit, type PendingReason } from "../../domain/file-commit.ts";
import {
  FILES_PROVIDER,
  fileCheckpointId,
  MAX_SIDECAR_BYTES,
  newFileCheckpoint,
  simulationOfCheckpoint,
} from "../../domain/file-discovery.ts";
import {
  classifyKey,
  groupCheckpoints,
  readMetrics,
  sidecarFiles,
  type FileSource,
  type ListedObject,
  type ListedUpload,
  type SeenCheckpoint,
} from "../../domain/file-source.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type { ObjectStore } from "../../ports/object-store.ts";

/**
 * What discovery needs: listings (objects and uploads in progress) and sidecars of the files
 * bucket, the catalog, events, time.
 */
export interface DiscoverCheckpointsDeps {
  objects: Pick<ObjectStore, "list" | "listUploads" | "getText">;
  checkpoints: CheckpointStore;
  events: EventPublisher;
  clock: Clock;
}

/** A checkpoint still PENDING after this run, and when time alone may change that. */
export interface PendingCheckpoint {
  id: string;
  key: string;
  reason: PendingReason;
  /** Schedule a re-check then: a settle or quiet period ends (ISO 8601). */
  recheckAt?: string;
}

/** What one discovery run did to the catalog. Running it again on the same bucket changes nothing. */
export interface DiscoveryResult {
  /** Records created PENDING by this run. */
  created: string[];
  /**
   * Records this run moved PENDING → COMPLETE (a Checkpoint Completed event each), with the
   * objects and bytes the confirming listing showed.
   */
  completed: { id: string; objects: number; bytes: number }[];
  /** Records this run moved PENDING → FAILED: every object vanished (a Checkpoint Failed each). */
  failed: string[];
  /** Checkpoints left PENDING, with the reason and when to look again. */
  pending: PendingCheckpoint[];
  /** The earliest `recheckAt` of `pending`, for the caller to schedule one re-run. */
  recheckAt?: string;
  /** Checkpoints seen whose record needed no write (COMPLETE, or PENDING as before). */
  unchanged: number;
  /** Keys that are no checkpoint of a source, or a checkpoint that cannot be filed, and why. */
  skipped: { key: string; reason: string }[];
}

/**
 * A discovery that found nothing yet: each run fills its own, and callers with nothing to scan
 * (no files sources configured) answer it as it is.
 */
export const emptyDiscovery = (): DiscoveryResult => ({
  created: [],
  completed: [],
  failed: [],
  pending: [],
  unchanged: 0,
  skipped: [],
});

/**
 * Makes the catalog agree with the checkpoints another tool wrote under the configured source
 * prefixes of one bucket, and only there (each source's prefix is listed; never the bucket).
 * A checkpoint first seen gets a PENDING record; it becomes COMPLETE only when its source's commit
 * rule says so, confirmed by a fresh listing of its own prefix at that moment (object count and
 * bytes, so a scan that took minutes cannot complete a checkpoint from a stale view) with its
 * metrics read from the sidecar then; a COMPLETE record is never touched again. A PENDING record
 * whose objects all vanished (the tool deleted a half-written checkpoint) becomes FAILED with the
 * reason. Every write is conditional, so a run racing another, or an S3 event, loses cleanly.
 */
export async function discoverCheckpoints(
  owned: FileOwnership,
  deps: DiscoverCheckpointsDeps,
): Promise<DiscoveryResult> {
  const result = emptyDiscovery();
  for (const source of owned.sources) {
    const seen = await listUnder(owned.bucket, source, `${source.prefix}/`, deps);
    const seenKeys = new Set<string>();
    for (const checkpoint of seen) {
      seenKeys.add(checkpoint.key);
      await reconcile(owned.bucket, source, checkpoint.key, checkpoint, false, deps, result);
    }
    for (const record of await pendingRecordsOf(owned.bucket, source, deps.checkpoints)) {
      const key = record.location?.key;
      if (key === undefined || seenKeys.has(key)) continue;
      // Not in this listing: confirm with a listing of its own before failing it, since an S3
      // event may have cataloged it after the scan's listing passed its key.
      const now = await listCheckpoint(owned.bucket, source, key, deps);
      await reconcile(owned.bucket, source, key, now, true, deps, result);
    }
  }
  return finish(result);
}

/**
 * Discovery for one S3 event: re-lists just the checkpoint `location` belongs to (its directory,
 * or its single object) and reconciles that record, so an event costs one small listing, never a
 * source scan. Created and removed objects go through the same rules as a scan; a key of no
 * checkpoint (a temporary name, another prefix, another bucket) is skipped unread.
 */
export async function discoverCheckpointOfKey(
  owned: FileOwnership,
  location: S3Location,
  deps: DiscoverCheckpointsDeps,
): Promise<DiscoveryResult> {
  const result = emptyDiscovery();
  const skip = (reason: string) => {
    result.skipped.push({ key: location.key, reason });
    return result;
  };
  if (location.bucket !== owned.bucket) return skip(`outside the files bucket ${owned.bucket}`);
  const source = owned.sources.find((s) => location.key.startsWith(`${s.prefix}/`));
  if (source === undefined) return skip("under no configured source prefix");
  const match = classifyKey(source, location.key);
  if (match === undefined) {
    return skip(`no checkpoint of source ${source.prefix} (layout, temporary name or bad path)`);
  }
  const seen = await listCheckpoint(owned.bucket, source, match.checkpointKey, deps);
  await reconcile(owned.bucket, source, match.checkpointKey, seen, true, deps, result);
  return finish(result);
}

function finish(result: DiscoveryResult): DiscoveryResult {
  const times = result.pending.flatMap((p) => (p.recheckAt === undefined ? [] : [p.recheckAt]));
  if (times.length > 0) result.recheckAt = times.reduce((a, b) => (a < b ? a : b));
  return result;
}

/** What a listing of one checkpoint's own key shows of it (undefined: nothing at all). */
async function listCheckpoint(
  bucket: string,
  source: FileSource,
  checkpointKey: string,
  deps: DiscoverCheckpointsDeps,
): Promise<SeenCheckpoint | undefined> {
  // A single object's key is also the prefix of longer keys (`a.ckpt.bak`): keep its own group.
  return (await listUnder(bucket, source, checkpointKey, deps)).find(
    (group) => group.key === checkpointKey,
  );
}

/**
 * The checkpoints a listing of `prefix` shows: its multipart uploads in progress and its objects,
 * grouped by checkpoint. Uploads are listed first: one that completes between the two listings
 * then shows up twice (as an upload and as its object, which only delays the commit), never as
 * neither, which could let a checkpoint missing its largest file pass for whole.
 */
async function listUnder(
  bucket: string,
  source: FileSource,
  prefix: string,
  deps: DiscoverCheckpointsDeps,
): Promise<SeenCheckpoint[]> {
  const uploads: ListedUpload[] = [];
  for await (const upload of deps.objects.listUploads(bucket, prefix)) {
    uploads.push({ key: upload.key, initiated: upload.initiated });
  }
  const objects: ListedObject[] = [];
  for await (const object of deps.objects.list(bucket, prefix)) {
    objects.push({
      key: object.key,
      size: object.size,
      lastModified: object.lastModified ?? deps.clock.now(),
    });
  }
  return groupCheckpoints(source, objects, uploads);
}

/**
 * The PENDING records of `source`'s checkpoints. The catalog is indexed by simulation only, so
 * this reads every simulation's records; a sparse index of PENDING files records would make it
 * cheap (see docs/files-provider.md).
 */
async function pendingRecordsOf(
  bucket: string,
  source: FileSource,
  store: CheckpointStore,
): Promise<Checkpoint[]> {
  const pending: Checkpoint[] = [];
  for (const simulation of await store.listSimulations()) {
    let cursor: string | undefined;
    do {
      const page = await store.listBySimulation(simulation, cursor ? { cursor } : {});
      for (const record of page.items) {
        if (
          record.provider === FILES_PROVIDER &&
          record.state === "PENDING" &&
          record.location?.bucket === bucket &&
          record.location.key.startsWith(`${source.prefix}/`)
        ) {
          pending.push(record);
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return pending;
}

/** `seen` when anything of it is there (an object, or an upload in progress), else undefined. */
const nonEmpty = (seen: SeenCheckpoint | undefined): SeenCheckpoint | undefined =>
  seen !== undefined && (seen.objects.length > 0 || seen.uploads.length > 0) ? seen : undefined;

/**
 * The one rule for one checkpoint: create it PENDING when new; complete it when its commit rule
 * says so (confirmed by a fresh listing unless `seen` is one); fail it when nothing is left of it
 * while PENDING; otherwise leave it. A lost conditional write means another run got there first.
 */
async function reconcile(
  bucket: string,
  source: FileSource,
  checkpointKey: string,
  listed: SeenCheckpoint | undefined,
  listedNow: boolean,
  deps: DiscoverCheckpointsDeps,
  result: DiscoveryResult,
): Promise<void> {
  const id = fileCheckpointId(bucket, checkpointKey);
  let record = await deps.checkpoints.get(id);
  if (record !== undefined && record.state !== "PENDING") {
    result.unchanged++;
    return;
  }
  let fresh = listedNow;
  let seen = nonEmpty(listed);
  if (seen === undefined && record !== undefined && !fresh) {
    seen = nonEmpty(await listCheckpoint(bucket, source, checkpointKey, deps));
    fresh = true;
  }
  if (seen === undefined) {
    if (record !== undefined) await failVanished(bucket, checkpointKey, record, deps, result);
    return;
  }
  let present: SeenCheckpoint = seen;

  let created = false;
  if (record === undefined) {
    const filed = simulationOfCheckpoint(source, present.fields);
    if ("refusal" in filed) {
      result.skipped.push({ key: checkpointKey, reason: filed.refusal });
      return;
    }
    const firstWrite = present.objects.reduce<Date | undefined>(
      (first, o) => (first === undefined || o.lastModified < first ? o.lastModified : first),
      undefined,
    );
    const now = deps.clock.now();
    const draft = newFileCheckpoint({
      bucket,
      source,
      checkpointKey,
      fields: present.fields,
      simulation: filed.simulation,
      firstWrite: firstWrite ?? now,
      now,
    });
    created = await deps.checkpoints.create(draft);
    record = created ? draft : await deps.checkpoints.get(id);
    if (record === undefined || record.state !== "PENDING") {
      result.unchanged++;
      return;
    }
    if (created) result.created.push(id);
  }

  let decision = decideCommit(source.commit, present, deps.clock.now());
  if (decision.state === "COMPLETE" && !fresh) {
    // Confirm at this moment: the scan's listing may be minutes old.
    const again = nonEmpty(await listCheckpoint(bucket, source, checkpointKey, deps));
    if (again === undefined) {
      await failVanished(bucket, checkpointKey, record, deps, result);
      return;
    }
    present = again;
    decision = decideCommit(source.commit, present, deps.clock.now());
  }
  if (decision.state === "PENDING") {
    result.pending.push({
      id,
      key: checkpointKey,
      reason: decision.reason,
      ...(decision.recheckAt === undefined ? {} : { recheckAt: decision.recheckAt.toISOString() }),
    });
    if (!created) result.unchanged++;
    return;
  }
  await complete(bucket, source, checkpointKey, record, present, deps, result);
}

/** PENDING → FAILED for a checkpoint of which nothing is left, with the reason. */
async function failVanished(
  bucket: string,
  checkpointKey: string,
  record: Checkpoint,
  deps: DiscoverCheckpointsDeps,
  result: DiscoveryResult,
): Promise<void> {
  const next = failCheckpoint(
    record,
    {
      code: "CheckpointVanished",
      message: `Every object under s3://${bucket}/${checkpointKey} was deleted before the checkpoint was committed`,
    },
    deps.clock.now(),
  );
  if (await saved(deps, next, checkpointFailed(next))) result.failed.push(record.id);
  else result.unchanged++;
}

/**
 * PENDING → COMPLETE with what the confirming listing shows: the objects' total bytes as `size`
 * (and their count in the result; the record has no field for it) and the metrics read from the
 * sidecars now, since a tool writes its sidecar as part of the checkpoint and never after.
 */
async function complete(
  bucket: string,
  source: FileSource,
  checkpointKey: string,
  record: Checkpoint,
  seen: SeenCheckpoint,
  deps: DiscoverCheckpointsDeps,
  result: DiscoveryResult,
): Promise<void> {
  const files = new Map<string, string>();
  for (const file of sidecarFiles(source)) {
    if (!seen.objects.some((o) => o.relativePath === file)) continue;
    const text = await deps.objects.getText(
      { bucket, key: checkpointKey + file },
      MAX_SIDECAR_BYTES,
    );
    if (text !== undefined) files.set(file, text);
  }
  const metrics = readMetrics(source, files);
  const bytes = seen.objects.reduce((sum, o) => sum + o.size, 0);
  const next: Checkpoint = {
    ...completeCheckpoint(
      record,
      { location: { bucket, key: checkpointKey }, size: bytes },
      deps.clock.now(),
    ),
    ...(Object.keys(metrics).length === 0 ? {} : { metrics }),
  };
  if (await saved(deps, next, checkpointCompleted(next))) {
    result.completed.push({ id: record.id, objects: seen.objects.length, bytes });
  } else {
    result.unchanged++;
  }
}

/** Saves `next` and publishes `event`; false when another run changed the record first. */
async function saved(
  deps: DiscoverCheckpointsDeps,
  next: Checkpoint,
  event: DomainEvent,
): Promise<boolean> {
  try {
    await deps.checkpoints.save(next);
  } catch (error) {
    if (error instanceof ConcurrentModificationError) return false;
    throw error;
  }
  await deps.events.publish([event]);
  return true;
}
