import { nextPollDue, queueDelaySeconds } from "../../domain/backoff.ts";
import type { Checkpoint, ErrorInfo } from "../../domain/checkpoint.ts";
import {
  ConcurrentModificationError,
  ConflictError,
  NotFoundError,
  ProviderError,
  ValidationError,
} from "../../domain/errors.ts";
import { simulationStopped } from "../../domain/events.ts";
import {
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
  type JobStep,
} from "../../domain/job.ts";
import type { StatusCheck } from "../../domain/messages.ts";
import {
  heldCheckpointId,
  matchFinalCheckpoint,
  newestCreated,
} from "../../domain/platform-checkpoint.ts";
import { restoreJobId } from "../../domain/restore.ts";
import {
  closeRunningSteps,
  cycleStopError,
  recordStep,
  STOP_STEPS,
  type StopCall,
} from "../../domain/stop.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import type { SimulationProvider, SimulationStatus } from "../../ports/simulation-provider.ts";
import { providerOfJob } from "../catalog/locate-simulation.ts";
import { restartFromCheckpoint, type RestartDeps } from "../restore/restore-checkpoint.ts";
import { syncPlatformCheckpoints } from "../sync/sync-platform-checkpoints.ts";
import {
  conflictAsTransient,
  currentStatus,
  refuseStop,
  saveFinished,
  STOPPED_OR_ENDING,
  type StopJobPorts,
} from "./stop-job.ts";

/** How often a stop re-checks the platform: the status checks' backoff, from the settings. */
export interface StopCheckTiming {
  firstCheckSeconds: number;
  maxCheckSeconds: number;
}

/**
 * What the stop call of a checkpoint-on-stop platform needs: the stop job's ports and the queue
 * its re-checks go to (status-checks, whose consumer dispatches on the job's kind).
 */
export interface StopCallPorts extends StopJobPorts {
  statusChecks: MessageQueue<StatusCheck>;
  timing: StopCheckTiming;
}

/**
 * What a re-check needs besides: the catalog the platform's checkpoints are mirrored into, and
 * what a cycle's restart needs (its restore job is started here, once the checkpoint is COMPLETE).
 */
export interface StopCheckPorts extends StopCallPorts, Omit<RestartDeps, keyof StopCallPorts> {
  checkpoints: CheckpointStore;
}

/**
 * What one re-check did: `requested` (the stop call was (re)made), `waiting` (the checkpoint is
 * not COMPLETE yet; the next check is scheduled), `stopped` (COMPLETE: the job SUCCEEDED),
 * `failed`, `stale` (a duplicate or outdated check).
 */
export interface StopCheckResult {
  outcome: "requested" | "waiting" | "stopped" | "failed" | "stale";
  jobId?: string;
  checkpointId?: string;
  nextCheckAt?: string;
  /** A cycle's restore job, which starts the simulation again from `checkpointId`. */
  restartJobId?: string;
}

const isoPlus = (date: Date, seconds: number): string =>
  new Date(date.getTime() + seconds * 1000).toISOString();

/**
 * Ends a checkpoint-on-stop job as failed: the steps still running fail with the reason, the job
 * fails and `Simulation Stop Failed` says why (the simulation itself may well be stopped). A
 * cycle's reason also says that the simulation was not started again.
 */
async function failStop(job: Job, error: ErrorInfo, ports: StopJobPorts): Promise<Job> {
  const steps = closeRunningSteps(job.steps, ports.clock.now().toISOString(), error.message);
  return refuseStop({ ...job, steps }, cycleStopError(job.stop, error), ports);
}

/**
 * The platform's side of a checkpoint-on-stop job, with the reason it cannot be used: a provider
 * whose capabilities promise `checkpointOnStop` but whose adapter lacks the operations.
 */
function platformOf(provider: SimulationProvider | undefined, job: Job) {
  if (!provider) {
    return {
      error: {
        code: "ResourceNotFoundException",
        message: `Simulation ${job.simulation} no longer exists`,
      },
    };
  }
  const { checkpoints, stopWithCheckpoint } = provider;
  if (!checkpoints || !stopWithCheckpoint) {
    return {
      error: {
        code: "UnsupportedOperation",
        message: `Provider ${provider.name} declares checkpointOnStop but offers no stopWithCheckpoint or checkpoints`,
      },
    };
  }
  return { provider, checkpoints, stop: stopWithCheckpoint.bind(provider) };
}

