import { deterministicId } from "../domain/ids.ts";
import { stopDeadline, type SnapshotDeadlineTiming } from "../domain/job-deadline.ts";
import { isJobFinished, type Job, startJob } from "../domain/job.ts";
import type { SnapshotRequest, StopRequestedEvent } from "../domain/messages.ts";
import { STOP_STEPS, type StopRequest } from "../domain/stop.ts";
import type { MessageQueue } from "../ports/messaging.ts";
import {
  currentStatus,
  refuseStop,
  stopAndFinish,
  STOPPED_OR_ENDING,
  type StopJobPorts,
} from "./stop-job.ts";
import { snapshotIdsFor } from "./take-snapshot.ts";

/** What requestStop needs: the stop job's ports and the queue the final snapshot is asked on. */
export interface RequestStopDeps extends StopJobPorts {
  requests: MessageQueue<SnapshotRequest>;
  /** The snapshot settings the stop's deadline derives from (its final snapshot's, plus a margin). */
  timing: SnapshotDeadlineTiming;
}

/**
 * What a request led to: `requested` (the final snapshot was asked for; the stop follows when it
 * ends), `stopped` (no snapshot was wanted or possible, and the stop is done), `failed` (the job
 * failed at once, e.g. no such simulation), `duplicate` (this request was seen before; its job
 * is returned), `already-stopping` (another stop of the simulation is running; its job is
 * returned). `jobId` is the job to poll.
 */
export interface RequestStopResult {
  outcome: "requested" | "stopped" | "failed" | "duplicate" | "already-stopping";
  jobId: string;
  checkpointId?: string;
  status: Job["status"];
}

/**
 * The stop request a `Simulation Stop Requested` event makes; without a `requestId` in its detail,
 * the event's own id identifies it, which EventBridge keeps across redeliveries.
 */
export const stopRequestFromEvent = ({ id, detail }: StopRequestedEvent): StopRequest => ({
  requestId: detail.requestId ?? id,
  simulation: detail.simulation,
  snapshot: detail.snapshot,
  force: detail.force,
  reason: detail.reason,
});

/** The stop job's id for a request id: the same request always addresses the same job. */
export const stopJobId = (requestId: string): string => deterministicId("stop", requestId);

/** The snapshot request id of a stop job's final snapshot. */
export const finalSnapshotRequestId = (jobId: string): string => `stop/${jobId}`;

const result = (outcome: RequestStopResult["outcome"], job: Job): RequestStopResult => ({
  outcome,
  jobId: job.id,
  checkpointId: job.checkpointId,
  status: job.status,
});

/**
 * The request for a stop job's final snapshot, rebuilt from the job alone: the same job always
 * asks for the same snapshot, so request-stop and the sweeper can (re)send it at any time.
 */
export const finalSnapshotRequest = (job: Job): SnapshotRequest => ({
  requestId: finalSnapshotRequestId(job.id),
  simulation: job.simulation,
  trigger: "shutdown",
  name: `${job.simulation} final snapshot before stop`,
  description: job.stop?.reason ?? "",
  requestedAt: job.startTime,
});

/**
 * Carries a RUNNING stop job forward from where it stands: while its final snapshot runs, the
 * snapshot request is (re)sent — take-snapshot turns repeats into one snapshot — and the stop
 * follows from the snapshot's completion event; without a final snapshot, it stops at once.
 */
async function proceed(job: Job, deps: RequestStopDeps): Promise<Job> {
  const snapshotStep = job.steps?.find((s) => s.name === STOP_STEPS.finalSnapshot);
  if (snapshotStep?.status === "RUNNING") {
    await deps.requests.send(finalSnapshotRequest(job));
    return job;
  }
  return stopAndFinish(job, { outcome: "SKIPPED", forced: false }, deps);
}

/**
 * Asks for a simulation to be stopped, by default after a final snapshot: records a RUNNING
 * `stop` job whose steps show the final snapshot and then StopSimulation, and sends the snapshot
 * request (trigger `shutdown`). finish-stop takes over when that snapshot's `Checkpoint
 * Completed` or `Checkpoint Failed` event arrives. This is the use case the HTTP API calls
 * (`POST …/stop`) and the one behind `Simulation Stop Requested` events; both poll the returned
 * job. A simulation that is already stopped, or a request with `snapshot: false`, is stopped (or
 * left stopped) at once; an unknown simulation fails the job with the provider's answer.
 */
export async function requestStop(
  request: StopRequest,
  deps: RequestStopDeps,
): Promise<RequestStopResult> {
  const id = stopJobId(request.requestId);
  const seen = await deps.jobs.get(id);
  if (seen) {
    return result("duplicate", isJobFinished(seen) ? seen : await proceed(seen, deps));
  }
  const running = (await deps.jobs.listOpen(request.simulation, "stop"))[0];
  if (running) return result("already-stopping", running);

  const startedAt = deps.clock.now();
  const now = startedAt.toISOString();
  const status = await currentStatus(deps.provider, request.simulation);
  const snapshotting = request.snapshot && !STOPPED_OR_ENDING.has(status);
  const job = startJob(
    {
      id,
      kind: "stop",
      simulation: request.simulation,
      deadline: stopDeadline(startedAt, deps.timing),
      checkpointId: snapshotting
        ? snapshotIdsFor(finalSnapshotRequestId(id)).checkpointId
        : undefined,
      stop: {
        requestId: request.requestId,
        snapshot: request.snapshot,
        force: request.force,
        reason: request.reason,
      },
      steps: [
        {
          name: STOP_STEPS.finalSnapshot,
          status: snapshotting ? "RUNNING" : "SKIPPED",
          startedAt: now,
          ...(snapshotting
            ? {}
            : {
                endedAt: now,
                message: request.snapshot
                  ? `simulation is ${status}; no snapshot can be taken`
                  : "not requested",
              }),
        },
      ],
    },
    startedAt,
  );
  if (!(await deps.jobs.create(job))) {
    const raced = await deps.jobs.get(id);
    if (!raced) throw new Error(`Stop job ${id} could neither be created nor read`);
    return result("duplicate", isJobFinished(raced) ? raced : await proceed(raced, deps));
  }
  if (status === "DELETED") {
    const failed = await refuseStop(
      job,
      {
        code: "ResourceNotFoundException",
        message: `Simulation ${request.simulation} does not exist (or was deleted)`,
      },
      deps,
    );
    return result("failed", failed);
  }
  const next = await proceed(job, deps);
  if (!isJobFinished(next)) return result("requested", next);
  return result(next.status === "SUCCEEDED" ? "stopped" : "failed", next);
}
