import { backoffSeconds, queueDelaySeconds } from "../../domain/backoff.ts";
import type { Checkpoint } from "../../domain/checkpoint.ts";
import {
  ProviderError,
  RetryLaterError,
  ConcurrentModificationError,
} from "../../domain/errors.ts";
import { snapshotRequested } from "../../domain/events.ts";
import { deterministicId } from "../../domain/ids.ts";
import { snapshotDeadline, type SnapshotDeadlineTiming } from "../../domain/job-deadline.ts";
import { DEADLINE_EXCEEDED } from "../../domain/job-sweep.ts";
import { isJobFinished, updateRunningJob, type Job, startJob } from "../../domain/job.ts";
import type { SnapshotRequest, StatusCheck } from "../../domain/messages.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import type { SimulationProvider, SnapshotDestination } from "../../ports/simulation-provider.ts";
import { failSnapshotJob, type SnapshotJobPorts } from "./snapshot-job.ts";

/** Timing rules of snapshot jobs, from the function's settings. */
export interface SnapshotTiming {
  firstCheckSeconds: number;
  maxCheckSeconds: number;
  deadlineSeconds: number;
  conflictRetrySeconds: number;
  conflictMaxAttempts: number;
}

/** What take-snapshot needs. */
export interface TakeSnapshotDeps extends SnapshotJobPorts {
  provider: SimulationProvider;
  statusChecks: MessageQueue<StatusCheck>;
  destination: SnapshotDestination;
  timing: SnapshotTiming;
}

/** What happened to one request. */
export interface TakeSnapshotResult {
  outcome: "requested" | "duplicate" | "failed";
  checkpointId: string;
  jobId: string;
}

/** How long one delivery holds a job while it calls CreateSnapshot. */
export const CLAIM_SECONDS = 60;

/** The checkpoint and job ids of a request, stable across deliveries. */
export const snapshotIdsFor = (requestId: string) => ({
  checkpointId: deterministicId("checkpoint", requestId),
  jobId: deterministicId("job", requestId),
});

const defaultName = (request: SnapshotRequest): string =>
  request.name ?? `${request.simulation} ${request.requestedAt.replace(/\.\d+Z$/, "Z")}`;

/**
 * The PENDING checkpoint and RUNNING job of a request, as take-snapshot creates them. Whoever
 * records a request first (the API, to answer with the job at once, or take-snapshot itself)
 * creates the same two records, so the other's conditional create is a no-op.
 */
export function snapshotRecordsFor(
  request: SnapshotRequest,
  context: {
    provider: string;
    destination: SnapshotDestination;
    now: Date;
    run?: string;
    timing: SnapshotDeadlineTiming;
  },
): { checkpoint: Checkpoint; job: Job } {
  const { checkpointId, jobId } = snapshotIdsFor(request.requestId);
  const iso = context.now.toISOString();
  return {
    checkpoint: {
      id: checkpointId,
      version: 1,
      simulation: request.simulation,
      provider: context.provider,
      ...(context.run === undefined ? {} : { run: context.run }),
      name: defaultName(request),
      description: request.description ?? "",
      tags: request.tags ?? [],
      favorite: false,
      state: "PENDING",
      trigger: request.trigger,
      createdAt: iso,
      modifiedAt: iso,
      jobId,
    },
    job: startJob(
      {
        id: jobId,
        kind: "snapshot",
        simulation: request.simulation,
        checkpointId,
        destination: context.destination,
        requestId: request.requestId,
        deadline: snapshotDeadline(context.now, context.timing),
      },
      context.now,
    ),
  };
}

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/**
 * Takes a snapshot for one request: records a PENDING checkpoint and a RUNNING job, calls
 * CreateSnapshot once, and schedules the first status check. Duplicate deliveries find the job
 * already requested and only re-send its (idempotent) status check; a snapshot already in progress
 * is retried with exponential backoff until the attempts run out; a refusal by the provider fails
 * the job at once with the provider's message. The job records the call's window (`callStartedAt`
 * just before, `requestedAt` just after), the only times its file can be stamped with.
 */
