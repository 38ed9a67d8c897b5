import type { Checkpoint, ErrorInfo } from "./checkpoint.ts";
import type { Job } from "./job.ts";
import { STOP_STEPS } from "./stop.ts";

/**
 * How long past its due time each kind of step is taken for lost, in seconds. A step's message
 * that failed or crashed is delivered again by its queue; only past these margins is it gone
 * (dead-lettered, or lost with the local stack's in-memory queues).
 */
export interface SweepGrace {
  /** A requested snapshot job's status check, or a checkpoint-on-stop's re-check (`status-checks`). */
  statusCheck: number;
  /**
   * A snapshot request no CreateSnapshot call came of (`snapshot-requests`): longer, because a
   * conflict retry may legitimately hold the request back for up to 900 s between attempts.
   */
  snapshotRequest: number;
  /** A restore job's step (`restore-steps`). */
  restoreStep: number;
  /** The end of a stop's final snapshot reaching finish-stop (`final-snapshots`). */
  finalSnapshot: number;
  /** A verification job's step (`verification-steps`). */
  verificationStep: number;
}

/** What the sweeper knows of one open job besides the job itself. */
export interface SweepContext {
  now: Date;
  /** The deadline the job is held to (`jobDeadline`). */
  deadline: string;
  grace: SweepGrace;
  /** The job's checkpoint (snapshot and stop jobs), undefined when it does not exist (yet). */
  checkpoint?: Pick<Checkpoint, "id" | "state" | "modifiedAt" | "error">;
}

/**
 * What to do with one open job: nothing (it is fresh, or someone else's step is still due), fail
 * it with a reason, re-send the step its queue lost, or finish a snapshot job whose checkpoint
 * already ended without it.
 */
export type SweepDecision =
  | { action: "none" }
  | { action: "fail"; error: ErrorInfo }
  | { action: "settle" }
  | { action: "resend"; step: SweepStep };

/** The steps the sweeper can send again, each to the queue whose consumer takes it. */
export type SweepStep =
  | "status-check"
  | "snapshot-request"
  | "restore-step"
  | "final-snapshot-request"
  | "final-snapshot-ended"
  | "verification-step";

/** True once `graceSeconds` have passed since `since` (an ISO time or epoch milliseconds). */
const overdue = (since: string | number, graceSeconds: number, now: Date): boolean =>
  now.getTime() >= (typeof since === "number" ? since : Date.parse(since)) + graceSeconds * 1000;

/** Code of every failure the sweeper decides, beside the message naming what the job waited for. */
export const DEADLINE_EXCEEDED = "DeadlineExceeded";

const deadlineError = (job: Job, deadline: string, waitingFor: string): ErrorInfo => ({
  code: DEADLINE_EXCEEDED,
  message: `The ${job.kind} job did not end by its deadline ${deadline}: ${waitingFor}`,
});

/**
 * The sweeper's rule for one open job, a pure function of the job, its checkpoint and the time,
 * so that what happens to a stuck job of each kind is decided (and tested) in one place. A job
 * past its deadline fails, naming what it was waiting for; a job whose step is overdue by more
 * than its grace gets that step again; anything else is left to the messages still on their way.
 */
export function sweepDecision(job: Job, context: SweepContext): SweepDecision {
  switch (job.kind) {
    case "snapshot":
      return snapshotDecision(job, context);
    case "stop":
      return stopDecision(job, context);
    case "restore":
      return restoreDecision(job, context);
    case "verify":
      return verificationDecision(job, context);
    case "prune":
    case "archive":
      return pastDeadline(context)
        ? {
            action: "fail",
            error: deadlineError(
              job,
              context.deadline,
              "its run stopped before it recorded a result",
            ),
          }
        : { action: "none" };
  }
}

const pastDeadline = ({ now, deadline }: SweepContext): boolean =>
  now.getTime() >= Date.parse(deadline);

function snapshotDecision(job: Job, context: SweepContext): SweepDecision {
  const { now, grace, checkpoint } = context;
  // The checkpoint ended but the job was not saved after it (a crash in between): the job follows
  // once the writer that ended the checkpoint has surely finished or died.
  if (checkpoint && checkpoint.state !== "PENDING") {
    return overdue(checkpoint.modifiedAt, grace.statusCheck, now)
      ? { action: "settle" }
      : { action: "none" };
  }
  if (job.requestedAt) {
    if (pastDeadline(context)) {
      const check = job.nextCheckAt
        ? ` (status check ${job.checks} was due at ${job.nextCheckAt})`
        : "";
      return {
        action: "fail",
        error: deadlineError(
          job,
          context.deadline,
          `CreateSnapshot was accepted at ${job.requestedAt}, but no snapshot file was found${check}`,
        ),
      };
    }
    return overdue(job.nextCheckAt ?? job.requestedAt, grace.statusCheck, now)
      ? { action: "resend", step: "status-check" }
      : { action: "none" };
  }
  if (pastDeadline(context)) {
    return {
      action: "fail",
      error: deadlineError(
        job,
        context.deadline,
        `CreateSnapshot was never accepted (${job.attempts} attempts)`,
      ),
    };
  }
  if (job.claimedUntil && Date.parse(job.claimedUntil) > now.getTime()) return { action: "none" };
  if (!overdue(job.nextCheckAt ?? job.startTime, grace.snapshotRequest, now)) {
    return { action: "none" };
  }
  if (job.requestId && checkpoint) return { action: "resend", step: "snapshot-request" };
  // Attempts were made: a conflict retry may still be on its way, so only the deadline ends it.
  if (job.attempts > 0) return { action: "none" };
  return {
    action: "fail",
    error: {
      code: "RequestLost",
      message:
        "The snapshot request was lost before CreateSnapshot was called, and it cannot be sent " +
        `again: ${job.requestId ? `checkpoint ${job.checkpointId} does not exist` : "the job records no request id"}`,
    },
  };
}

