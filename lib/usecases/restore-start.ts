import type { Job } from "../domain/job.ts";
import { ProviderError, RetryLaterError } from "../domain/errors.ts";
import type { RestoreProgress } from "../domain/restore.ts";
import type { SimulationStatus } from "../ports/simulation-provider.ts";
import { requireRoleArn, type PhaseResult, type RestoreDeps } from "./restore-deps.ts";

/** The simulation is running: the restore is done. */
const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);
/** The simulation will not start any more. */
const ENDED: ReadonlySet<SimulationStatus> = new Set([
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "DELETED",
]);

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
    const started = await deps.provider.startSimulation({
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
    if (!(error instanceof ProviderError)) throw error;
    if (error.retryable) {
      throw new RetryLaterError(`${error.code}: ${error.message}`, deps.restore.firstCheckSeconds, {
        cause: error,
      });
    }
    const attempts = (progress.waits ?? 0) + 1;
    if (error.code === "ConflictException") {
      // A conflict passes (the service is busy with an earlier call), and the job id as client
      // token makes another try safe; each try is a recorded wait, so the tries are bounded.
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
}

/**
 * The `waiting` phase: the restore is done once the new simulation runs, and failed once it
 * cannot start any more; a simulation takes minutes to start, so this is polled with backoff.
 */
export async function awaitStart(
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  try {
    const simulation = await deps.provider.describeSimulation(progress.target);
    if (RUNNING.has(simulation.status)) {
      return {
        kind: "done",
        changes: { executionId: simulation.executionId ?? progress.executionId },
      };
    }
    if (ENDED.has(simulation.status)) {
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