/**
 * The stop call of a platform that saves the final checkpoint while stopping (NVIDIA Air's
 * shutdown with `create_checkpoint`), carried forward from where the job stands. Before the call,
 * the newest checkpoint the simulation already has is saved on the job (with the call's time), so
 * that the one created after it can later be told apart; a crash during the call leaves that
 * record, and a repeat finds the simulation stopping and does not call again. Once the platform
 * accepted, the job waits for the checkpoint (`final-snapshot`) and its first re-check is sent.
 * A refusal fails the job and leaves the simulation as it is; a transient error (or a conflict:
 * the simulation is between states) is thrown, so the message is retried.
 */
export async function proceedCheckpointOnStop(job: Job, ports: StopCallPorts): Promise<Job> {
  const options = job.stop;
  const callStep = job.steps?.find((s) => s.name === STOP_STEPS.stopSimulation);
  if (isJobFinished(job) || !options?.checkpointOnStop || callStep?.status !== "RUNNING") {
    return job;
  }
  const platform = platformOf(await providerOfJob(job, ports.providers), job);
  if (!platform.provider) return failStop(job, platform.error, ports);
  const { provider, checkpoints: held } = platform;

  const status = await currentStatus(provider, job.simulation);
  let current = job;
  let call: StopCall | undefined = options.call;
  if (!call) {
    if (STOPPED_OR_ENDING.has(status)) {
      return failStop(
        job,
        {
          code: "StoppedElsewhere",
          message: `Simulation ${job.simulation} is ${status}: it was stopped outside this request before simsnap could ask ${provider.name} for its final checkpoint`,
        },
        ports,
      );
    }
    call = {
      calledAt: ports.clock.now().toISOString(),
      newestBefore: newestCreated(await held.list(job.simulation)),
    };
    current = updateRunningJob(job, { stop: { ...options, call } });
    await ports.jobs.save(current);
  }
  const stopping = STOPPED_OR_ENDING.has(status);
  if (!stopping) {
    try {
      await platform.stop(job.simulation);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.retryable) throw error;
      if (error.code === "ConflictException") throw conflictAsTransient(error);
      return failStop(
        current,
        {
          code: error.code,
          message: `${provider.name} refused to stop ${job.simulation} with a checkpoint: ${error.message}`,
        },
        ports,
      );
    }
  }
  const now = ports.clock.now();
  const iso = now.toISOString();
  const nextCheckAt = isoPlus(now, ports.timing.firstCheckSeconds);
  const steps = recordStep(
    recordStep(current.steps, {
      name: STOP_STEPS.stopSimulation,
      status: "SUCCEEDED",
      startedAt: callStep.startedAt,
      endedAt: iso,
      message: stopping
        ? `simulation was already ${status} when simsnap confirmed its stop call`
        : `${provider.name} accepted the stop with a checkpoint`,
    }),
    {
      name: STOP_STEPS.finalSnapshot,
      status: "RUNNING",
      startedAt: iso,
      message: `waiting for ${provider.name} to report the new checkpoint COMPLETE`,
    },
  );
  const accepted = updateRunningJob(current, {
    steps,
    stop: { ...options, call: { ...call, acceptedAt: iso } },
    nextCheckAt,
    checks: 0,
  });
  await ports.jobs.save(accepted);
  await ports.statusChecks.send(
    { jobId: accepted.id, check: 0, dueAt: nextCheckAt },
    { delaySeconds: Math.min(900, ports.timing.firstCheckSeconds) },
  );
  return accepted;
}

/**
 * One re-check of a checkpoint-on-stop job, from a delayed status check (`dueAt` must be the
 * job's `nextCheckAt`, so duplicates and stale checks do nothing). It mirrors the simulation's
 * platform checkpoints into the catalog (`syncPlatformCheckpoints`, which records the one this
 * stop produced as its `shutdown` checkpoint), then decides: the checkpoint created after the
 * stop call is COMPLETE, so the job SUCCEEDED and `Simulation Stopped` is published; it is still
 * PENDING or not there yet, so the next check is scheduled with backoff up to the deadline; it
 * was deleted before completing, two candidates exist (never guessed between), or the deadline
 * passed, so the job FAILED with the reason. A stop whose call was not yet accepted (its request
 * was lost; the sweeper sent this check) makes the call first. A cycle (`then: "restart"`) starts
 * the simulation again from that COMPLETE checkpoint (`restartCycled`), and from no other.
 */
