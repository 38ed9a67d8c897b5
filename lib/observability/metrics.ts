import { Metrics } from "@aws-lambda-powertools/metrics";
import type { MetricsOptions } from "@aws-lambda-powertools/metrics/types";
import type { AdvanceRestoreResult } from "../usecases/restore/restore-checkpoint.ts";
import type { ArchiveCheckpointResult } from "../usecases/archive/archive-checkpoint.ts";
import type { CheckSnapshotResult } from "../usecases/snapshot/check-snapshot.ts";
import type { CheckpointFreshness } from "../usecases/snapshot/checkpoint-freshness.ts";
import type { CompleteSnapshotResult } from "../usecases/snapshot/complete-snapshot.ts";
import type { ReconcileSnapshotsResult } from "../usecases/snapshot/reconcile-snapshots.ts";
import type { FinishStopResult } from "../usecases/stop/finish-stop.ts";
import type { PruneArchivesResult } from "../usecases/retention/prune-archives.ts";
import type { PruneSimulationResult } from "../usecases/retention/prune.ts";
import type { PurgeTrashResult } from "../usecases/retention/purge-trash.ts";
import type { Checkpoint } from "../domain/checkpoint.ts";
import type { SweepJobsResult } from "../usecases/jobs/sweep-jobs.ts";
import type { TakeSnapshotResult } from "../usecases/snapshot/take-snapshot.ts";
import type { AdvanceVerificationResult } from "../usecases/verification/advance-verification.ts";
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  SCHEDULE_DIMENSION,
  SIMSNAP_METRICS,
  type SimsnapMetricName,
} from "./metric-names.ts";
import { logger } from "./logger.ts";

/** Values a recorder adds; an undefined value is left out (nothing happened to count). */
export type MetricValues = Partial<Record<SimsnapMetricName, number | undefined>>;

const ifAny = (count: number): number | undefined => (count > 0 ? count : undefined);

const secondsSince = (iso: string | undefined, now: Date): number | undefined =>
  iso === undefined ? undefined : Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);

const NO_METRICS_WARNING = /^No application metrics to publish/;
const text = (content: unknown[]): string => content.map(String).join(" ");

/**
 * Where Powertools Metrics reports on itself: simsnap's logger, so its lines are structured and
 * carry the request id, except the warning that an invocation published nothing, kept at debug.
 * The recorders count only what happened (take-snapshot counts failures alone), so an invocation
 * without metrics is the rule here, and the warning would be a line of noise per invocation.
 */
const diagnostics: NonNullable<MetricsOptions["logger"]> = {
  debug: (...content: unknown[]) => logger.debug(text(content)),
  info: (...content: unknown[]) => logger.info(text(content)),
  warn: (...content: unknown[]) =>
    NO_METRICS_WARNING.test(text(content))
      ? logger.debug(text(content))
      : logger.warn(text(content)),
  error: (...content: unknown[]) => logger.error(text(content)),
};

/**
 * The metrics of the current invocation. The recorders below add to it, and the `logMetrics`
 * middleware of each function's middy chain writes them as one CloudWatch Embedded Metric Format
 * record when the invocation ends, or fails; Lambda's log stream turns that record into metrics
 * without an API call. Nothing else flushes it, so the records of one SQS batch, handled in
 * parallel, add up in it instead of flushing or clearing each other's values. Powertools reads
 * `POWERTOOLS_METRICS_DISABLED` when this is built (at cold start): the local runtime sets it
 * before it loads the functions, since nothing reads its standard output as EMF.
 */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: METRICS_SERVICE,
  logger: diagnostics,
});

/** Adds the defined values to this invocation's metrics (an undefined one: nothing happened). */
function addMetrics(values: MetricValues): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) {
      metrics.addMetric(name, SIMSNAP_METRICS[name as SimsnapMetricName], value);
    }
  }
}

// The recorders below turn a use case's result into metrics and hand the result back unchanged,
// so a handler records with `.then(record…)` and the use cases stay free of any metrics code.

