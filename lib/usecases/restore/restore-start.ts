import type { Job } from "../../domain/job.ts";
import { ProviderError, RetryLaterError } from "../../domain/errors.ts";
import type { RestoreProgress } from "../../domain/restore.ts";
import {
  ENDED_STATUSES,
  RUNNING_STATUSES,
  type SimulationStatus,
} from "../../ports/simulation-provider.ts";
import { locateSimulation } from "../catalog/locate-simulation.ts";
import { heldCheckpointsOf } from "../sync/sync-platform-checkpoints.ts";
import { currentStatus } from "../stop/stop-job.ts";
import {
  requireRoleArn,
  restoreProvider,
  type PhaseResult,
  type RestoreDeps,
} from "./restore-deps.ts";

/** StartSimulation answered ConflictException: tried again this many times, with the restore's backoff. */
const START_CONFLICT_RETRIES = 3;

/**
 * The `starting` phase: StartSimulation from the located or copied-back file. The job id is the
 * client token, so a repeated call after a crash starts one simulation, not two.
 */
export async function startSimulation(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  try {
    const provider = await restoreProvider(job, deps);
    const started = await provider.startSimulation({
      name: progress.target,
      roleArn: requireRoleArn(deps.restore),
      snapshot: progress.snapshot,
      maximumDuration: progress.maximumDuration,
      description:
        progress.description ?? `Restored by simsnap from checkpoint ${job.checkpointId}`,
      // The job id: the same restore always sends the same token, so a repeat starts nothing new.
      clientToken: job.id,
    });
    return { kind: "wait", changes: { phase: "waiting", ...started } };
  } catch (error) {
    return startRefused(error, progress, deps);
  }
}

/**
 * How a start the provider refused ends: a transient error is retried by the queue, a conflict a
 * few times as recorded waits (the service is busy with an earlier call), anything else fails.
 */
function startRefused(error: unknown, progress: RestoreProgress, deps: RestoreDeps): PhaseResult {
  if (!(error instanceof ProviderError)) throw error;
  if (error.retryable) {
    throw new RetryLaterError(`${error.code}: ${error.message}`, deps.restore.firstCheckSeconds, {
      cause: error,
    });
  }
  const attempts = (progress.waits ?? 0) + 1;
  if (error.code === "ConflictException") {
    // A conflict passes (the service is busy with an earlier call), and a repeat is recognised
    // (client token, or the target's state); each try is a recorded wait, so they are bounded.
    if (attempts <= START_CONFLICT_RETRIES) return { kind: "wait", changes: {} };
    return {
      kind: "fail",
      error: {
        code: error.code,
        message: `${error.message} (gave up after ${attempts} attempts)`,
      },
    };
  }
  return { kind: "fail", error: { code: error.code, message: error.message } };
}

/** A simulation in one of these was started (by this restore's earlier call). */
const STARTED_OR_STARTING: ReadonlySet<SimulationStatus> = new Set([
  "STARTING",
  ...RUNNING_STATUSES,
]);

/**
 * The `starting` phase of a checkpoint a platform holds: the platform starts the same (stopped)
 * simulation from it, or a clone named `target`. The platform takes no client token, so a repeat
 * after a crash is recognised by the target's state: a clone that exists, or the same simulation
 * already starting, was started by the earlier call, and the job goes on to wait for it.
 */
export async function startFromPlatform(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint?.platformId) {
    return {
      kind: "fail",
      error: { code: "NotFound", message: `Checkpoint ${job.checkpointId} no longer exists` },
    };
  }
  // Only a platform's own checkpoints come here (`runPhase` sends a prefix restore elsewhere).
  const into = progress.into === "same" ? "same" : "new";
  try {
    const provider = await restoreProvider(job, deps);
    const started =
      into === "new"
        ? (await locateSimulation(progress.target, deps.providers)) !== undefined
        : STARTED_OR_STARTING.has(await currentStatus(provider, progress.target));
    if (started) return { kind: "wait", changes: { phase: "waiting" } };
    const target = await heldCheckpointsOf(provider).restore(checkpoint.platformId, {
      simulation: checkpoint.simulation,
      into,
      ...(into === "new" ? { name: progress.target } : {}),
    });
    return { kind: "wait", changes: { phase: "waiting", target } };
  } catch (error) {
    return startRefused(error, progress, deps);
  }
}

/**
 * After the platform was asked to start the same simulation, it may still report it STOPPED
 * for a moment: these first waits take STOPPED for "not started yet" rather than "failed".
 */
const SAME_SIMULATION_START_WAITS = 2;

/**
 * The `waiting` phase: the restore is done once the new simulation runs, and failed once it
 * cannot start any more; a simulation takes minutes to start, so this is polled with backoff.
 */
export async function awaitStart(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  try {
    const provider = await restoreProvider(job, deps);
    const simulation = await provider.describeSimulation(progress.target);
    if (RUNNING_STATUSES.has(simulation.status)) {
      return {
        kind: "done",
        changes: { executionId: simulation.executionId ?? progress.executionId },
      };
    }
    const settling =
      progress.into === "same" &&
      simulation.status === "STOPPED" &&
      (progress.waits ?? 0) <= SAME_SIMULATION_START_WAITS;
    if (ENDED_STATUSES.has(simulation.status) && !settling) {
      return {
        kind: "fail",
        error: {
          code: "SimulationFailedToStart",
          message: `Simulation ${progress.target} is ${simulation.status}${
            simulation.startError ? `: ${simulation.startError}` : ""
          }`,
        },
      };
    }
    return { kind: "wait", changes: {} };
  } catch (error) {
    if (error instanceof ProviderError && error.code === "ResourceNotFoundException") {
      return {
        kind: "fail",
        error: {
          code: error.code,
          message: `Simulation ${progress.target} disappeared while starting`,
        },
      };
    }
    throw error;
  }
}
