import { clearArchive, manifestKey } from "../../domain/archive.ts";
import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../domain/errors.ts";
import { newId } from "../../domain/ids.ts";
import { archivesPruned } from "../../domain/events.ts";
import { policyFor, type RetentionConfig, type RetentionPlan } from "../../domain/retention.ts";
import type { RetentionBaseStore } from "../../ports/retention-bases.ts";
import { planAgainstBase, recordBase } from "./plan-against-base.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import { objectSetArchivePrefixOf } from "../../domain/object-set.ts";

/** What archive retention needs. */
export interface PruneArchivesDeps {
  checkpoints: CheckpointStore;
  storage: ObjectStore;
  events: EventPublisher;
  clock: Clock;
  /** The archive retention policy; undefined keeps every archive (nothing is planned). */
  archiveRetention: RetentionConfig | undefined;
  /**
   * Each simulation's last approved archive run (scope `archives`), which the share guard
   * measures a plan against, as prune's (see `PruneDeps.bases`); absent, every removal counts.
   */
  bases?: RetentionBaseStore;
}

/** One archive retention run. */
export interface PruneArchivesRun {
  /** Simulations to consider; every simulation in the catalog when absent. */
  simulations?: string[];
  dryRun: boolean;
  force: boolean;
  /** Names the run in the bases it records; a fresh id when absent. */
  runId?: string;
}

/** What a run did to one simulation's archives. */
export interface PruneArchivesResult {
  simulation: string;
  outcome: "planned" | "pruned" | "refused" | "partial";
  plan: RetentionPlan;
  removed: string[];
  failed: { id: string; key: string; code: string; message: string }[];
}

/** Checkpoints per DeleteObjects request: each has two keys, the copy and its manifest. */
const CHECKPOINTS_PER_BATCH = MAX_DELETE_KEYS / 2;

async function loadArchived(checkpoints: CheckpointStore, simulation: string) {
  const archived: Checkpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await checkpoints.listBySimulation(simulation, { limit: 1000, cursor });
    archived.push(...page.items.filter((c) => c.archive !== undefined));
    cursor = page.nextCursor;
  } while (cursor);
  return archived;
}

/**
 * Archive retention, separate from hot retention: its own policy (`RetentionConfigSchema`, the
 * same restic semantics) over the checkpoints that have an archive copy, whatever their hot state,
 * so archives can be kept for years after the hot files were pruned. Favorites are always kept
 * (and re-read right before deletion, so one marked meanwhile survives), a plan removing every
 * archive or more than the allowed share is refused unless forced (the share counted against the
 * simulation's last approved archive run, `deps.bases`, as prune counts it), and a dry run
 * changes nothing.
 * The copy and its manifest are deleted together; the record then loses its `archive`. The
 * archive of a set of objects (a files checkpoint: `archive.objects` set, `key` its manifest) loses
 * its manifest first and its folder after (see `deleteSetArchive`). Running twice is harmless:
 * removed archives are no longer candidates, and a half-removed one is finished.
 */
export async function pruneArchives(
  run: PruneArchivesRun,
  deps: PruneArchivesDeps,
): Promise<PruneArchivesResult[]> {
  const config = deps.archiveRetention;
  if (!config) return [];
  const simulations = run.simulations ?? (await deps.checkpoints.listSimulations());
  const named = { ...run, runId: run.runId ?? newId() };
  const results: PruneArchivesResult[] = [];
  for (const simulation of simulations) {
    results.push(await pruneSimulation(simulation, named, config, deps));
  }
  return results;
}

async function pruneSimulation(
  simulation: string,
  run: PruneArchivesRun & { runId: string },
  config: RetentionConfig,
  deps: PruneArchivesDeps,
): Promise<PruneArchivesResult> {
  const archived = await loadArchived(deps.checkpoints, simulation);
  // Every archived checkpoint is a candidate, DELETED ones included: for the planner an archive
  // copy is "complete" whatever became of the hot file, and it arrived when it was archived.
  const candidates = archived.map((c) => ({
    ...c,
    state: "COMPLETE" as const,
    completedAt: c.archive?.archivedAt,
  }));
  const provider = archived[0]?.provider;
  const policy = policyFor(config, simulation, provider);
  const guard = {
    scope: "archives" as const,
    simulation,
    runId: run.runId,
    now: deps.clock.now(),
    force: run.force,
    maxRemoveFraction: config.maxRemoveFraction,
  };
  const guarded = await planAgainstBase(guard, candidates, policy, deps.bases);
  const plan = guarded.plan;
  const base = { simulation, plan, removed: [] as string[], failed: [] };
  if (run.dryRun) return { ...base, outcome: "planned" };
  // Before any deletion: what the next run's share guard measures against (as prune records it).
  await recordBase(guard, guarded, candidates, policy, deps.bases);
  if (plan.refused) return { ...base, outcome: "refused" };

  const doomed = new Set(plan.remove.map((r) => r.id));
  const targets = archived.filter((c) => doomed.has(c.id));
  const removed: string[] = [];
  const failed: PruneArchivesResult["failed"] = [];
  for (let start = 0; start < targets.length; start += CHECKPOINTS_PER_BATCH) {
    const batch = await stillDoomed(targets.slice(start, start + CHECKPOINTS_PER_BATCH), deps);
    const outcome = await deleteArchives(
      batch.filter((c) => c.archive?.objects === undefined),
      deps,
    );
    for (const checkpoint of batch.filter((c) => c.archive?.objects !== undefined)) {
      const failure = await deleteSetArchive(checkpoint, deps);
      if (failure) outcome.failed.push({ id: checkpoint.id, ...failure });
      else outcome.deleted.push(checkpoint);
    }
    failed.push(...outcome.failed);
    for (const checkpoint of outcome.deleted) {
      if (await forgetArchive(checkpoint, deps)) removed.push(checkpoint.id);
    }
  }
  if (removed.length > 0 || failed.length > 0) {
    await deps.events.publish([
      archivesPruned({ simulation, removed, failed: failed.map((f) => f.id) }),
    ]);
  }
  return { ...base, removed, failed, outcome: failed.length === 0 ? "pruned" : "partial" };
}

