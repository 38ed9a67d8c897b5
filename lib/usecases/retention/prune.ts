import { markCheckpointDeleted, type Checkpoint, type ErrorInfo } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError, ProviderError } from "../../domain/errors.ts";
import { checkpointsPruned } from "../../domain/events.ts";
import { deterministicId } from "../../domain/ids.ts";
import { pruneDeadline } from "../../domain/job-deadline.ts";
import {
  failJob,
  isJobFinished,
  succeedJob,
  type Job,
  startJob,
  updateRunningJob,
} from "../../domain/job.ts";
import { policyFor, type RetentionConfig, type RetentionPlan } from "../../domain/retention.ts";
import type { RetentionBaseStore } from "../../ports/retention-bases.ts";
import { planAgainstBase, recordBase } from "./plan-against-base.ts";
import { prefixSegments, s3Key } from "../../domain/s3-key.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { PruneRequest, PruneRun } from "../../domain/prune-request.ts";
import { MAX_PRUNE_REPORT_BYTES, PruneReportSchema } from "../../domain/prune-report.ts";
import { AppError } from "../../domain/errors.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../ports/messaging.ts";
import { MAX_DELETE_KEYS, type ObjectStore } from "../../ports/object-store.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import { deletedByPlatform } from "../../domain/platform-checkpoint.ts";
import { forEachLimited } from "../for-each-limited.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import { deleteObjectSet } from "../files/delete-object-set.ts";
import { isObjectSetCheckpoint, objectSetRefusal } from "../files/object-set-checkpoint.ts";
import { purgeAfterFor, trashHeldCheckpoint } from "../../domain/trash.ts";
import { moveToTrash, type TrashOutcome, type TrashSettings } from "../catalog/trash-checkpoint.ts";
import { moveSetToTrash, removeTrashedOriginals } from "../files/trash-object-set.ts";
import { holdUnderTest } from "../../domain/verification.ts";

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
  /**
   * Each simulation's last approved run, which the share guard measures a plan against (see
   * `planRetention`); a run records its own once its plan is approved, before it removes
   * anything. Absent (a dry run in a test), every removal counts, as on a first run.
   */
  bases?: RetentionBaseStore;
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
  /**
   * The files sources whose checkpoints (sets of objects another tool wrote, see
   * `isObjectSetCheckpoint`) retention may delete; undefined when none are configured, and then
   * such a checkpoint is skipped, never deleted.
   */
  files?: FileOwnership;
  /** The files bucket's objects, listed and deleted under the sources' prefixes only. */
  fileObjects?: Pick<ObjectStore, "list" | "deleteMany">;
  /**
   * The trash (config `destination.trashDays`): above 0 days, snapshot files are moved there
   * instead of deleted (`moveToTrash`, originals removed in DeleteObjects batches), sets of
   * objects too (`moveSetToTrash`), and a checkpoint a platform holds is marked DELETED with its
   * platform's delete deferred to the purge (`trashHeldCheckpoint`); each is recoverable until
   * `purgeAfter`. Absent or 0 days, all are deleted at once.
   */
  trash?: TrashSettings;
  /**
   * The prune function's own queue: a run that outgrows one invocation's `budget` sends itself
   * the rest there (a `continue` request, see `PruneRequestSchema`). Without it (the API's dry
   * runs) a run does all of its work in one call, whatever its size.
   */
  continuation?: Pick<MessageQueue<PruneRequest>, "send">;
  /** How much one invocation does before it hands the rest over; `PRUNE_BUDGET` by default. */
  budget?: PruneBudget;
}

/**
 * How much of a run one invocation carries out before it hands the rest to a continuation, so
 * that a backlog of any size finishes over several invocations instead of dying at the timeout
 * and starting over. Checked before each batch of removals and before each simulation; the
 * first batch of an invocation always runs, so every invocation gets somewhere.
 */
export interface PruneBudget {
  /** Planned removals to handle, at most. */
  removals: number;
  /** Seconds of work (by the deps' clock) after which nothing new is started. */
  seconds: number;
}

/**
 * The prune function's budget (timeout 300 s, see lib/topology.ts): 120 s of work leaves time for
 * the batch in flight (1,000 removals: a few seconds in AWS, 20 s at worst on the local stack),
 * the report and the hand-over. 50,000 removals bound the report's lists a hand-over rewrites.
 */