export async function checkCheckpointOnStop(
  check: StatusCheck,
  ports: StopCheckPorts,
): Promise<StopCheckResult> {
  let job = await ports.jobs.get(check.jobId);
  if (
    !job ||
    isJobFinished(job) ||
    job.kind !== "stop" ||
    !job.stop?.checkpointOnStop ||
    job.nextCheckAt !== check.dueAt
  ) {
    return { outcome: "stale" };
  }
  if (!job.stop.call?.acceptedAt) {
    const next = await proceedCheckpointOnStop(job, ports);
    return {
      outcome: isJobFinished(next) ? "failed" : "requested",
      jobId: job.id,
      nextCheckAt: next.nextCheckAt,
    };
  }
  const platform = platformOf(await providerOfJob(job, ports.providers), job);
  if (!platform.provider) return failed(await failStop(job, platform.error, ports));
  const { provider } = platform;

  const synced = await syncPlatformCheckpoints(job.simulation, { ...ports, provider });
  if (!job.checkpointId) {
    const match = matchFinalCheckpoint(synced.listed, job.stop.call);
    if (match.kind === "ambiguous") {
      return failed(
        await failStop(
          job,
          {
            code: "FinalCheckpointAmbiguous",
            message:
              `Simulation ${job.simulation} was stopped, but ${provider.name} holds ${match.ids.length} checkpoints created after simsnap's stop call (${match.ids.join(", ")}); ` +
              "simsnap does not guess which one is the final checkpoint, so they are cataloged as discovered",
          },
          ports,
        ),
      );
    }
    if (match.kind === "one") {
      const bound = updateRunningJob(job, {
        checkpointId: heldCheckpointId(provider.name, match.checkpoint.id),
      });
      try {
        await ports.jobs.save(bound);
      } catch (error) {
        if (error instanceof ConcurrentModificationError) return { outcome: "stale" };
        throw error;
      }
      job = bound;
    }
  }

  const checkpoint = job.checkpointId ? await ports.checkpoints.get(job.checkpointId) : undefined;
  if (checkpoint?.state === "COMPLETE") {
    return job.stop?.then === "restart"
      ? restartCycled(job, check, checkpoint, provider, ports)
      : finishStopped(job, checkpoint.platformId, ports);
  }
  if (checkpoint?.state === "FAILED" || checkpoint?.state === "DELETED") {
    return failed(
      await failStop(
        job,
        {
          code: "FinalCheckpointLost",
          message: `Simulation ${job.simulation} was stopped, but its final checkpoint ${checkpoint.platformId ?? checkpoint.id} is ${checkpoint.state}${checkpoint.error ? `: ${checkpoint.error.message}` : ""}`,
        },
        ports,
      ),
    );
  }
  const listed = job.checkpointId
    ? synced.listed.find((c) => heldCheckpointId(provider.name, c.id) === job?.checkpointId)
    : undefined;
  if (listed?.state === "DELETED" && !checkpoint) {
    return failed(
      await failStop(
        job,
        {
          code: "FinalCheckpointLost",
          message: `Simulation ${job.simulation} was stopped, but ${provider.name} deleted its final checkpoint ${listed.id} before simsnap saw it COMPLETE`,
        },
        ports,
      ),
    );
  }

  const now = ports.clock.now();
  const deadline = job.deadline ? new Date(job.deadline) : now;
  if (now >= deadline) {
    return failed(
      await failStop(
        job,
        {
          code: "DeadlineExceeded",
          message: `Simulation ${job.simulation} was asked to stop with a checkpoint, but ${
            checkpoint
              ? `its final checkpoint ${checkpoint.platformId ?? checkpoint.id} was still ${checkpoint.state}`
              : `no checkpoint appeared on ${provider.name}`
          } by the deadline ${job.deadline}`,
        },
        ports,
      ),
    );
  }
  return reschedule(job, check, deadline, ports);
}

const failed = (job: Job): StopCheckResult => ({
  outcome: "failed",
  jobId: job.id,
  checkpointId: job.checkpointId,
});

/**
 * The final checkpoint is COMPLETE on the platform (and in the catalog): the stop is done. A
 * cycle's `restart` step, when given, is recorded after it.
 */
async function finishStopped(
  job: Job,
  platformId: string | undefined,
  ports: StopJobPorts,
  restart?: JobStep,
): Promise<StopCheckResult> {
  const now = ports.clock.now();
  const started = job.steps?.find((s) => s.name === STOP_STEPS.finalSnapshot);
  const saved = recordStep(job.steps, {
    name: STOP_STEPS.finalSnapshot,
    status: "SUCCEEDED",
    startedAt: started?.startedAt ?? job.startTime,
    endedAt: now.toISOString(),
    message: `checkpoint ${platformId ?? job.checkpointId} is COMPLETE`,
  });
  const steps = restart ? recordStep(saved, restart) : saved;
  const finished = succeedJob({ ...job, steps }, now, { objects: 1, bytes: 0 });
  if (await saveFinished(ports.jobs, finished)) {
    await ports.events.publish([
      simulationStopped({
        simulation: job.simulation,
        jobId: job.id,
        finalSnapshot: "COMPLETE",
        checkpointId: job.checkpointId,
        forced: false,
        alreadyStopped: false,
      }),
    ]);
  }
  return {
    outcome: "stopped",
    jobId: job.id,
    checkpointId: job.checkpointId,
    ...(job.stop?.restartJobId ? { restartJobId: job.stop.restartJobId } : {}),
  };
}

