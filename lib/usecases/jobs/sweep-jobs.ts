import type { Checkpoint, ErrorInfo } from "../../domain/checkpoint.ts";
import { AppError, ConcurrentModificationError } from "../../domain/errors.ts";
import { checkpointCompleted, checkpointFailed } from "../../domain/events.ts";
import { jobDeadline, type DeadlineDefaults } from "../../domain/job-deadline.ts";
import { sweepDecision, type SweepGrace, type SweepStep } from "../../domain/job-sweep.ts";
import {
  failJob,
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
  type JobKind,
  type JobStatus,
} from "../../domain/job.ts";
import {
  FinalSnapshotEventSchema,
  type FinalSnapshotEvent,
  type SnapshotRequest,
  type StatusCheck,
} from "../../domain/messages.ts";
import type { RestoreStep } from "../../domain/restore.ts";
import type { VerificationStep } from "../../domain/verification.ts";
import { closeRunningSteps, cycleStopError } from "../../domain/stop.ts";
import { parseInput } from "../../domain/validation.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../ports/messaging.ts";
import { finalSnapshotRequest } from "../stop/request-stop.ts";
import { failRestore } from "../restore/restore-checkpoint.ts";
import { failSnapshotJob } from "../snapshot/snapshot-job.ts";
import { refuseStop } from "../stop/stop-job.ts";
import { expireVerification } from "../verification/advance-verification.ts";

/**
 * What the sweeper needs: the catalog, the bus, and every queue whose step it may send again.
 * It calls no provider: each re-sent step is carried out by the step's own function.
 */
export interface SweepJobsDeps {
  jobs: JobStore;
  checkpoints: CheckpointStore;
  events: EventPublisher;
  clock: Clock;
  statusChecks: MessageQueue<StatusCheck>;
  requests: MessageQueue<SnapshotRequest>;
  restoreSteps: MessageQueue<RestoreStep>;
  finalSnapshots: MessageQueue<FinalSnapshotEvent>;
  verificationSteps: MessageQueue<VerificationStep>;
  /** Deadlines of records written before every job had one. */
  deadlines: DeadlineDefaults;
  grace: SweepGrace;
}

/** One job the sweep acted on. */
export interface SweptJob {
  jobId: string;
  kind: JobKind;
  simulation: string;
  /** `resent`: its lost step was sent again; `failed`/`settled`: it ended, with `status`. */
  action: "resent" | "failed" | "settled";
  step?: SweepStep;
  status?: JobStatus;
  error?: ErrorInfo;
}

/** What one sweep did. */
export interface SweepJobsResult {
  /** Open jobs looked at. */
  examined: number;
  swept: SweptJob[];
  /** Jobs the sweep could not handle this time (the next sweep tries again). */
  errors: { jobId: string; kind: JobKind; simulation: string; message: string }[];
}

/** Open jobs read per page of the `openJobs` index. */
const PAGE_SIZE = 100;

/**
 * The scheduled safety net under every job: a job's deadline is otherwise checked only when one
 * of its own messages runs, so a message lost to a crash, a dead-letter queue or the local stack's
 * in-memory queues would leave the job RUNNING forever. For each open job (the `openJobs` index,
 * across simulations) it applies `sweepDecision`: past its deadline the job fails through its
 * kind's own failure path, with the same events; a step overdue past its grace is sent again to
 * its queue, after the job is marked with a new `nextCheckAt` by a conditional write, so that two
 * sweeps never send one step twice and the lost original, should it turn up, is stale. One job's
 * error does not stop the sweep of the others.
 */
