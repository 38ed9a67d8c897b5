import { markCheckpointDeleted, type Checkpoint, type ErrorInfo } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError, ProviderError } from "../../domain/errors.ts";
import { checkpointsPruned } from "../../domain/events.ts";
import { deterministicId } from "../../domain/ids.ts";
import { pruneDeadline } from "../../domain/job-deadline.ts";
import { failJob, isJobFinished, succeedJob, type Job, startJob } from "../../domain/job.ts";
import {
  planRetention,
  policyFor,
  type RetentionConfig,
  type RetentionPlan,
} from "../../domain/retention.ts";
import { prefixSegments, s3Key } from "../../domain/s3-key.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { PruneRun } from "../../domain/prune-request.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { deletedByPlatform } from "../../domain/platform-checkpoint.ts";
import { forEachLimited } from "../for-each-limited.ts";

/** What the prune use case needs. */
export interface PruneDeps {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  objects: ObjectStore;
  /**
   * The providers of the checkpoints' simulations, by the name each checkpoint records: a
   * checkpoint a platform holds (`platformId`) is removed with that platform's delete, not S3's.
   */
  providers: Pick<ProviderDirectory, "byName">;
  events: EventPublisher;
  clock: Clock;
  retention: RetentionConfig;
  /** Where plan reports are written: `<prefix>/reports/prune/<simulation>/<time>.json`. */
  reports: { bucket: string; prefix: string };
  /**
   * When archiving is on, a checkpoint is removed from the hot bucket only once it is archived:
   * otherwise a prune that outruns the archive copy would lose the file for good. A checkpoint a
   * platform holds is never archived by simsnap (see archive-checkpoint), so it does not wait.
   */
  archiveFirst: boolean;
  /**
   * Only files in here are ever deleted. A COMPLETE checkpoint whose file lies elsewhere (one an
   * older version cataloged from another tool's prefix) is left out of the plan and reported as
   * skipped, so it neither loses its file nor takes the place of one of simsnap's own.
   */
  owned: SnapshotOwnership;
}

/** What one simulation's run did. */
export interface PruneSimulationResult {
  simulation: string;
  outcome: "planned" | "pruned" | "refused" | "partial" | "duplicate";
  plan: RetentionPlan;
  jobId?: string;
  removed: string[];
  failed: { id: string; key: string; code: string; message: string }[];
  /** Planned for removal but kept until archived (see `PruneDeps.archiveFirst`). */
  awaitingArchive: string[];
  /** COMPLETE checkpoints whose files simsnap does not own: not planned, not deleted. */
  skipped: { id: string; key: string; reason: string }[];
  report?: { bucket: string; key: string };
}

const CONCURRENCY = 16;

/** The prune job id of one simulation in one run. */
export const pruneJobId = (runId: string, simulation: string): string =>
  deterministicId("prune", runId, simulation);

/**
 * The RUNNING prune job of one simulation in one run. The API records it before the run is queued,
 * so a caller can poll it at once; the run then finds it and carries it on.
 */
export const pruneJobFor = (runId: string, simulation: string, now: Date): Job =>
  startJob(
    { id: pruneJobId(runId, simulation), kind: "prune", simulation, deadline: pruneDeadline(now) },
    now,
  );

/**
 * Applies the retention policy (see `planRetention`): files are removed with DeleteObjects in
 * batches of at most 1,000 keys, checkpoints a platform holds with that platform's delete (its
 * provider looked up by the name the checkpoint records), and a checkpoint is marked DELETED
 * (conditional write) only once its file is gone or its platform confirms the delete, so a failure part-way never leaves a DELETED record whose file still exists;
 * keys that fail are retried once, then left COMPLETE for the next run. Favorites are re-read
 * right before their batch is deleted, so a checkpoint marked favorite after planning survives.
 * A dry run returns the same plan and changes nothing.
 */
export async function prune(run: PruneRun, deps: PruneDeps): Promise<PruneSimulationResult[]> {
  const simulations = run.simulations ?? (await deps.checkpoints.listSimulations());
  const results: PruneSimulationResult[] = [];
  for (const simulation of simulations) results.push(await pruneSimulation(simulation, run, deps));
  return results;
}

