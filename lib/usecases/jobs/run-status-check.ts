import type { StatusCheck } from "../../domain/messages.ts";
import {
  checkSnapshot,
  type CheckSnapshotDeps,
  type CheckSnapshotResult,
} from "../snapshot/check-snapshot.ts";
import {
  checkCheckpointOnStop,
  type StopCheckPorts,
  type StopCheckResult,
} from "../stop/checkpoint-on-stop.ts";

/** What the status-checks consumer needs: a snapshot job's check and a stop's re-check. */
export type StatusCheckDeps = CheckSnapshotDeps & StopCheckPorts;

/** What one status check did, with the kind of job it checked. */
export type StatusCheckResult =
  ({ job: "snapshot" } & CheckSnapshotResult) | ({ job: "stop" } & StopCheckResult);

/**
 * The status-checks queue carries the delayed checks of two kinds of job, in one message shape
 * (`jobId`, `check`, `dueAt`): a snapshot job's (is the file there?) and a checkpoint-on-stop
 * stop's (is the platform's checkpoint COMPLETE?). The job's kind decides which check runs, so
 * one consumer, one queue and the sweeper's one re-send serve both.
 */
export async function runStatusCheck(
  check: StatusCheck,
  deps: StatusCheckDeps,
): Promise<StatusCheckResult> {
  const job = await deps.jobs.get(check.jobId);
  if (job?.kind === "stop") return { job: "stop", ...(await checkCheckpointOnStop(check, deps)) };
  return { job: "snapshot", ...(await checkSnapshot(check, deps)) };
}