/** Re-reads a batch right before deleting: favorites and changed archives are spared. */
async function stillDoomed(batch: Checkpoint[], deps: PruneArchivesDeps): Promise<Checkpoint[]> {
  const current = await Promise.all(batch.map((c) => deps.checkpoints.get(c.id)));
  return current.filter(
    (c, i): c is Checkpoint =>
      c !== undefined &&
      !c.favorite &&
      c.archive?.bucket === batch[i]?.archive?.bucket &&
      c.archive?.key === batch[i]?.archive?.key,
  );
}

/** Deletes copies and manifests, bucket by bucket; a checkpoint counts once both keys are gone. */
async function deleteArchives(batch: Checkpoint[], deps: PruneArchivesDeps) {
  const deleted: Checkpoint[] = [];
  const failed: PruneArchivesResult["failed"] = [];
  const byBucket = new Map<string, Checkpoint[]>();
  for (const checkpoint of batch) {
    const bucket = checkpoint.archive?.bucket ?? "";
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), checkpoint]);
  }
  for (const [bucket, checkpoints] of byBucket) {
    const keys = checkpoints.flatMap((c) => {
      const key = c.archive?.key ?? "";
      return [key, manifestKey(key)];
    });
    const result = await deps.storage.deleteMany(bucket, keys);
    const errors = new Map(result.failed.map((f) => [f.key, f]));
    for (const checkpoint of checkpoints) {
      const key = checkpoint.archive?.key ?? "";
      const error = errors.get(key) ?? errors.get(manifestKey(key));
      if (error) failed.push({ id: checkpoint.id, ...error });
      else deleted.push(checkpoint);
    }
  }
  return { deleted, failed };
}

/**
 * Deletes the archive of a set of objects: its manifest first, in a request of its own, then every
 * object of its folder (listed, in batches of 1,000), and answers the first failure, or undefined
 * once a listing shows the folder empty. The manifest is what makes an archive restorable, so it
 * goes first: a crash part-way leaves copies without a manifest, which no restore accepts, never
 * a manifest beside missing copies; the record keeps its `archive` until the folder is empty, so
 * the next run finishes the job.
 */
async function deleteSetArchive(
  checkpoint: Checkpoint,
  deps: PruneArchivesDeps,
): Promise<{ key: string; code: string; message: string } | undefined> {
  const { bucket, key } = checkpoint.archive as NonNullable<Checkpoint["archive"]>;
  const folder = objectSetArchivePrefixOf(key);
  if (folder === undefined) {
    return {
      key,
      code: "NotAnObjectSetManifest",
      message: `s3://${bucket}/${key} is not where simsnap writes a set's manifest; left alone`,
    };
  }
  const first = (await deps.storage.deleteMany(bucket, [key])).failed[0];
  if (first) return first;
  const listed = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const object of deps.storage.list(bucket, folder)) keys.push(object.key);
    return keys;
  };
  const keys = await listed();
  for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
    const failed = (await deps.storage.deleteMany(bucket, keys.slice(i, i + MAX_DELETE_KEYS)))
      .failed[0];
    if (failed) return failed;
  }
  const left = await listed();
  return left.length === 0
    ? undefined
    : {
        key: left[0] as string,
        code: "ArchiveNotEmpty",
        message: `${left.length} objects are still under s3://${bucket}/${folder}`,
      };
}

/** Removes the archive from the record (versioned write, re-read after a lost race). */
async function forgetArchive(checkpoint: Checkpoint, deps: PruneArchivesDeps): Promise<boolean> {
  let current: Checkpoint | undefined = checkpoint;
  for (let attempt = 0; attempt < 3 && current?.archive; attempt++) {
    try {
      await deps.checkpoints.save(clearArchive(current, deps.clock.now()));
      return true;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError)) throw error;
      current = await deps.checkpoints.get(checkpoint.id);
    }
  }
  return false;
}