async function pruneSimulation(
  simulation: string,
  run: PruneRun,
  deps: PruneDeps,
): Promise<PruneSimulationResult> {
  const now = deps.clock.now();
  const cataloged = await loadSimulationCheckpoints(deps.checkpoints, simulation);
  const skipped: PruneSimulationResult["skipped"] = [];
  const checkpoints = cataloged.filter((checkpoint) => {
    const refusal =
      checkpoint.state === "COMPLETE" && checkpoint.location
        ? ownershipRefusal(checkpoint.location, deps.owned)
        : undefined;
    if (refusal && checkpoint.location) {
      skipped.push({ id: checkpoint.id, key: checkpoint.location.key, reason: refusal });
    }
    return refusal === undefined;
  });
  const plan = planRetention(checkpoints, () => policyFor(deps.retention, simulation), {
    now,
    force: run.force,
    maxRemoveFraction: deps.retention.maxRemoveFraction,
  })[0] ?? { simulation, keep: [], remove: [], refused: null };
  const base = {
    simulation,
    plan,
    removed: [] as string[],
    failed: [] as PruneSimulationResult["failed"],
    awaitingArchive: [] as string[],
    skipped,
  };
  if (run.dryRun) return { ...base, outcome: "planned" };

  const jobId = pruneJobId(run.runId, simulation);
  const iso = now.toISOString();
  const fresh = pruneJobFor(run.runId, simulation, now);
  await deps.jobs.create(fresh);
  const job = (await deps.jobs.get(jobId)) ?? fresh;
  if (isJobFinished(job)) return { ...base, jobId, outcome: "duplicate" };

  const report = {
    bucket: deps.reports.bucket,
    key: s3Key(
      ...prefixSegments(deps.reports.prefix),
      "reports",
      "prune",
      simulation,
      `${iso.replace(/[:.]/g, "-")}.json`,
    ),
  };
  if (plan.refused) {
    await writeReport(deps, report, {
      run,
      plan,
      removed: [],
      failed: [],
      awaitingArchive: [],
      skipped,
      generatedAt: iso,
    });
    await deps.jobs.save(
      failJob(job, { code: "PlanRefused", message: plan.refused }, deps.clock.now()),
    );
    return { ...base, jobId, report, outcome: "refused" };
  }

  const byId = new Map(checkpoints.map((c) => [c.id, c]));
  const planned = plan.remove
    .map((r) => byId.get(r.id))
    .filter((c): c is Checkpoint => c !== undefined);
  const waitsForArchive = (c: Checkpoint) => deps.archiveFirst && !c.archive && !c.platformId;
  const doomed = planned.filter((c) => !waitsForArchive(c));
  const awaitingArchive = planned.filter(waitsForArchive).map((c) => c.id);
  const { removed: unordered, failed, bytes } = await removeFiles(doomed, deps);
  const order = new Map(plan.remove.map((r, i) => [r.id, i]));
  const removed = unordered.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));

  await writeReport(deps, report, {
    run,
    plan,
    removed,
    failed,
    awaitingArchive,
    skipped,
    generatedAt: iso,
  });
  const finishedAt = deps.clock.now();
  const stats = { objects: removed.length, bytes };
  await deps.jobs.save(
    failed.length === 0
      ? succeedJob(job, finishedAt, stats)
      : {
          ...failJob(
            job,
            {
              code: "FilesNotDeleted",
              message: `${failed.length} snapshot files (or platform checkpoints) could not be deleted; their checkpoints stay COMPLETE and the next run retries them`,
            },
            finishedAt,
          ),
          stats,
        },
  );
  if (removed.length > 0 || failed.length > 0) {
    await deps.events.publish([
      checkpointsPruned({
        simulation,
        jobId,
        removed,
        kept: plan.keep,
        failed: failed.map((f) => f.id),
        report,
      }),
    ]);
  }
  return {
    ...base,
    jobId,
    report,
    removed,
    failed,
    awaitingArchive,
    outcome: failed.length === 0 ? "pruned" : "partial",
  };
}

async function removeFiles(doomed: Checkpoint[], deps: PruneDeps) {
  const removed: string[] = [];
  const failed: PruneSimulationResult["failed"] = [];
  let bytes = 0;
  const now = () => deps.clock.now();

  const markDeleted = async (checkpoint: Checkpoint, reason?: ErrorInfo): Promise<void> => {
    let current: Checkpoint | undefined = checkpoint;
    for (let attempt = 0; attempt < 3 && current?.state === "COMPLETE"; attempt++) {
      try {
        await deps.checkpoints.save(markCheckpointDeleted(current, now(), reason));
        removed.push(current.id);
        bytes += current.size ?? 0;
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError)) throw error;
        current = await deps.checkpoints.get(checkpoint.id);
      }
    }
    if (current?.state === "DELETED") removed.push(checkpoint.id);
  };

  const withoutFile = doomed.filter((c) => !c.location && !c.platformId);
  await forEachLimited(withoutFile, CONCURRENCY, (c) => markDeleted(c));
  await forEachLimited(
    doomed.filter((c) => c.platformId !== undefined),
    CONCURRENCY,
    async (checkpoint) => {
      const outcome = await removeHeld(checkpoint, deps);
      if (outcome.kind === "failed") failed.push({ id: checkpoint.id, ...outcome.failure });
      if (outcome.kind === "deleted") await markDeleted(outcome.checkpoint, outcome.reason);
    },
  );

  const byBucket = new Map<string, Checkpoint[]>();
  for (const checkpoint of doomed) {
    if (!checkpoint.location) continue;
    byBucket.set(checkpoint.location.bucket, [
      ...(byBucket.get(checkpoint.location.bucket) ?? []),
      checkpoint,
    ]);
  }
  for (const [bucket, inBucket] of byBucket) {
    for (let i = 0; i < inBucket.length; i += MAX_DELETE_KEYS) {
      const batch = await stillRemovable(inBucket.slice(i, i + MAX_DELETE_KEYS), deps);
      const byKey = new Map(batch.map((c) => [c.location?.key ?? "", c]));
      let result = await deps.objects.deleteMany(bucket, [...byKey.keys()]);
      const gone = [...result.deleted];
      if (result.failed.length > 0) {
        result = await deps.objects.deleteMany(
          bucket,
          result.failed.map((f) => f.key),
        );
        gone.push(...result.deleted);
      }
      for (const failure of result.failed) {
        failed.push({
          id: byKey.get(failure.key)?.id ?? "",
          key: failure.key,
          code: failure.code,
          message: failure.message,
        });
      }
      await forEachLimited(
        gone.map((key) => byKey.get(key)).filter((c): c is Checkpoint => c !== undefined),
        CONCURRENCY,
        (c) => markDeleted(c),
      );
    }
  }
  return { removed, failed, bytes };
}