export const PRUNE_BUDGET: PruneBudget = { removals: 50_000, seconds: 120 };

/** What one simulation's run did. */
export interface PruneSimulationResult {
  simulation: string;
  /**
   * `continued`: this invocation's budget ran out part-way; a continuation carries the plan on.
   * `removed`, `trashed` and `failed` are what this invocation did (so metrics add up over a
   * run's invocations); the other lists, the report and the event are the whole run's.
   */
  outcome: "planned" | "pruned" | "refused" | "partial" | "duplicate" | "continued";
  plan: RetentionPlan;
  jobId?: string;
  removed: string[];
  /** The removed checkpoints whose files went to the trash, recoverable until `purgeAfter`. */
  trashed: string[];
  /** When this run's trashed checkpoints are purged; absent when nothing went to the trash. */
  purgeAfter?: string;
  /** The recorded size of what this invocation moved to the trash (for the trash's metrics). */
  trashedBytes?: number;
  failed: { id: string; key: string; code: string; message: string }[];
  /** Planned for removal but kept until archived (see `PruneDeps.archiveFirst`). */
  awaitingArchive: string[];
  /** COMPLETE checkpoints whose files simsnap does not own: not planned, not deleted. */
  skipped: { id: string; key: string; reason: string }[];
  report?: { bucket: string; key: string };
}

const CONCURRENCY = 16;
/** Sets deleted at once: each may be thousands of objects, deleted 1,000 to a request. */
const SET_CONCURRENCY = 4;
/** Files re-read together before their moves to the trash: one catalog request's worth. */
const TRASH_READS = 100;

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
 * keys that fail are retried once, then left COMPLETE for the next run. A checkpoint that is a
 * set of objects another tool wrote is removed whole (see `removeSet`). Favorites are re-read
 * right before their batch is deleted (100 to a catalog request), so a checkpoint marked
 * favorite after planning survives. A run larger than one invocation's budget (`PruneBudget`)
 * hands the rest to a continuation through `deps.continuation` (see `carryOut`), between
 * simulations or within one, so a backlog of any size finishes. A dry run returns the same plan
 * and changes nothing.
 */
export async function prune(run: PruneRun, deps: PruneDeps): Promise<PruneSimulationResult[]> {
  const named = run.simulations ?? (await deps.checkpoints.listSimulations());
  const simulations = run.from === undefined ? named : named.slice(resumeIndex(named, run.from));
  const allowance = allowanceOf(deps);
  const results: PruneSimulationResult[] = [];
  for (const simulation of simulations) {
    if (!run.dryRun && results.length > 0 && spent(allowance, deps)) {
      await handOver(run, simulation, deps);
      break;
    }
    const result = await pruneSimulation(simulation, run, deps, allowance);
    results.push(result);
    if (result.outcome === "continued") break;
  }
  return results;
}

/** Where a continued run resumes in its list of simulations (sorted, when it is the catalog's). */
function resumeIndex(simulations: readonly string[], from: string): number {
  const index = simulations.indexOf(from);
  if (index >= 0) return index;
  const after = simulations.findIndex((simulation) => simulation > from);
  return after < 0 ? simulations.length : after;
}

/** What is left of one invocation's budget. */
interface Allowance {
  removals: number;
  until: number;
}

const allowanceOf = (deps: PruneDeps): Allowance => {
  const budget = deps.budget ?? PRUNE_BUDGET;
  return { removals: budget.removals, until: deps.clock.now().getTime() + budget.seconds * 1000 };
};

/** True once this invocation should start nothing new and hand over; never without a queue. */
const spent = (allowance: Allowance, deps: PruneDeps): boolean =>
  deps.continuation !== undefined &&
  (allowance.removals <= 0 || deps.clock.now().getTime() >= allowance.until);

/** Sends the rest of the run, from `simulation` on, to the prune function's queue. */
async function handOver(run: PruneRun, simulation: string, deps: PruneDeps): Promise<void> {
  await deps.continuation?.send(
    {
      source: "continue",
      runId: run.runId,
      ...(run.simulations === undefined ? {} : { simulations: run.simulations }),
      from: simulation,
      force: run.force,
    },
    { delaySeconds: 0 },
  );
}