export async function takeSnapshot(
  request: SnapshotRequest,
  deps: TakeSnapshotDeps,
): Promise<TakeSnapshotResult> {
  const { checkpointId, jobId } = snapshotIdsFor(request.requestId);
  const ids = { checkpointId, jobId };
  const now = deps.clock.now();

  const { checkpoint, job: fresh } = snapshotRecordsFor(request, {
    provider: deps.provider.name,
    destination: deps.destination,
    now,
    timing: deps.timing,
  });
  await deps.checkpoints.create(checkpoint);
  if (await deps.jobs.create(fresh)) {
    await deps.events.publish([snapshotRequested(checkpoint, fresh)]);
  }

  const job = await deps.jobs.get(jobId);
  if (!job || isJobFinished(job)) return { outcome: "duplicate", ...ids };
  if (job.requestedAt) {
    if (job.nextCheckAt) {
      await deps.statusChecks.send(
        { jobId, check: job.checks, dueAt: job.nextCheckAt },
        { delaySeconds: queueDelaySeconds(new Date(job.nextCheckAt), now) },
      );
    }
    return { outcome: "duplicate", ...ids };
  }
  if (job.claimedUntil && new Date(job.claimedUntil) > now) {
    throw new RetryLaterError(
      `Job ${jobId} is being handled by another delivery`,
      queueDelaySeconds(new Date(job.claimedUntil), now),
    );
  }

  // Never a call past the job's deadline: its file would come for a job about to fail, and its
  // window would lie later after the job's start than the binding looks back
  // (`bindingJobsStartedWithin`), so a neighbour could be given that file.
  if (job.deadline && now >= new Date(job.deadline)) {
    await failSnapshotJob(
      job,
      {
        code: DEADLINE_EXCEEDED,
        message: `CreateSnapshot was not called: the job's deadline ${job.deadline} passed first (${job.attempts} attempts made)`,
      },
      deps,
    );
    return { outcome: "failed", ...ids };
  }

  // The call's window opens before the claim is saved, so it is durable before the call is made:
  // a file stamped during a call whose answer is lost can still be told apart (snapshot-binding).
  const callStartedAt = deps.clock.now();
  const claimed = updateRunningJob(job, {
    attempts: job.attempts + 1,
    claimedUntil: addSeconds(callStartedAt, CLAIM_SECONDS).toISOString(),
    callStartedAt: callStartedAt.toISOString(),
  });
  await saveOrRetry(deps, claimed);

  try {
    await deps.provider.createSnapshot(request.simulation, deps.destination);
  } catch (error) {
    return handleRefusal(error, claimed, deps, ids);
  }
  const answeredAt = deps.clock.now();

  const firstCheck = addSeconds(now, deps.timing.firstCheckSeconds).toISOString();
  const requested = updateRunningJob(claimed, {
    requestedAt: answeredAt.toISOString(),
    claimedUntil: undefined,
    nextCheckAt: firstCheck,
    checks: 0,
    deadline: addSeconds(now, deps.timing.deadlineSeconds).toISOString(),
  });
  await deps.jobs.save(requested);
  await deps.statusChecks.send(
    { jobId, check: 0, dueAt: firstCheck },
    { delaySeconds: deps.timing.firstCheckSeconds },
  );
  return { outcome: "requested", ...ids };
}

async function saveOrRetry(deps: TakeSnapshotDeps, job: Job): Promise<void> {
  try {
    await deps.jobs.save(job);
  } catch (error) {
    if (error instanceof ConcurrentModificationError) {
      throw new RetryLaterError(`Job ${job.id} changed meanwhile`, 1, { cause: error });
    }
    throw error;
  }
}

async function handleRefusal(
  error: unknown,
  claimed: Job,
  deps: TakeSnapshotDeps,
  ids: { checkpointId: string; jobId: string },
): Promise<TakeSnapshotResult> {
  if (!(error instanceof ProviderError)) throw error;
  const outOfAttempts = claimed.attempts >= deps.timing.conflictMaxAttempts;
  if (error.retryable || error.code === "ConflictException") {
    if (!outOfAttempts) {
      await deps.jobs.save(updateRunningJob(claimed, { claimedUntil: undefined }));
      const delay = backoffSeconds(claimed.attempts - 1, {
        baseSeconds: deps.timing.conflictRetrySeconds,
        maxSeconds: 900,
      });
      throw new RetryLaterError(`${error.code}: ${error.message}`, delay, { cause: error });
    }
  }
  const reason =
    outOfAttempts && (error.retryable || error.code === "ConflictException")
      ? `${error.message} (gave up after ${claimed.attempts} attempts)`
      : error.message;
  await failSnapshotJob(claimed, { code: error.code, message: reason }, deps);
  return { outcome: "failed", ...ids };
}
