import { backoffSeconds } from "./backoff.ts";
import type { Job } from "./job.ts";

/** What a snapshot job's deadline derives from: the snapshot settings of the functions. */
export interface SnapshotDeadlineTiming {
  deadlineSeconds: number;
  conflictRetrySeconds: number;
  conflictMaxAttempts: number;
}

/**
 * Longest wait take-snapshot puts between two `CreateSnapshot` attempts after a conflict: SQS's
 * longest delay, which is the cap take-snapshot gives its backoff.
 */
const CONFLICT_MAX_DELAY_SECONDS = 900;

/**
 * After the final snapshot's own deadline, how long a stop still waits: one sweep to fail that
 * snapshot (every 5 minutes), its `Checkpoint Failed` event's way to finish-stop, and slack. The
 * stop must not fail first, or it would report a timeout instead of the snapshot's own reason.
 */
export const STOP_DEADLINE_MARGIN_SECONDS = 600;

/**
 * How long a prune job may run: five times the prune function's 300 s timeout, which covers the
 * 60 s debounce delay, an invocation that dies at its timeout and one redelivery after the queue's
 * 900 s visibility timeout running to its own timeout (a test holds this against the topology).
 */
export const PRUNE_DEADLINE_SECONDS = 1500;

/**
 * Deadline of a kind that simsnap creates no job records for (`archive`: archiving is tracked on
 * the checkpoint, not as a job), used only if such a record ever turns up.
 */
const OTHER_DEADLINE_SECONDS = 86_400;

const plus = (start: Date, seconds: number): string =>
  new Date(start.getTime() + seconds * 1000).toISOString();

/**
 * Every conflict backoff take-snapshot may wait before its last attempt, so that a job retrying a
 * snapshot already in progress is not failed while it still has attempts left.
 */
function conflictBudgetSeconds(timing: SnapshotDeadlineTiming): number {
  let total = 0;
  for (let attempt = 1; attempt < timing.conflictMaxAttempts; attempt++) {
    total += backoffSeconds(attempt - 1, {
      baseSeconds: timing.conflictRetrySeconds,
      maxSeconds: CONFLICT_MAX_DELAY_SECONDS,
    });
  }
  return total;
}

/**
 * A snapshot job's deadline at its start: the snapshot deadline plus every conflict retry it may
 * wait through. take-snapshot moves it to "accepted + snapshot deadline" once CreateSnapshot is
 * accepted; until then this is what bounds a job whose request was lost.
 */
export const snapshotDeadline = (start: Date, timing: SnapshotDeadlineTiming): string =>
  plus(start, timing.deadlineSeconds + conflictBudgetSeconds(timing));

/** A stop job's deadline: its final snapshot's deadline, plus the margin to hear how it ended. */
export const stopDeadline = (start: Date, timing: SnapshotDeadlineTiming): string =>
  plus(
    start,
    timing.deadlineSeconds + conflictBudgetSeconds(timing) + STOP_DEADLINE_MARGIN_SECONDS,
  );

/** A prune job's deadline (see `PRUNE_DEADLINE_SECONDS`). */
export const pruneDeadline = (start: Date): string => plus(start, PRUNE_DEADLINE_SECONDS);

/** What the deadline of a record written before deadlines existed derives from. */
export interface DeadlineDefaults {
  snapshot: SnapshotDeadlineTiming;
  restoreDeadlineSeconds: number;
}

/**
 * The deadline a job is held to: its own, or, for records written before every job had one, the
 * deadline its kind gets today counted from its start time, so old records end too.
 */
export function jobDeadline(
  job: Pick<Job, "kind" | "startTime" | "deadline">,
  defaults: DeadlineDefaults,
): string {
  if (job.deadline) return job.deadline;
  const start = new Date(job.startTime);
  switch (job.kind) {
    case "snapshot":
      return snapshotDeadline(start, defaults.snapshot);
    case "stop":
      return stopDeadline(start, defaults.snapshot);
    case "restore":
      return plus(start, defaults.restoreDeadlineSeconds);
    case "prune":
      return pruneDeadline(start);
    // A verification job always records its deadline (verdict, then cleanup); never derived.
    case "archive":
    case "verify":
      return plus(start, OTHER_DEADLINE_SECONDS);
  }
}
