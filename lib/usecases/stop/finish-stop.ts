import type { ErrorInfo, S3Location } from "../../domain/checkpoint.ts";
import type { Job } from "../../domain/job.ts";
import { finalSnapshotVerdict, recordStep, STOP_STEPS } from "../../domain/stop.ts";
import {
  currentStatus,
  refuseStop,
  stopAndFinish,
  STOPPED_OR_ENDING,
  type StopJobPorts,
} from "./stop-job.ts";
import { providerOfJob } from "../catalog/locate-simulation.ts";

/**
 * The ended final snapshot, as its `Checkpoint Completed` or `Checkpoint Failed` event tells it
 * (a checkpoint a platform holds completes without a `location`).
 */
export type EndedSnapshot =
  | { id: string; simulation: string; state: "COMPLETE"; location?: S3Location }
  | { id: string; simulation: string; state: "FAILED"; error: ErrorInfo };

/**
 * What the event led to: `stopped` (StopSimulation called, or the simulation found stopped),
 * `refused` (the snapshot failed without `force`: the simulation keeps running and the job
 * failed), `ignored` (no open stop job waits for this checkpoint: a duplicate event, or a
 * shutdown checkpoint of a stop that already ended).
 */
export interface FinishStopResult {
  outcome: "stopped" | "refused" | "ignored";
  jobId?: string;
}

/**
 * The second half of a stop: once the final snapshot ended, stop the simulation — only after a
 * COMPLETE checkpoint exists, or after a failed one when the request said `force` — and finish
 * the stop job with each step recorded. A failed snapshot without `force` fails the job with the
 * snapshot's own error and leaves the simulation running. Only an open stop job waiting for this
 * very checkpoint is acted on, so a duplicate event changes nothing. A stop through a platform
 * that checkpoints while stopping is not this function's: its own re-checks end it (the
 * simulation is already stopped when its checkpoint completes).
 */
export async function finishStop(
  snapshot: EndedSnapshot,
  deps: StopJobPorts,
): Promise<FinishStopResult> {
  const open = await deps.jobs.listOpen(snapshot.simulation, "stop");
  const job: Job | undefined = open.find(
    (j) => j.checkpointId === snapshot.id && !j.stop?.checkpointOnStop,
  );
  if (!job) return { outcome: "ignored" };

  const verdict = finalSnapshotVerdict(
    snapshot.state === "COMPLETE"
      ? { state: "COMPLETE", key: snapshot.location?.key }
      : { state: "FAILED", error: snapshot.error },
    job.stop?.force ?? false,
  );
  const started = job.steps?.find((s) => s.name === STOP_STEPS.finalSnapshot);
  const steps = recordStep(job.steps, {
    name: STOP_STEPS.finalSnapshot,
    status: snapshot.state === "COMPLETE" ? "SUCCEEDED" : "FAILED",
    startedAt: started?.startedAt ?? job.startTime,
    endedAt: deps.clock.now().toISOString(),
    message: verdict.stop ? verdict.message : verdict.error.message,
  });

  if (!verdict.stop) {
    const provider = await providerOfJob(job, deps.providers);
    const status = provider ? await currentStatus(provider, job.simulation) : "DELETED";
    const error = STOPPED_OR_ENDING.has(status)
      ? {
          code: "StoppedElsewhere",
          message: `The final snapshot failed (${verdict.why}), and the simulation is already ${status}: it was stopped outside this request.`,
        }
      : verdict.error;
    await refuseStop({ ...job, steps }, error, deps);
    return { outcome: "refused", jobId: job.id };
  }
  await stopAndFinish(
    { ...job, steps },
    {
      outcome: snapshot.state,
      checkpointId: snapshot.id,
      location: snapshot.state === "COMPLETE" ? snapshot.location : undefined,
      forced: verdict.forced,
    },
    deps,
  );
  return { outcome: "stopped", jobId: job.id };
}