async function pruneSimulation(
  simulation: string,
  run: PruneRun,
  deps: PruneDeps,
  allowance: Allowance,
): Promise<PruneSimulationResult> {
  const now = deps.clock.now();
  const jobId = pruneJobId(run.runId, simulation);
  const existing = run.dryRun ? undefined : await deps.jobs.get(jobId);
  if (existing?.prune && !isJobFinished(existing)) {
    return carryOn(existing, existing.prune, run, deps, allowance);
  }
  const cataloged = await loadSimulationCheckpoints(deps.checkpoints, simulation);
  const skipped: PruneSimulationResult["skipped"] = [];
  const checkpoints = cataloged.filter((checkpoint) => {
    const refusal = refusalOf(checkpoint, deps);
    if (refusal && checkpoint.location) {
      skipped.push({ id: checkpoint.id, key: checkpoint.location.key, reason: refusal });
    }
    return refusal === undefined;
  });
  // A simulation's checkpoints share its provider; an override may apply to one provider only.
  const provider = cataloged[0]?.provider;
  const policy = policyFor(deps.retention, simulation, provider);
  const { maxRemoveFraction } = deps.retention;
  const guard = {
    scope: "checkpoints",
    simulation,
    runId: run.runId,
    now,
    force: run.force,
    maxRemoveFraction,
  } as const;
  const guarded = await planAgainstBase(guard, checkpoints, policy, deps.bases);
  // A checkpoint a restore test is using waits for the next run (a dry run shows it so too).
  const plan =
    guarded.plan.remove.length === 0
      ? guarded.plan
      : holdUnderTest(guarded.plan, new Set((await underTest(simulation, deps)).keys()), cataloged);
  const base = {
    simulation,
    plan,
    removed: [] as string[],
    trashed: [] as string[],
    failed: [] as PruneSimulationResult["failed"],
    awaitingArchive: [] as string[],
    skipped,
  };
  if (run.dryRun) return { ...base, outcome: "planned" };

  const iso = now.toISOString();
  const fresh = pruneJobFor(run.runId, simulation, now);
  // The API records the job before it queues a run; otherwise the one who creates it runs it.
  const job =
    existing ?? ((await deps.jobs.create(fresh)) ? fresh : ((await deps.jobs.get(jobId)) ?? fresh));
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
  // Before anything is removed: what the next run's share guard measures against.
  await recordBase(guard, guarded, checkpoints, policy, deps.bases);
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
  const purgeAfter =
    deps.trash && deps.trash.days > 0
      ? purgeAfterFor(now, deps.trash.days).toISOString()
      : undefined;
  // A job found running and planned afresh is a redelivery of a run whose invocation died before
  // it recorded progress: what it moved to the trash may have left originals behind.
  const since = existing === undefined ? undefined : Date.parse(existing.startTime);
  const leftovers =
    since === undefined
      ? []
      : cataloged.filter(
          (c) =>
            c.state === "DELETED" &&
            c.trash !== undefined &&
            c.purgedAt === undefined &&
            Date.parse(c.modifiedAt) >= since,
        );
  return carryOut(
    { run, job, plan, report, generatedAt: iso, purgeAfter, done: 0, leftovers },
    { removed: [], trashed: [], failed: [], awaitingArchive: [], skipped, bytes: 0 },
    deps,
    allowance,
  );
}

/**
 * Why a COMPLETE checkpoint with a file must not be removed (a file simsnap does not own, a set
 * of objects outside the configured sources), or undefined when it may be.
 */
function refusalOf(checkpoint: Checkpoint, deps: PruneDeps): string | undefined {
  if (checkpoint.state !== "COMPLETE" || !checkpoint.location) return undefined;
  return isObjectSetCheckpoint(checkpoint, deps.providers)
    ? objectSetRefusal(checkpoint.location, deps.files)
    : ownershipRefusal(checkpoint.location, deps.owned);
}

/**
 * The checkpoints of a simulation that an open restore test (`verify` job) is using, with the
 * job's id: read when planning and again before each batch, so a test that began after the plan
 * still keeps its checkpoint for the next run.
 */
