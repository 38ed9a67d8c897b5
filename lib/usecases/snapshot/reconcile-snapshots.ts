import type { S3Location } from "../../domain/checkpoint.ts";
import { RetryLaterError } from "../../domain/errors.ts";
import { deterministicId } from "../../domain/ids.ts";
import type { Job } from "../../domain/job.ts";
import { bindSnapshotFile } from "../../domain/snapshot-binding.ts";
import {
  isLeftBehind,
  ReconcileCursorSchema,
  type ReconcileCursor,
} from "../../domain/snapshot-reconcile.ts";
import { ownershipRefusal, parseOwnedSnapshot, snapshotFolder } from "../../domain/snapshot-key.ts";
import { locationId } from "../../ports/catalog.ts";
import type { ObjectInfo, ObjectStore } from "../../ports/object-store.ts";
import { forEachLimited } from "../for-each-limited.ts";
import { completeSnapshot, type CompleteSnapshotDeps } from "./complete-snapshot.ts";

/** What the reconciling scan needs: complete-snapshot's ports, a listing, and its cursor. */
export interface ReconcileSnapshotsDeps extends CompleteSnapshotDeps {
  objects: Pick<ObjectStore, "head" | "list" | "getText" | "put">;
  /** Where the scan keeps its place between runs (`reconcileCursorLocation`). */
  cursorAt: S3Location;
  /** See `reconcileGraceSeconds`. */
  graceSeconds: number;
  /** How much one run reads before it leaves the rest to the next (`RECONCILE_BUDGET`). */
  budget?: ReconcileBudget;
}

/** How much of the snapshot folders one run lists before it saves its place and stops. */
export interface ReconcileBudget {
  /** Keys listed (every key counts, cataloged or not). */
  keys: number;
  /** Seconds of work, checked after each batch. */
  seconds: number;
}

/**
 * The scan's budget per run, for the complete-snapshot function's 30 s timeout: 20 s of work, at
 * most 20,000 keys (20 ListObjectsV2 pages and 200 BatchGetItem requests when nothing is
 * missing), which leaves room for the batch in flight and the cursor's write.
 */
export const RECONCILE_BUDGET: ReconcileBudget = { keys: 20_000, seconds: 20 };

/** Keys looked up together: DynamoDB's most keys in one BatchGetItem. */
const BATCH = 100;
/** Files sent through complete-snapshot at once, when a batch has several left behind. */
const CONCURRENCY = 4;
/** A cursor is a few hundred bytes; anything larger is not one of ours. */
const CURSOR_MAX_BYTES = 4096;

/** What one run found and did. */
export interface ReconcileSnapshotsResult {
  /** Keys listed in the snapshot folders of the owned prefixes. */
  listed: number;
  /** Listed keys that are not snapshot files simsnap owns: left alone, as their events would be. */
  ignored: number;
  /** Files of ours past the grace that the catalog knows (their location is claimed). */
  known: number;
  /** Files of ours within the grace, not looked up: a job or their event may yet catalog them. */
  young: number;
  /** Files this run cataloged, with the outcome complete-snapshot gave each. */
  cataloged: { key: string; checkpointId: string; outcome: "completed" | "discovered" }[];
  /** Files another writer cataloged between the lookup and this run's claim. */
  duplicate: number;
  /** Files gone between the listing and their HEAD. */
  missing: number;
  /**
   * Files an open snapshot job could still take (its CreateSnapshot window holds the stamp, or
   * its call is still in flight): left to that job's status checks, or to the sweeper that fails
   * it past its deadline, and looked at again by a later run.
   */
  waiting: number;
  /** Where the next run starts; undefined when this run reached the end of every folder. */
  resumeAt?: { prefix: string; startAfter: string };
}

/**
 * The reconciling scan of simsnap's own snapshot folders (`<prefix>/snapshot/` of each owned
 * prefix, nothing else: no trash, restore copy, report, archive or other tool's file is listed,
 * and each key must parse as one of ours as complete-snapshot requires). A file whose S3 event
 * was lost and that no job's status check bound would otherwise stay uncataloged forever: never
 * pruned, never restorable. Every file the catalog does not know (its location unclaimed, or
 * claimed for a discovered record whose write a crash cut short), older than the grace, and that
 * no open snapshot job could still take (`withoutClaimants`) goes through `completeSnapshot`, the
 * very path of its S3 event, so the outcome is the one the event would have now, and a late
 * event, a second run or a concurrent one changes nothing (the location claim decides). Runs are
 * bounded (`budget`): a run that stops early saves where it stopped in its cursor object and the
 * next run goes on from there.
 */