/** A simulation in one of these was started again already, by someone else than the cycle. */
const STARTED_AGAIN: ReadonlySet<SimulationStatus> = new Set([
  "STARTING",
  "STARTED",
  "SNAPSHOT_IN_PROGRESS",
]);

/** The client token of a cycle's restart: one per stop job, so a repeat is the same restore. */
export const cycleRestartToken = (stopJobId: string): string => `cycle-${stopJobId}`;

/**
 * A cycle's stop, its checkpoint COMPLETE: the simulation is started again from exactly that
 * checkpoint, by a restore job into the same simulation (`restartFromCheckpoint`), requested
 * before the stop is marked done, so a crash in between repeats the request and finds the same
 * job. A platform that reports the checkpoint COMPLETE before the simulation is STOPPED is waited
 * for up to the deadline; a simulation someone else started meanwhile is left running; a restart
 * the restore refuses (the checkpoint or the simulation gone) fails the stop with the reason.
 */
async function restartCycled(
  job: Job,
  check: StatusCheck,
  checkpoint: Checkpoint,
  provider: SimulationProvider,
  ports: StopCheckPorts,
): Promise<StopCheckResult> {
  const clientToken = cycleRestartToken(job.id);
  const restartJobId = restoreJobId(checkpoint.id, clientToken);
  const now = ports.clock.now();
  const platformId = checkpoint.platformId ?? checkpoint.id;
  const step = (status: JobStep["status"], message: string): JobStep => ({
    name: STOP_STEPS.restart,
    status,
    startedAt: now.toISOString(),
    endedAt: now.toISOString(),
    message,
  });
  if (!(await ports.jobs.get(restartJobId))) {
    const status = await currentStatus(provider, job.simulation);
    if (status === "STOPPING") {
      const deadline = new Date(job.deadline ?? now.toISOString());
      if (now < deadline) return reschedule(job, check, deadline, ports);
      return failed(
        await failStop(
          job,
          {
            code: "DeadlineExceeded",
            message: `Simulation ${job.simulation} was still STOPPING by the deadline ${job.deadline}, although its checkpoint ${platformId} is COMPLETE`,
          },
          ports,
        ),
      );
    }
    if (STARTED_AGAIN.has(status)) {
      const message = `simulation is already ${status}: it was started outside this cycle, so it is not started again`;
      return finishStopped(job, checkpoint.platformId, ports, step("SKIPPED", message));
    }
    try {
      await restartFromCheckpoint(
        {
          checkpointId: checkpoint.id,
          clientToken,
          description: `Started again by simsnap from checkpoint ${platformId}, the one its cycle saved`,
        },
        ports,
      );
    } catch (error) {
      const refused =
        error instanceof ConflictError ||
        error instanceof NotFoundError ||
        error instanceof ValidationError;
      if (!refused) throw error;
      return failed(
        await failStop(
          job,
          {
            code: "RestartRefused",
            message: `Simulation ${job.simulation} was stopped with checkpoint ${platformId}, but could not be started again from it: ${error.message}`,
          },
          ports,
        ),
      );
    }
  }
  // Saved once, with the rest of the finished stop: the restart is where to follow the cycle.
  const restarted = { ...job, stop: job.stop && { ...job.stop, restartJobId } };
  const message = `restore job ${restartJobId} starts ${job.simulation} from checkpoint ${platformId}`;
  return finishStopped(restarted, checkpoint.platformId, ports, step("SUCCEEDED", message));
}

/**
 * The next re-check, due with exponential backoff from this one's due time (never past the
 * deadline), so two deliveries of one check schedule the same next one.
 */
async function reschedule(
  job: Job,
  check: StatusCheck,
  deadline: Date,
  ports: StopCheckPorts,
): Promise<StopCheckResult> {
  const now = ports.clock.now();
  const due = nextPollDue(check.dueAt, check.check + 1, ports.timing, deadline.getTime());
  const nextCheckAt = due.toISOString();
  await ports.statusChecks.send(
    { jobId: job.id, check: check.check + 1, dueAt: nextCheckAt },
    { delaySeconds: queueDelaySeconds(due, now) },
  );
  try {
    await ports.jobs.save(updateRunningJob(job, { nextCheckAt, checks: check.check + 1 }));
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
  }
  return { outcome: "waiting", jobId: job.id, checkpointId: job.checkpointId, nextCheckAt };
}
