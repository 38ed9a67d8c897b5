import type { S3Location } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError, ProviderError } from "../../domain/errors.ts";
import { simulationStopFailed, simulationStopped } from "../../domain/events.ts";
import { failJob, isJobFinished, succeedJob, type Job } from "../../domain/job.ts";
import { recordStep, STOP_STEPS } from "../../domain/stop.ts";
import type { JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type {
  ProviderDirectory,
  SimulationProvider,
  SimulationStatus,
} from "../../ports/simulation-provider.ts";
import { providerOfJob } from "../catalog/locate-simulation.ts";

/**
 * The ports every step of a stop job goes through. `providers`: each job acts on its own
 * simulation's provider (recorded on the job, or looked up for older records).
 */
export interface StopJobPorts {
  providers: ProviderDirectory;
  jobs: JobStore;
  events: EventPublisher;
  clock: Clock;
}

/** A simulation in one of these is stopped or on its way out: StopSimulation is not called. */
export const STOPPED_OR_ENDING: ReadonlySet<SimulationStatus> = new Set([
  "STOPPING",
  "STOPPED",
  "DELETING",
  "DELETED",
]);

/** How the final snapshot of a stop ended, for the `Simulation Stopped` event. */
export interface FinalSnapshot {
  outcome: "COMPLETE" | "FAILED" | "SKIPPED";
  checkpointId?: string;
  location?: S3Location;
  forced: boolean;
}

/** The simulation's status, or `DELETED` when the provider no longer knows it. */
export async function currentStatus(
  provider: Pick<SimulationProvider, "describeSimulation">,
  simulation: string,
): Promise<SimulationStatus> {
  try {
    return (await provider.describeSimulation(simulation)).status;
  } catch (error) {
    if (error instanceof ProviderError && error.code === "ResourceNotFoundException") {
      return "DELETED";
    }
    throw error;
  }
}

/**
 * Saves a job that this call finished. Returns false when another delivery finished it first (the
 * conditional write lost), in which case that delivery published the outcome and this one must not.
 */
export async function saveFinished(jobs: JobStore, job: Job): Promise<boolean> {
  try {
    await jobs.save(job);
    return true;
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
    const stored = await jobs.get(job.id);
    if (stored && isJobFinished(stored)) return false;
    throw error;
  }
}

/**
 * Ends a stop job as failed with `error`, leaving the simulation as it is, and reports it with
 * `Simulation Stop Failed`.
 */
export async function refuseStop(
  job: Job,
  error: { code: string; message: string },
  ports: Pick<StopJobPorts, "jobs" | "events" | "clock">,
): Promise<Job> {
  const failed = failJob(job, error, ports.clock.now());
  if (await saveFinished(ports.jobs, failed)) {
    await ports.events.publish([
      simulationStopFailed({
        simulation: job.simulation,
        jobId: job.id,
        checkpointId: job.checkpointId,
        error,
      }),
    ]);
  }
  return failed;
}

/**
 * A `ConflictException` from StopSimulation as the retryable error it is in this context, so the
 * queue wrapper redelivers the step after a short jittered backoff instead of failing the stop.
 */
export const conflictAsTransient = (error: ProviderError): ProviderError =>
  new ProviderError(error.code, error.message, {
    status: error.status,
    retryable: true,
    cause: error,
  });

/**
 * The last step of a stop: calls StopSimulation unless the simulation is already stopped or
 * going, records the step, finishes the job and publishes `Simulation Stopped`. Calling it again
 * for the same job (a redelivery after a crash) finds the simulation STOPPING or STOPPED and does
 * not call the provider twice. A refusal by the provider fails the job with its message; a
 * transient provider error is thrown, so the message is retried. `ConflictException` counts as
 * transient here: the simulation is between states (its final snapshot just ended, or a scheduled
 * one runs), which passes, so failing the stop would be wrong.
 */
export async function stopAndFinish(
  job: Job,
  snapshot: FinalSnapshot,
  ports: StopJobPorts,
): Promise<Job> {
  const startedAt = ports.clock.now().toISOString();
  const provider = await providerOfJob(job, ports.providers);
  const status = provider ? await currentStatus(provider, job.simulation) : "DELETED";
  const alreadyStopped = STOPPED_OR_ENDING.has(status);
  if (provider && !alreadyStopped) {
    try {
      await provider.stopSimulation(job.simulation);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.retryable) throw error;
      if (error.code === "ConflictException") throw conflictAsTransient(error);
      const message = `StopSimulation was refused: ${error.message}`;
      const steps = recordStep(job.steps, {
        name: STOP_STEPS.stopSimulation,
        status: "FAILED",
        startedAt,
        endedAt: ports.clock.now().toISOString(),
        message,
      });
      return refuseStop({ ...job, steps }, { code: error.code, message }, ports);
    }
  }
  const now = ports.clock.now();
  const steps = recordStep(job.steps, {
    name: STOP_STEPS.stopSimulation,
    status: alreadyStopped ? "SKIPPED" : "SUCCEEDED",
    startedAt,
    endedAt: now.toISOString(),
    message: alreadyStopped ? `simulation was already ${status}` : "StopSimulation accepted",
  });
  const finished = succeedJob({ ...job, steps }, now);
  if (await saveFinished(ports.jobs, finished)) {
    await ports.events.publish([
      simulationStopped({
        simulation: job.simulation,
        jobId: job.id,
        finalSnapshot: snapshot.outcome,
        checkpointId: snapshot.checkpointId,
        location: snapshot.location,
        forced: snapshot.forced,
        alreadyStopped,
      }),
    ]);
  }
  return finished;
}