async function underTest(simulation: string, deps: PruneDeps): Promise<Map<string, string>> {
  const open = await deps.jobs.listOpen(simulation, "verify");
  return new Map(open.flatMap((job) => (job.checkpointId ? [[job.checkpointId, job.id]] : [])));
}

/** What a run did to one simulation so far: over every invocation it took, or over this one. */
interface Done {
  removed: string[];
  trashed: string[];
  failed: PruneSimulationResult["failed"];
  awaitingArchive: string[];
  skipped: PruneSimulationResult["skipped"];
  bytes: number;
}

/** The plan one simulation's run carries out, and where in it the run stands. */
interface Carried {
  run: PruneRun;
  job: Job;
  plan: RetentionPlan;
  report: { bucket: string; key: string };
  generatedAt: string;
  purgeAfter: string | undefined;
  /** How many of `plan.remove` are handled. */
  done: number;
  /**
   * Checkpoints this run's job moved to the trash in an invocation that died before it removed
   * their originals (see `pruneSimulation`): a new plan no longer lists them, so they are named.
   */
  leftovers?: Checkpoint[];
}

/**
 * Continues a simulation's run that an earlier invocation handed over: the plan and the lists so
 * far come from the report that invocation wrote (never from a new plan), the position from the
 * job. A batch that invocation finished after its hand-over was saved is read again and, its
 * checkpoints being DELETED by now, changes nothing.
 */
async function carryOn(
  job: Job,
  progress: NonNullable<Job["prune"]>,
  run: PruneRun,
  deps: PruneDeps,
  allowance: Allowance,
): Promise<PruneSimulationResult> {
  const report = { bucket: deps.reports.bucket, key: progress.report };
  const text = await deps.objects.getText(report, MAX_PRUNE_REPORT_BYTES);
  const parsed = PruneReportSchema.safeParse(text === undefined ? undefined : safeJson(text));
  if (!parsed.success) {
    throw new AppError(
      `Prune job ${job.id} cannot continue: its report s3://${report.bucket}/${report.key} is ${text === undefined ? "missing" : "unreadable"}`,
    );
  }
  const written = parsed.data;
  return carryOut(
    {
      run,
      job,
      plan: {
        simulation: job.simulation,
        keep: written.keep,
        remove: written.remove,
        refused: null,
      },
      report,
      generatedAt: written.generatedAt,
      purgeAfter: written.purgeAfter,
      done: progress.done,
    },
    {
      removed: written.removed,
      trashed: written.trashed,
      failed: written.failed,
      awaitingArchive: written.awaitingArchive,
      skipped: written.skipped,
      bytes: job.stats.bytes,
    },
    deps,
    allowance,
  );
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * Carries out a plan's removals from `carried.done` on, in batches of at most 1,000 in plan
 * order. Each batch is read again first, 100 to a catalog request (`getMany`): only a checkpoint
 * still COMPLETE, not a favorite, not under a restore test (an open `verify` job, listed again per
 * batch) and still simsnap's to delete is removed, so a change since the plan (or a batch an
 * earlier invocation already did) is respected. When the budget runs out the
 * run hands over: the report with the plan and the lists so far is written, then the job records
 * how far it got and where that report is (a conditional write: of two invocations carrying the
 * same job on, only one hands over), then the continuation is sent. A crash before the job's write
 * repeats at most this invocation's batches, which find their checkpoints DELETED.
 */