export async function reconcileSnapshotFiles(
  deps: ReconcileSnapshotsDeps,
): Promise<ReconcileSnapshotsResult> {
  const budget = deps.budget ?? RECONCILE_BUDGET;
  const until = deps.clock.now().getTime() + budget.seconds * 1000;
  const result: ReconcileSnapshotsResult = {
    listed: 0,
    ignored: 0,
    known: 0,
    young: 0,
    cataloged: [],
    duplicate: 0,
    missing: 0,
    waiting: 0,
  };
  const cursor = await readCursor(deps);
  const prefixes = deps.owned.prefixes;
  const resumeIndex = "prefix" in cursor ? prefixes.indexOf(cursor.prefix) : -1;

  for (let index = Math.max(0, resumeIndex); index < prefixes.length; index++) {
    const prefix = prefixes[index] as string;
    const startAfter = index === resumeIndex && "startAfter" in cursor ? cursor.startAfter : "";
    let batch: ObjectInfo[] = [];
    for await (const file of deps.objects.list(deps.owned.bucket, snapshotFolder(prefix), {
      ...(startAfter === "" ? {} : { startAfter }),
    })) {
      result.listed++;
      batch.push(file);
      if (batch.length < BATCH) continue;
      await reconcileBatch(batch, deps, result);
      const last = batch[batch.length - 1] as ObjectInfo;
      batch = [];
      if (result.listed >= budget.keys || deps.clock.now().getTime() >= until) {
        result.resumeAt = { prefix, startAfter: last.key };
        await writeCursor(deps, result.resumeAt);
        return result;
      }
    }
    await reconcileBatch(batch, deps, result);
  }
  // The whole of every folder was read: the next run starts over (only a saved place is reset).
  if ("prefix" in cursor) await writeCursor(deps, {});
  return result;
}

async function readCursor(deps: ReconcileSnapshotsDeps): Promise<ReconcileCursor> {
  const text = await deps.objects.getText(deps.cursorAt, CURSOR_MAX_BYTES);
  if (text === undefined) return {};
  try {
    const parsed = ReconcileCursorSchema.safeParse(JSON.parse(text));
    // A cursor this version cannot read only costs a scan from the start.
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

async function writeCursor(deps: ReconcileSnapshotsDeps, cursor: ReconcileCursor): Promise<void> {
  await deps.objects.put(deps.cursorAt, JSON.stringify(cursor), "application/json");
}

/**
 * One batch of listed keys: the files of ours past the grace are looked up together (their
 * claims, then the records of discovered claims), and those the catalog does not know are sent
 * through complete-snapshot.
 */
async function reconcileBatch(
  batch: readonly ObjectInfo[],
  deps: ReconcileSnapshotsDeps,
  result: ReconcileSnapshotsResult,
): Promise<void> {
  if (batch.length === 0) return;
  const now = deps.clock.now();
  const leftBehind: ObjectInfo[] = [];
  for (const file of batch) {
    const parsed = parseOwnedSnapshot(file, deps.owned);
    if (!parsed || ownershipRefusal(file, deps.owned) !== undefined) result.ignored++;
    else if (!isLeftBehind(file, parsed, now, deps.graceSeconds)) result.young++;
    else leftBehind.push(file);
  }
  if (leftBehind.length === 0) return;

  const owners = await deps.checkpoints.locationOwners(leftBehind);
  const discoveredId = (file: S3Location) => deterministicId("discovered", file.bucket, file.key);
  // A discovered record is the one kind written after its claim, in a separate request: a crash
  // between the two leaves a claim naming a record that does not exist.
  const claimedForDiscovery = leftBehind.filter(
    (file) => owners.get(locationId(file)) === discoveredId(file),
  );
  const records =
    claimedForDiscovery.length === 0
      ? new Map()
      : await deps.checkpoints.getMany(claimedForDiscovery.map(discoveredId));
  const unknown = leftBehind.filter((file) => {
    const owner = owners.get(locationId(file));
    const known = owner !== undefined && (owner !== discoveredId(file) || records.has(owner));
    if (known) result.known++;
    return !known;
  });

  const unclaimable = await withoutClaimants(unknown, deps, now);
  result.waiting += unknown.length - unclaimable.length;
  await forEachLimited(unclaimable, CONCURRENCY, async (file) => {
    try {
      const outcome = await completeSnapshot(file, deps);
      if (outcome.outcome === "completed" || outcome.outcome === "discovered") {
        result.cataloged.push({
          key: file.key,
          checkpointId: outcome.checkpointId as string,
          outcome: outcome.outcome,
        });
      } else if (outcome.outcome === "duplicate") result.duplicate++;
      else if (outcome.outcome === "missing") result.missing++;
      else result.ignored++;
    } catch (error) {
      if (!(error instanceof RetryLaterError)) throw error;
      result.waiting++;
    }
  });
}

/**
 * The files no open snapshot job could take, by the one binding rule over each simulation's open
 * jobs (read once per simulation). With the default grace only a job the sweeper has not yet
 * failed past its deadline could still hold such an old stamp; leaving its files alone means the
 * scan never chooses between jobs. complete-snapshot then gives the file what a real event would
 * give it now: `discovered`, with nothing left that it could be bound to, a neighbour included.
 */
async function withoutClaimants(
  files: readonly ObjectInfo[],
  deps: ReconcileSnapshotsDeps,
  now: Date,
): Promise<ObjectInfo[]> {
  const openJobs = new Map<string, Promise<Job[]>>();
  const unclaimable: ObjectInfo[] = [];
  for (const file of files) {
    const parsed = parseOwnedSnapshot(file, deps.owned);
    if (!parsed) continue;
    let open = openJobs.get(parsed.simulation);
    if (!open) {
      open = deps.jobs.listOpen(parsed.simulation, "snapshot");
      openJobs.set(parsed.simulation, open);
    }
    const binding = bindSnapshotFile({ bucket: file.bucket, ...parsed }, await open, now);
    if (binding.kind === "none") unclaimable.push(file);
  }
  return unclaimable;
}