export async function sweepJobs(deps: SweepJobsDeps): Promise<SweepJobsResult> {
  const result: SweepJobsResult = { examined: 0, swept: [], errors: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.jobs.listAllOpen({ limit: PAGE_SIZE, cursor });
    for (const listed of page.items) {
      result.examined += 1;
      try {
        const swept = await sweepJob(listed, deps);
        if (swept) result.swept.push(swept);
      } catch (error) {
        result.errors.push({
          jobId: listed.id,
          kind: listed.kind,
          simulation: listed.simulation,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return result;
}

async function sweepJob(listed: Job, deps: SweepJobsDeps): Promise<SweptJob | undefined> {
  // The index is eventually consistent: decide on the job as it is now, not as it was listed.
  const job = await deps.jobs.get(listed.id);
  if (!job || isJobFinished(job)) return undefined;
  const checkpoint =
    (job.kind === "snapshot" || job.kind === "stop") && job.checkpointId
      ? await deps.checkpoints.get(job.checkpointId)
      : undefined;
  const decision = sweepDecision(job, {
    now: deps.clock.now(),
    deadline: jobDeadline(job, deps.deadlines),
    grace: deps.grace,
    checkpoint,
  });
  const base = { jobId: job.id, kind: job.kind, simulation: job.simulation };
  try {
    switch (decision.action) {
      case "none":
        return undefined;
      case "fail":
        return (await fail(job, decision.error, deps))
          ? { ...base, action: "failed", status: "FAILED", error: decision.error }
          : undefined;
      case "settle": {
        const status = await settle(job, checkpoint as Checkpoint, deps);
        return { ...base, action: "settled", status };
      }
      case "resend":
        return (await resend(job, decision.step, checkpoint, deps))
          ? { ...base, action: "resent", step: decision.step }
          : undefined;
    }
  } catch (error) {
    // Someone moved the job on between our read and our write: it is not stuck.
    if (error instanceof ConcurrentModificationError) return undefined;
    throw error;
  }
}

/** Fails a job through its kind's own failure path; false when someone else ended it first. */
async function fail(job: Job, error: ErrorInfo, deps: SweepJobsDeps): Promise<boolean> {
  switch (job.kind) {
    case "snapshot":
      await failSnapshotJob(job, error, deps);
      return true;
    case "stop": {
      const now = deps.clock.now().toISOString();
      const steps = closeRunningSteps(job.steps, now, error.message);
      // A cycle's stop also says that its simulation was not started again.
      const reported = cycleStopError(job.stop, error);
      const failed = await refuseStop({ ...job, steps }, reported, deps);
      // refuseStop returns the failed job even when another writer ended it first.
      const stored = await deps.jobs.get(job.id);
      return stored?.endTime === failed.endTime && stored?.error?.message === reported.message;
    }
    case "restore":
      return failRestore(job, error, deps);
    case "verify":
      return expireVerification(job, error, { ...deps, steps: deps.verificationSteps });
    case "prune":
    case "archive":
      await deps.jobs.save(failJob(job, error, deps.clock.now()));
      return true;
  }
}

/**
 * Ends a snapshot job whose checkpoint already ended without it (a crash between the two
 * writes), as the checkpoint says, and publishes the checkpoint's event again: the crash may
 * have come before it was published, and every consumer takes a repeated event as one.
 */
async function settle(job: Job, checkpoint: Checkpoint, deps: SweepJobsDeps): Promise<JobStatus> {
  const now = deps.clock.now();
  if (checkpoint.state === "COMPLETE") {
    await deps.jobs.save(succeedJob(job, now, { objects: 1, bytes: checkpoint.size ?? 0 }));
    await deps.events.publish([checkpointCompleted(checkpoint)]);
    return "SUCCEEDED";
  }
  const error = checkpoint.error ?? {
    code: "CheckpointEnded",
    message: `Checkpoint ${checkpoint.id} is ${checkpoint.state}`,
  };
  await deps.jobs.save(failJob(job, error, now));
  if (checkpoint.state === "FAILED") await deps.events.publish([checkpointFailed(checkpoint)]);
  return "FAILED";
}

/**
 * Sends a lost step again. The job is marked first (`nextCheckAt` = now, a conditional write),
 * so of two sweeps racing only one sends, and a status check or restore step carries that very
 * time as its `dueAt`, which its consumer accepts while no other step has run since.
 */
async function resend(
  job: Job,
  step: SweepStep,
  checkpoint: Checkpoint | undefined,
  deps: SweepJobsDeps,
): Promise<boolean> {
  const message = step === "snapshot-request" ? rebuiltRequest(job, checkpoint) : undefined;
  const dueAt = deps.clock.now().toISOString();
  await deps.jobs.save(updateRunningJob(job, { nextCheckAt: dueAt }));
  switch (step) {
    case "status-check":
      await deps.statusChecks.send({ jobId: job.id, check: job.checks, dueAt });
      return true;
    case "restore-step":
      await deps.restoreSteps.send({ jobId: job.id, step: job.checks, dueAt });
      return true;
    case "snapshot-request":
      await deps.requests.send(message as SnapshotRequest);
      return true;
    case "final-snapshot-request":
      await deps.requests.send(finalSnapshotRequest(job));
      return true;
    case "final-snapshot-ended":
      await deps.finalSnapshots.send(finalSnapshotEnded(checkpoint));
      return true;
    case "verification-step":
      await deps.verificationSteps.send({ jobId: job.id, step: job.checks, dueAt });
      return true;
  }
}

/**
 * The request that started a snapshot job, rebuilt from the job (its request id) and its
 * checkpoint (name, description, tags, trigger), which take-snapshot turns into the same records.
 */
function rebuiltRequest(job: Job, checkpoint: Checkpoint | undefined): SnapshotRequest {
  if (!job.requestId || !checkpoint || checkpoint.trigger === "discovered") {
    throw new AppError(`The snapshot request of job ${job.id} cannot be rebuilt`);
  }
  return {
    requestId: job.requestId,
    simulation: job.simulation,
    trigger: checkpoint.trigger,
    name: checkpoint.name,
    description: checkpoint.description,
    tags: checkpoint.tags,
    requestedAt: job.startTime,
  };
}

/**
 * The `Checkpoint Completed` or `Checkpoint Failed` event of a stop's final snapshot, as the
 * `final-snapshot-ended` rule delivers it to finish-stop, which acts on it only while the stop
 * still waits for that checkpoint.
 */
function finalSnapshotEnded(checkpoint: Checkpoint | undefined): FinalSnapshotEvent {
  if (!checkpoint) throw new AppError("A final snapshot that does not exist has not ended");
  const event =
    checkpoint.state === "COMPLETE"
      ? checkpointCompleted(checkpoint)
      : checkpointFailed(checkpoint);
  return parseInput(
    FinalSnapshotEventSchema,
    { source: "simsnap", "detail-type": event.detailType, detail: event.detail },
    "final snapshot event",
  );
}