/**
 * A stop through a platform that checkpoints while stopping moves on by its own re-checks (status
 * checks, which also make a stop call that was never accepted): one overdue is sent again, and
 * past the deadline the job fails, naming what it waited for.
 */
function checkpointOnStopDecision(job: Job, context: SweepContext): SweepDecision {
  const { now, grace, checkpoint } = context;
  if (pastDeadline(context)) {
    const waitingFor = !job.stop?.call?.acceptedAt
      ? "the platform never accepted its stop call"
      : `it was waiting for the platform's final checkpoint (${
          job.checkpointId
            ? `checkpoint ${job.checkpointId} ${checkpoint ? `is ${checkpoint.state}` : "is not cataloged"}`
            : "none was created after the stop call"
        })`;
    return { action: "fail", error: deadlineError(job, context.deadline, waitingFor) };
  }
  return overdue(job.nextCheckAt ?? job.startTime, grace.statusCheck, now)
    ? { action: "resend", step: "status-check" }
    : { action: "none" };
}

function stopDecision(job: Job, context: SweepContext): SweepDecision {
  // Refused when it was recorded, and its request-stop never saved the refusal (it crashed, and
  // no redelivery came): it ends as refused, the simulation untouched.
  if (job.stop?.refusal) return { action: "fail", error: job.stop.refusal };
  if (job.stop?.checkpointOnStop) return checkpointOnStopDecision(job, context);
  const { now, grace, checkpoint } = context;
  const snapshotStep = job.steps?.find((s) => s.name === STOP_STEPS.finalSnapshot);
  const waitingForSnapshot = snapshotStep?.status === "RUNNING";
  if (pastDeadline(context)) {
    const waitingFor = waitingForSnapshot
      ? `it was waiting for its final snapshot (checkpoint ${job.checkpointId} ${
          checkpoint ? `is ${checkpoint.state}` : "was never created"
        })`
      : "it was waiting for StopSimulation to be done";
    return { action: "fail", error: deadlineError(job, context.deadline, waitingFor) };
  }
  if (!waitingForSnapshot) return { action: "none" };
  if (!checkpoint) {
    return overdue(job.nextCheckAt ?? job.startTime, grace.snapshotRequest, now)
      ? { action: "resend", step: "final-snapshot-request" }
      : { action: "none" };
  }
  if (checkpoint.state !== "COMPLETE" && checkpoint.state !== "FAILED") return { action: "none" };
  // From the end of the snapshot, or from the sweeper's own last re-send, whichever is later.
  const since = Math.max(
    Date.parse(checkpoint.modifiedAt),
    job.nextCheckAt ? Date.parse(job.nextCheckAt) : 0,
  );
  return overdue(since, grace.finalSnapshot, now)
    ? { action: "resend", step: "final-snapshot-ended" }
    : { action: "none" };
}

function restoreDecision(job: Job, context: SweepContext): SweepDecision {
  if (pastDeadline(context)) {
    const phase = job.restore?.phase ?? "in an unknown phase";
    const step = job.nextCheckAt ? `, its step due at ${job.nextCheckAt}` : "";
    return {
      action: "fail",
      error: deadlineError(job, context.deadline, `it was ${phase}${step}`),
    };
  }
  return overdue(job.nextCheckAt ?? job.startTime, context.grace.restoreStep, context.now)
    ? { action: "resend", step: "restore-step" }
    : { action: "none" };
}

/**
 * A verification job past its deadline fails through its own path, which first decides a FAILED
 * verdict (no verdict by then: the throwaway never proved anything) and goes on to clean up; past
 * the cleanup deadline it ends, naming the throwaway that may be left. Either way the message
 * names the phase it stopped in. An overdue step is sent again, as for a restore.
 */
function verificationDecision(job: Job, context: SweepContext): SweepDecision {
  if (pastDeadline(context)) {
    const progress = job.verify;
    const waitingFor = progress?.verdict
      ? `it was cleaning up (${progress.phase}) throwaway simulation ${progress.target}, which its MaximumDuration ${progress.maximumDuration} stops if nothing else does`
      : `it was ${progress?.phase ?? "in an unknown phase"} throwaway simulation ${progress?.target ?? "(none)"} and reached no verdict`;
    return { action: "fail", error: deadlineError(job, context.deadline, waitingFor) };
  }
  return overdue(job.nextCheckAt ?? job.startTime, context.grace.verificationStep, context.now)
    ? { action: "resend", step: "verification-step" }
    : { action: "none" };
}