async function carryOut(
  carried: Carried,
  before: Done,
  deps: PruneDeps,
  allowance: Allowance,
): Promise<PruneSimulationResult> {
  const { run, job, plan, report, purgeAfter } = carried;
  const simulation = job.simulation;
  const ids = plan.remove.map((r) => r.id);
  const mine: Done = {
    removed: [],
    trashed: [],
    failed: [],
    awaitingArchive: [],
    skipped: [],
    bytes: 0,
  };
  const waitsForArchive = (c: Checkpoint) => deps.archiveFirst && !c.archive && !c.platformId;
  await removeLeftovers(carried.leftovers ?? [], deps);
  let done = carried.done;
  const started = done;
  let trashedBytes = 0;
  while (done < ids.length) {
    if (done > started && spent(allowance, deps)) break;
    // Without a queue to hand over to, the budget does not apply (see `spent`).
    const room = deps.continuation === undefined ? MAX_DELETE_KEYS : allowance.removals;
    const batch = ids.slice(done, done + Math.min(MAX_DELETE_KEYS, Math.max(1, room)));
    const current = await deps.checkpoints.getMany(batch);
    const testing = await underTest(simulation, deps);
    const sets = new Set<string>();
    const doomed: Checkpoint[] = [];
    const leftovers: Checkpoint[] = [];
    for (const id of batch) {
      const checkpoint = current.get(id);
      // Moved to the trash by an invocation that died before removing what it moved: finish.
      if (checkpoint?.trash && checkpoint.purgedAt === undefined) leftovers.push(checkpoint);
      if (!checkpoint || checkpoint.state !== "COMPLETE" || checkpoint.favorite) continue;
      const test = testing.get(id);
      const refusal = refusalOf(checkpoint, deps);
      if (test !== undefined) {
        const reason = `under a restore test (job ${test}): kept for the next run`;
        mine.skipped.push({ id, key: checkpoint.location?.key ?? "", reason });
      } else if (refusal !== undefined) {
        mine.skipped.push({ id, key: checkpoint.location?.key ?? "", reason: refusal });
      } else if (waitsForArchive(checkpoint)) {
        mine.awaitingArchive.push(id);
      } else {
        if (checkpoint.location && isObjectSetCheckpoint(checkpoint, deps.providers)) sets.add(id);
        doomed.push(checkpoint);
      }
    }
    const outcome = await removeFiles(doomed, sets, deps, purgeAfter, leftovers);
    mine.removed.push(...outcome.removed);
    mine.trashed.push(...outcome.trashed);
    mine.failed.push(...outcome.failed);
    mine.bytes += outcome.bytes;
    trashedBytes += outcome.trashedBytes;
    done += batch.length;
    allowance.removals -= batch.length;
  }

  const order = new Map(plan.remove.map((r, i) => [r.id, i]));
  const byPlan = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
  mine.removed.sort(byPlan);
  mine.trashed.sort(byPlan);
  const all: Done = {
    removed: [...before.removed, ...mine.removed],
    trashed: [...before.trashed, ...mine.trashed],
    failed: [...before.failed, ...mine.failed],
    awaitingArchive: [...before.awaitingArchive, ...mine.awaitingArchive],
    skipped: [...before.skipped, ...mine.skipped],
    bytes: before.bytes + mine.bytes,
  };
  const stats = { objects: all.removed.length, bytes: all.bytes };
  const jobId = job.id;
  const result = {
    simulation,
    plan,
    jobId,
    report,
    removed: mine.removed,
    trashed: mine.trashed,
    ...(mine.trashed.length > 0 ? { purgeAfter, trashedBytes } : {}),
    failed: mine.failed,
    awaitingArchive: all.awaitingArchive,
    skipped: all.skipped,
  };

  if (done < ids.length) {
    await writeReport(deps, report, {
      run,
      plan,
      ...all,
      purgeAfter,
      generatedAt: carried.generatedAt,
    });
    const now = deps.clock.now();
    try {
      await deps.jobs.save(
        updateRunningJob(job, {
          prune: { done, report: report.key },
          stats,
          deadline: pruneDeadline(now),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError)) throw error;
      // Another invocation carries this job on (a message delivered twice): it hands over.
      return { ...result, outcome: "duplicate" };
    }
    await handOver(run, simulation, deps);
    return { ...result, outcome: "continued" };
  }

  const inTrash = all.trashed.length > 0 ? { purgeAfter } : {};
  await writeReport(deps, report, {
    run,
    plan,
    ...all,
    ...inTrash,
    generatedAt: carried.generatedAt,
  });
  const finishedAt = deps.clock.now();
  const failed = all.failed;
  await deps.jobs.save(
    failed.length === 0
      ? succeedJob(job, finishedAt, stats)
      : {
          ...failJob(
            job,
            {
              code: "FilesNotDeleted",
              message: `${failed.length} snapshot files (or platform checkpoints, or sets of files) could not be deleted; their checkpoints stay COMPLETE and the next run retries them`,
            },
            finishedAt,
          ),
          stats,
        },
  );
  if (all.removed.length > 0 || failed.length > 0) {
    await deps.events.publish([
      checkpointsPruned({
        simulation,
        jobId,
        removed: all.removed,
        kept: plan.keep,
        failed: failed.map((f) => f.id),
        report,
        trashed: all.trashed,
        ...inTrash,
      }),
    ]);
  }
  return { ...result, outcome: failed.length === 0 ? "pruned" : "partial" };
}

/**
 * Removes the planned checkpoints: records without a file at once, platform-held ones through
 * their platform, object sets (`sets`, by id) with `deleteObjectSet`, and snapshot files in
 * DeleteObjects batches; each is marked DELETED only once its bytes are confirmed gone. With the
 * trash, each goes there instead (see `PruneDeps.trash`), and `leftovers` (checkpoints of the
 * batch already trashed, by an invocation that died before removing the originals) lose what is
 * left of them at their place.
 */
async function removeFiles(
  doomed: Checkpoint[],
  sets: ReadonlySet<string>,
  deps: PruneDeps,
  purgeAfter: string | undefined,
  leftovers: readonly Checkpoint[] = [],
) {
  const removed: string[] = [];
  const trashed: string[] = [];
  const failed: PruneSimulationResult["failed"] = [];
  let bytes = 0;
  let trashedBytes = 0;
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
  // A platform's checkpoint to the trash: DELETED now, its platform's delete at the purge.
  const trashHeld = async (checkpoint: Checkpoint): Promise<void> => {
    let current: Checkpoint | undefined = checkpoint;
    for (let attempt = 0; attempt < 3 && current?.state === "COMPLETE"; attempt++) {
      if (current.favorite || purgeAfter === undefined) return;
      try {
        await deps.checkpoints.save(trashHeldCheckpoint(current, new Date(purgeAfter), now()));
        removed.push(current.id);
        trashed.push(current.id);
        bytes += current.size ?? 0;
        trashedBytes += current.size ?? 0;
        return;
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError)) throw error;
        current = await deps.checkpoints.get(checkpoint.id);
      }
    }
  };
  await forEachLimited(
    doomed.filter((c) => c.platformId !== undefined),
    CONCURRENCY,
    async (checkpoint) => {
      const outcome = await removeHeld(checkpoint, deps, purgeAfter !== undefined);
      if (outcome.kind === "failed") failed.push({ id: checkpoint.id, ...outcome.failure });
      if (outcome.kind === "trash") await trashHeld(outcome.checkpoint);
      if (outcome.kind === "deleted") await markDeleted(outcome.checkpoint, outcome.reason);
    },
  );

  const trash = deps.trash;
  const moved = (checkpoint: Checkpoint, outcome: TrashOutcome): void => {
    if (outcome.kind === "failed") {
      const key = checkpoint.location?.key ?? "";
      failed.push({ id: checkpoint.id, key, code: outcome.code, message: outcome.message });
    }
    if (outcome.kind !== "trashed") return;
    removed.push(checkpoint.id);
    bytes += outcome.checkpoint.size ?? 0;
    if (!outcome.checkpoint.trash) return;
    trashed.push(checkpoint.id);
    trashedBytes += outcome.checkpoint.size ?? 0;
  };
  await forEachLimited(
    doomed.filter((c) => sets.has(c.id)),
    SET_CONCURRENCY,
    async (checkpoint) => {
      if (trash && purgeAfter !== undefined) {
        const [current] = await stillRemovable([checkpoint], deps);
        const setDeps = setTrashDeps(deps, trash);
        if (!current) return;
        if (!setDeps) {
          const message = "this function has no access to the files bucket";
          moved(current, { kind: "failed", code: "ObjectSetRefused", message });
          return;
        }
        const keep = (latest: Checkpoint) => latest.favorite;
        moved(current, await moveSetToTrash(current, new Date(purgeAfter), setDeps, keep));
        return;
      }
      const outcome = await removeSet(checkpoint, deps);
      if (outcome.kind === "failed") failed.push({ id: checkpoint.id, ...outcome.failure });
      if (outcome.kind === "deleted") await markDeleted(outcome.checkpoint);
    },
  );

  const files = doomed.filter((c) => c.location && !c.platformId && !sets.has(c.id));
  if (trash && purgeAfter !== undefined) {
    const moves = { ...deps, store: trash.store };
    // Originals whose records say DELETED, removed together (DeleteObjects, 1,000 to a request).
    const originals = new Map<string, string[]>();
    const original = (location: { bucket: string; key: string }) =>
      originals.set(location.bucket, [...(originals.get(location.bucket) ?? []), location.key]);
    for (let i = 0; i < files.length; i += TRASH_READS) {
      // Re-read first (a catalog request for each 100), so a favorite since planning is not even
      // copied; a change after the read still loses the move's conditional write.
      const current = await stillRemovable(files.slice(i, i + TRASH_READS), deps);
      await forEachLimited(current, CONCURRENCY, async (checkpoint) => {
        const outcome = await moveToTrash(
          checkpoint,
          new Date(purgeAfter),
          moves,
          (latest) => latest.favorite,
          { removeOriginal: false },
        );
        moved(checkpoint, outcome);
        if (outcome.kind === "trashed" && outcome.original) original(outcome.original);
      });
    }
    await deleteOriginals(originals, trash);
    await removeLeftovers(leftovers, deps);
    return { removed, trashed, failed, bytes, trashedBytes };
  }

  const byBucket = new Map<string, Checkpoint[]>();
  for (const checkpoint of doomed) {
    if (!checkpoint.location || sets.has(checkpoint.id)) continue;
    const inBucket = byBucket.get(checkpoint.location.bucket);
    if (inBucket) inBucket.push(checkpoint);
    else byBucket.set(checkpoint.location.bucket, [checkpoint]);
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
  return { removed, trashed, failed, bytes, trashedBytes };
}