/** take-snapshot: a request the provider refused for good failed its job. */
export function recordSnapshotTaken<R extends Pick<TakeSnapshotResult, "outcome">>(result: R): R {
  const failed = result.outcome === "failed" ? 1 : undefined;
  addMetrics({ SnapshotsFailed: failed, JobsFailed: failed });
  return result;
}

/** complete-snapshot: a file completed its job, or was cataloged as discovered. */
export function recordSnapshotFile<R extends CompleteSnapshotResult>(result: R, now = new Date()) {
  if (result.outcome === "completed") {
    addMetrics({ SnapshotsCompleted: 1, SnapshotJobAge: secondsSince(result.startedAt, now) });
  } else if (result.outcome === "discovered") {
    addMetrics({ SnapshotsDiscovered: 1 });
  }
  return result;
}

/**
 * complete-snapshot's reconciling scan: files whose event was lost, cataloged as their event
 * would have (counted as complete-snapshot counts them, so the totals do not depend on the path).
 */
export function recordSnapshotsReconciled<R extends Pick<ReconcileSnapshotsResult, "cataloged">>(
  result: R,
): R {
  const count = (outcome: string) => result.cataloged.filter((c) => c.outcome === outcome).length;
  addMetrics({
    SnapshotsCompleted: ifAny(count("completed")),
    SnapshotsDiscovered: ifAny(count("discovered")),
  });
  return result;
}

/** check-snapshot: a status check completed its job (the S3 event was missed) or failed it. */
export function recordSnapshotCheck<R extends CheckSnapshotResult>(result: R, now = new Date()) {
  if (result.outcome === "completed") {
    addMetrics({ SnapshotsCompleted: 1, SnapshotJobAge: secondsSince(result.startedAt, now) });
  } else if (result.outcome === "failed") {
    addMetrics({ SnapshotsFailed: 1, JobsFailed: 1 });
  }
  return result;
}

/** observe-shutdown: the open snapshot jobs of a simulation stopped by someone else failed. */
export function recordShutdownObserved<R extends { failed: readonly string[] }>(result: R): R {
  const failed = ifAny(result.failed.length);
  addMetrics({ SnapshotsFailed: failed, JobsFailed: failed });
  return result;
}

/** finish-stop: a stop whose final snapshot failed (and was not forced) failed its job. */
export function recordStopFinished<R extends Pick<FinishStopResult, "outcome">>(result: R): R {
  addMetrics({ JobsFailed: result.outcome === "refused" ? 1 : undefined });
  return result;
}

/** prune: files removed and not removed; a refused plan or a partial run fails its job. */
export function recordPrune<R extends readonly PruneSimulationResult[]>(results: R): R {
  addMetrics({
    CheckpointsPruned: ifAny(results.reduce((sum, r) => sum + r.removed.length, 0)),
    PruneDeleteFailures: ifAny(results.reduce((sum, r) => sum + r.failed.length, 0)),
    CheckpointsTrashed: ifAny(results.reduce((sum, r) => sum + r.trashed.length, 0)),
    TrashedBytes: ifAny(results.reduce((sum, r) => sum + (r.trashedBytes ?? 0), 0)),
    JobsFailed: ifAny(
      results.filter((r) => r.outcome === "refused" || r.outcome === "partial").length,
    ),
  });
  return results;
}

/** api: a DELETE that moved its checkpoint to the trash (a final delete is not counted). */
export function recordCheckpointDeleted<R extends Checkpoint>(checkpoint: R): R {
  if (checkpoint.trash !== undefined || checkpoint.trashOnPlatform) {
    addMetrics({ CheckpointsTrashed: 1, TrashedBytes: ifAny(checkpoint.size ?? 0) });
  }
  return checkpoint;
}

/** api: a checkpoint brought back from the trash (a repeated undelete counts each time). */
export function recordCheckpointUndeleted<R>(checkpoint: R): R {
  addMetrics({ CheckpointsUndeleted: 1 });
  return checkpoint;
}

