import { AppError } from "../../domain/errors.ts";
import { newId } from "../../domain/ids.ts";
import type { Job } from "../../domain/job.ts";
import { requestStop, type RequestStopDeps } from "./request-stop.ts";

/** What a person asks for when stopping a simulation. */
export interface StopOrder {
  simulation: string;
  /** Take a final snapshot first (the default), and stop only once it is COMPLETE. */
  snapshot: boolean;
  /** Stop even if the final snapshot fails. */
  force: boolean;
  reason?: string;
  /** The caller's key: the same key is the same stop, so a retried request stops once. */
  idempotencyKey?: string;
}

/** The request id of a stop asked for through the API. */
export const apiStopRequestId = (simulation: string, idempotencyKey: string): string =>
  `api/${simulation}/${idempotencyKey}`;

/**
 * A person's "stop (with a final snapshot)": `requestStop` records the stop job and asks for the
 * snapshot; this answers with the job itself, to poll. A stop already running for the simulation
 * is answered with that job; an unknown simulation is a `NotFoundError` (404), as for a snapshot,
 * since the person asking is there to be told.
 */
export async function orderStop(order: StopOrder, deps: RequestStopDeps): Promise<Job> {
  const result = await requestStop(
    {
      requestId: apiStopRequestId(order.simulation, order.idempotencyKey ?? newId()),
      simulation: order.simulation,
      snapshot: order.snapshot,
      force: order.force,
      ...(order.reason === undefined ? {} : { reason: order.reason }),
    },
    deps,
    { unknownSimulation: "not-found" },
  );
  const job = await deps.jobs.get(result.jobId);
  if (!job) throw new AppError(`Stop job ${result.jobId} was recorded but cannot be read`);
  return job;
}