/**
 * Removes one checkpoint made of a set of objects (see `deleteObjectSet`: the commit marker
 * first, then DeleteObjects batches of 1,000), re-read first so one marked favorite since planning
 * survives. Only `deleted`, decided by a listing after the deletes, lets it become DELETED; any
 * other outcome leaves it COMPLETE, reported, for the next run, which lists what is left and
 * finishes the job (after a crash too: the marker is gone, so the remains are not taken as whole).
 */
async function removeSet(checkpoint: Checkpoint, deps: PruneDeps): Promise<HeldRemoval> {
  const [current] = await stillRemovable([checkpoint], deps);
  if (!current?.location) return { kind: "kept" };
  const { bucket, key } = current.location;
  const failure = (code: string, message: string): HeldRemoval => ({
    kind: "failed",
    failure: { key, code, message },
  });
  const refusal = objectSetRefusal(current.location, deps.files);
  if (refusal !== undefined || deps.files === undefined || deps.fileObjects === undefined) {
    return failure(
      "ObjectSetRefused",
      refusal ?? "this function has no access to the files bucket",
    );
  }
  const result = await deleteObjectSet(current.location, {
    objects: deps.fileObjects,
    owned: deps.files,
  });
  if (result.outcome === "deleted") return { kind: "deleted", checkpoint: current };
  if (result.outcome === "refused") {
    return failure("ObjectSetRefused", result.reason ?? "refused");
  }
  const first = result.failed[0];
  return failure(
    first?.code ?? "ObjectSetNotDeleted",
    `${result.remaining.length} objects remain under s3://${bucket}/${key} after the deletes` +
      (first
        ? ` (${result.failed.length} refused by S3, e.g. ${first.key}: ${first.message})`
        : "") +
      "; the checkpoint stays COMPLETE and the next run finishes it",
  );
}