/** purge-trash: deletions made final, bytes S3 or a platform kept (tried again), bytes left. */
export function recordTrashPurge<
  R extends Pick<PurgeTrashResult, "purged" | "failed" | "bytesInTrash">,
>(result: R): R {
  addMetrics({
    CheckpointsPurged: ifAny(result.purged.length),
    PurgeFailures: ifAny(result.failed.length),
    // A level, not a count: published every run, 0 included, so the graph shows an empty trash.
    BytesInTrash: result.bytesInTrash,
  });
  return result;
}

/** prune-archives: archive copies removed by archive retention. */
export function recordArchivePrune<R extends readonly PruneArchivesResult[]>(results: R): R {
  addMetrics({
    ArchivesPruned: ifAny(results.reduce((sum, r) => sum + r.removed.length, 0)),
  });
  return results;
}

/** archive-checkpoint: a checkpoint copied to the archive and verified, and its size. */
export function recordArchive<R extends ArchiveCheckpointResult>(result: R): R {
  if (result.outcome === "archived") {
    addMetrics({ CheckpointsArchived: 1, ArchivedBytes: result.bytes });
  }
  return result;
}

/** restore-checkpoint: a restore ended, its simulation started or the job failed. */
export function recordRestoreStep<R extends Pick<AdvanceRestoreResult, "outcome">>(result: R): R {
  addMetrics({
    RestoresCompleted: result.outcome === "succeeded" ? 1 : undefined,
    JobsFailed: result.outcome === "failed" ? 1 : undefined,
  });
  return result;
}

/**
 * verify-checkpoint: a restore test ended with its verdict (the job FAILED when it failed). One
 * abandoned because its checkpoint was deleted meanwhile is a failed job, never a failed
 * verification: the alarm on `VerificationsFailed` must mean a checkpoint that does not restore.
 */
export function recordVerificationStep<R extends Pick<AdvanceVerificationResult, "outcome">>(
  result: R,
): R {
  addMetrics({
    CheckpointsVerified: result.outcome === "passed" ? 1 : undefined,
    VerificationsFailed: result.outcome === "failed" ? 1 : undefined,
    JobsFailed: result.outcome === "failed" || result.outcome === "abandoned" ? 1 : undefined,
  });
  return result;
}

/**
 * sweep-jobs: lost steps sent again, and jobs ended by the sweep (failed at their deadline, or
 * settled as their checkpoint already ended), counted like the same outcomes of their own steps.
 */
export function recordSweep<R extends Pick<SweepJobsResult, "swept">>(result: R): R {
  const ended = result.swept.filter((s) => s.action !== "resent");
  const failed = ended.filter((s) => s.status === "FAILED");
  addMetrics({
    JobsResent: ifAny(result.swept.length - ended.length),
    JobsFailed: ifAny(failed.length),
    SnapshotsFailed: ifAny(failed.filter((s) => s.kind === "snapshot").length),
    SnapshotsCompleted: ifAny(ended.filter((s) => s.status === "SUCCEEDED").length),
  });
  return result;
}

/**
 * plan-snapshots: the requests of one tick, and the staleness of the schedule's simulations as
 * one `CheckpointAge` per schedule, the oldest of them (0 when it selected none, so an alarm set
 * off by a simulation that has since stopped clears at the next tick). The age is written at once
 * as a record of its own: its `Schedule` dimension must not be put on the tick's other metrics.
 */
export function recordSchedulePlanned(
  schedule: string,
  requested: number,
  freshness: readonly CheckpointFreshness[],
): void {
  addMetrics({ SnapshotsRequested: requested });
  const age = metrics.singleMetric();
  age.addDimension(SCHEDULE_DIMENSION, schedule);
  age.addMetric(
    "CheckpointAge",
    SIMSNAP_METRICS.CheckpointAge,
    Math.max(0, ...freshness.map((f) => f.ageSeconds)),
  );
}