/** What removing one platform-held checkpoint led to. */
type HeldRemoval =
  | { kind: "deleted"; checkpoint: Checkpoint; reason?: ErrorInfo }
  | { kind: "kept" }
  | { kind: "failed"; failure: { key: string; code: string; message: string } };

/**
 * Removes one checkpoint a platform holds, through that platform (its provider by the name the
 * checkpoint records), and says so only once the platform confirms it is DELETED (or no longer
 * knows it). The record is re-read first and the platform asked too, so a checkpoint marked
 * favorite on either side since planning survives, and one the platform already deleted itself is
 * recorded with that reason. A retryable platform error is tried once more; a failure leaves the
 * checkpoint COMPLETE for the next run.
 */
async function removeHeld(checkpoint: Checkpoint, deps: PruneDeps): Promise<HeldRemoval> {
  const platformId = checkpoint.platformId as string;
  const key = `${checkpoint.provider}:${platformId}`;
  const failure = (code: string, message: string): HeldRemoval => ({
    kind: "failed",
    failure: { key, code, message },
  });
  const current = await deps.checkpoints.get(checkpoint.id);
  if (!current || current.state !== "COMPLETE" || current.favorite) return { kind: "kept" };
  for (let attempt = 1; ; attempt++) {
    try {
      const held = deps.providers.byName(current.provider).checkpoints;
      if (!held) {
        return failure(
          "UnsupportedOperation",
          `Provider ${current.provider} holds no checkpoints, but checkpoint ${current.id} names platform checkpoint ${platformId}`,
        );
      }
      const before = await held.get(platformId);
      if (!before || before.state === "DELETED") {
        return {
          kind: "deleted",
          checkpoint: current,
          reason: deletedByPlatform(current.provider, platformId),
        };
      }
      if (before.favorite || before.state !== "COMPLETE") return { kind: "kept" };
      await held.delete(platformId);
      const after = await held.get(platformId);
      if (after && after.state !== "DELETED") {
        return failure(
          "DeleteNotConfirmed",
          `${current.provider} accepted the delete of checkpoint ${platformId} but still reports it ${after.state}`,
        );
      }
      return { kind: "deleted", checkpoint: current };
    } catch (error) {
      if (error instanceof ProviderError && error.retryable && attempt < 2) continue;
      const code = error instanceof ProviderError ? error.code : "Error";
      return failure(code, error instanceof Error ? error.message : String(error));
    }
  }
}

/** Re-reads a batch just before deletion and drops any checkpoint that became favorite or changed state. */
async function stillRemovable(batch: Checkpoint[], deps: PruneDeps): Promise<Checkpoint[]> {
  const fresh: Checkpoint[] = [];
  await forEachLimited(batch, CONCURRENCY, async (checkpoint) => {
    const current = await deps.checkpoints.get(checkpoint.id);
    if (current && current.state === "COMPLETE" && !current.favorite) fresh.push(current);
  });
  return fresh;
}

async function writeReport(
  deps: PruneDeps,
  location: { bucket: string; key: string },
  content: {
    run: PruneRun;
    plan: RetentionPlan;
    removed: string[];
    failed: PruneSimulationResult["failed"];
    awaitingArchive: string[];
    skipped: PruneSimulationResult["skipped"];
    generatedAt: string;
  },
): Promise<void> {
  const body = {
    simulation: content.plan.simulation,
    runId: content.run.runId,
    generatedAt: content.generatedAt,
    force: content.run.force,
    refused: content.plan.refused,
    keep: content.plan.keep,
    remove: content.plan.remove,
    removed: content.removed,
    failed: content.failed,
    awaitingArchive: content.awaitingArchive,
    skipped: content.skipped,
  };
  await deps.objects.put(location, JSON.stringify(body, null, 2), "application/json");
}