/**
 * Deletes originals whose records already say DELETED (the trash holds their copies), 1,000 keys
 * to a DeleteObjects request. Best effort: the purge removes an original S3 keeps with its copy.
 */
async function deleteOriginals(
  originals: ReadonlyMap<string, readonly string[]>,
  trash: TrashSettings,
): Promise<void> {
  for (const [bucket, keys] of originals) {
    for (let i = 0; i < keys.length; i += MAX_DELETE_KEYS) {
      await trash.store
        .deleteMany(bucket, keys.slice(i, i + MAX_DELETE_KEYS))
        .catch(() => undefined);
    }
  }
}

/**
 * Removes what moves to the trash left at their places when the invocation making them died
 * after their records and before the originals went: a snapshot file, or a set's objects (those
 * its trash copies hold, marker first). Best effort, as the purge removes the rest.
 */
async function removeLeftovers(leftovers: readonly Checkpoint[], deps: PruneDeps): Promise<void> {
  const trash = deps.trash;
  if (!trash || leftovers.length === 0) return;
  const setDeps = setTrashDeps(deps, trash);
  const originals = new Map<string, string[]>();
  // Read again just before: one undeleted since is COMPLETE, and its bytes are its own again.
  const current = await deps.checkpoints.getMany(leftovers.map((c) => c.id));
  const still = leftovers.filter((c) => {
    const now = current.get(c.id);
    return now?.state === "DELETED" && now.trash?.key === c.trash?.key && !now.purgedAt;
  });
  for (const leftover of still) {
    const location = leftover.location;
    if (!location) continue;
    if (isObjectSetCheckpoint(leftover, deps.providers)) {
      if (setDeps) await removeTrashedOriginals(leftover, setDeps).catch(() => undefined);
    } else if (ownershipRefusal(location, deps.owned) === undefined) {
      originals.set(location.bucket, [...(originals.get(location.bucket) ?? []), location.key]);
    }
  }
  await deleteOriginals(originals, trash);
}

