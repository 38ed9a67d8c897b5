import { Metrics } from "@aws-lambda-powertools/metrics";
import type { AdvanceRestoreResult } from "../usecases/restore-checkpoint.ts";
import type { ArchiveCheckpointResult } from "../usecases/archive-checkpoint.ts";
import type { CheckSnapshotResult } from "../usecases/check-snapshot.ts";
import type { CheckpointFreshness } from "../usecases/checkpoint-freshness.ts";
import type { CompleteSnapshotResult } from "../usecases/complete-snapshot.ts";
import type { FinishStopResult } from "../usecases/finish-stop.ts";
import type { PruneArchivesResult } from "../usecases/prune-archives.ts";
import type { PruneSimulationResult } from "../usecases/prune.ts";
import type { SweepJobsResult } from "../usecases/sweep-jobs.ts";
import type { TakeSnapshotResult } from "../usecases/take-snapshot.ts";
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  SCHEDULE_DIMENSION,
  SIMSNAP_METRICS,
  type SimsnapMetricName,
} from "./metric-names.ts";

/** Values of one EMF record; an undefined value is left out (nothing happened to count). */
export type MetricValues = Partial<Record<SimsnapMetricName, number | undefined>>;

const ifAny = (count: number): number | undefined => (count > 0 ? count : undefined);

const secondsSince = (iso: string | undefined, now: Date): number | undefined =>
  iso === undefined ? undefined : Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);

/**
 * Writes one CloudWatch Embedded Metric Format record to standard output, where Lambda's log
 * stream turns it into metrics without an API call. Each call has a `Metrics` instance of its own
 * and flushes at once, so records handled in parallel in one batch cannot flush or clear each
 * other's values, and a failure later in the invocation cannot lose them. Powertools reads
 * `POWERTOOLS_METRICS_DISABLED` on each construction: the local runtime sets it, since nothing
 * reads its standard output as EMF.
 */
export function publishMetrics(values: MetricValues, dimensions: Record<string, string> = {}) {
  const entries = Object.entries(values).filter(
    (entry): entry is [SimsnapMetricName, number] => entry[1] !== undefined,
  );
  if (entries.length === 0) return;
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
  for (const [name, value] of entries) metrics.addMetric(name, SIMSNAP_METRICS[name], value);
  metrics.publishStoredMetrics();
}

// The recorders below turn a use case's result into metrics and hand the result back unchanged,
// so a handler records with `.then(record…)` and the use cases stay free of any metrics code.

/** take-snapshot: a request the provider refused for good failed its job. */
export function recordSnapshotTaken<R extends Pick<TakeSnapshotResult, "outcome">>(result: R): R {
  const failed = result.outcome === "failed" ? 1 : undefined;
  publishMetrics({ SnapshotsFailed: failed, JobsFailed: failed });
  return result;
}

/** complete-snapshot: a file completed its job, or was cataloged as discovered. */
export function recordSnapshotFile<R extends CompleteSnapshotResult>(result: R, now = new Date()) {
  if (result.outcome === "completed") {
    publishMetrics({ SnapshotsCompleted: 1, SnapshotJobAge: secondsSince(result.startedAt, now) });
  } else if (result.outcome === "discovered") {
    publishMetrics({ SnapshotsDiscovered: 1 });
  }
  return result;
}

/** check-snapshot: a status check completed its job (the S3 event was missed) or failed it. */
export function recordSnapshotCheck<R extends CheckSnapshotResult>(result: R, now = new Date()) {
  if (result.outcome === "completed") {
    publishMetrics({ SnapshotsCompleted: 1, SnapshotJobAge: secondsSince(result.startedAt, now) });
  } else if (result.outcome === "failed") {
    publishMetrics({ SnapshotsFailed: 1, JobsFailed: 1 });
  }
  return result;
}

/** observe-shutdown: the open snapshot jobs of a simulation stopped by someone else failed. */
export function recordShutdownObserved<R extends { failed: readonly string[] }>(result: R): R {
  const failed = ifAny(result.failed.length);
  publishMetrics({ SnapshotsFailed: failed, JobsFailed: failed });
  return result;
}

/** finish-stop: a stop whose final snapshot failed (and was not forced) failed its job. */
export function recordStopFinished<R extends Pick<FinishStopResult, "outcome">>(result: R): R {
  publishMetrics({ JobsFailed: result.outcome === "refused" ? 1 : undefined });
  return result;
}

/** prune: files removed and not removed; a refused plan or a partial run fails its job. */
export function recordPrune<R extends readonly PruneSimulationResult[]>(results: R): R {
  publishMetrics({
    CheckpointsPruned: ifAny(results.reduce((sum, r) => sum + r.removed.length, 0)),
    PruneDeleteFailures: ifAny(results.reduce((sum, r) => sum + r.failed.length, 0)),
    JobsFailed: ifAny(
      results.filter((r) => r.outcome === "refused" || r.outcome === "partial").length,
    ),
  });
  return results;
}

/** prune-archives: archive copies removed by archive retention. */
export function recordArchivePrune<R extends readonly PruneArchivesResult[]>(results: R): R {
  publishMetrics({
    ArchivesPruned: ifAny(results.reduce((sum, r) => sum + r.removed.length, 0)),
  });
  return results;
}

/** archive-checkpoint: a checkpoint copied to the archive and verified, and its size. */
export function recordArchive<R extends ArchiveCheckpointResult>(result: R): R {
  if (result.outcome === "archived") {
    publishMetrics({ CheckpointsArchived: 1, ArchivedBytes: result.bytes });
  }
  return result;
}

/** restore-checkpoint: a restore ended, its simulation started or the job failed. */
export function recordRestoreStep<R extends Pick<AdvanceRestoreResult, "outcome">>(result: R): R {
  publishMetrics({
    RestoresCompleted: result.outcome === "succeeded" ? 1 : undefined,
    JobsFailed: result.outcome === "failed" ? 1 : undefined,
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
  publishMetrics({
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
 * off by a simulation that has since stopped clears at the next tick).
 */
export function recordSchedulePlanned(
  schedule: string,
  requested: number,
  freshness: readonly CheckpointFreshness[],
): void {
  publishMetrics({ SnapshotsRequested: requested });
  publishMetrics(
    { CheckpointAge: Math.max(0, ...freshness.map((f) => f.ageSeconds)) },
    { [SCHEDULE_DIMENSION]: schedule },
  );
}