/**
 * The ports a set's move to the trash needs, from the prune's own; undefined when the function
 * has no files sources or no access to their bucket.
 */
function setTrashDeps(deps: PruneDeps, trash: TrashSettings) {
  if (deps.files === undefined || deps.fileObjects === undefined) return undefined;
  return {
    checkpoints: deps.checkpoints,
    store: trash.store,
    fileObjects: deps.fileObjects,
    files: deps.files,
    owned: deps.owned,
    clock: deps.clock,
  };
}

/** What removing one platform-held checkpoint (or set of objects) led to. */
type HeldRemoval =
  | { kind: "deleted"; checkpoint: Checkpoint; reason?: ErrorInfo }
  /** The platform holds it COMPLETE, and the trash keeps it there until the purge. */
  | { kind: "trash"; checkpoint: Checkpoint }
  | { kind: "kept" }
  | { kind: "failed"; failure: { key: string; code: string; message: string } };

/**
 * Removes one checkpoint a platform holds, through that platform (its provider by the name the
 * checkpoint records), and says so only once the platform confirms it is DELETED (or no longer
 * knows it). The record is re-read first and the platform asked too, so a checkpoint marked
 * favorite on either side since planning survives, and one the platform already deleted itself is
 * recorded with that reason. A retryable platform error is tried once more; a failure leaves the
 * checkpoint COMPLETE for the next run. With `toTrash`, a checkpoint the platform holds COMPLETE
 * is not deleted there: the caller records it trashed, and the purge deletes it after
 * `purgeAfter`.
 */
async function removeHeld(
  checkpoint: Checkpoint,
  deps: PruneDeps,
  toTrash: boolean,
): Promise<HeldRemoval> {
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
      if (toTrash) return { kind: "trash", checkpoint: current };
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

/**
 * Re-reads a batch just before deletion (100 to a catalog request) and drops any checkpoint that
 * became favorite or changed state.
 */
async function stillRemovable(batch: Checkpoint[], deps: PruneDeps): Promise<Checkpoint[]> {
  const current = await deps.checkpoints.getMany(batch.map((checkpoint) => checkpoint.id));
  return batch
    .map((checkpoint) => current.get(checkpoint.id))
    .filter((c): c is Checkpoint => c?.state === "COMPLETE" && !c.favorite);
}

async function writeReport(
  deps: PruneDeps,
  location: { bucket: string; key: string },
  content: {
    run: PruneRun;
    plan: RetentionPlan;
    removed: string[];
    trashed?: string[];
    purgeAfter?: string;
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
    trashed: content.trashed ?? [],
    purgeAfter: content.purgeAfter,
    failed: content.failed,
    awaitingArchive: content.awaitingArchive,
    skipped: content.skipped,
  };
  await deps.objects.put(location, JSON.stringify(body, null, 2), "application/json");
}
