import type { Job } from "../../domain/job.ts";
import type { SimulationApiCallEvent } from "../../domain/messages.ts";
import { failSnapshotJob, type SnapshotJobPorts } from "../snapshot/snapshot-job.ts";

/** CloudTrail records `eventTime` to the second: the call happened within the second it names. */
const EVENT_TIME_PRECISION_MS = 1_000;

/** A StopSimulation or DeleteSimulation call someone made, as CloudTrail reported it. */
export interface ObservedShutdown {
  simulation: string;
  call: "StopSimulation" | "DeleteSimulation";
  /** When the call was made (CloudTrail's `eventTime`). */
  at: string;
  /** Who made it (the caller's ARN), for the reason the user reads. */
  by?: string;
}

/** What a CloudTrail StopSimulation/DeleteSimulation event says, in the use case's terms. */
export const shutdownFromApiCall = ({ detail }: SimulationApiCallEvent): ObservedShutdown => ({
  simulation: detail.requestParameters.simulation,
  call: detail.eventName,
  at: detail.eventTime,
  by: detail.userIdentity?.arn,
});

/**
 * A simulation was stopped or deleted (seen through CloudTrail, whoever did it): its open snapshot
 * jobs can never complete, so each fails now with a reason naming the call, instead of waiting for
 * its deadline. Jobs started after the call belong to a later simulation of the same name and are
 * left alone; CloudTrail times are whole seconds, so "after" means after the end of that second. A duplicate event finds no open job left and changes nothing.
 */
export async function observeShutdown(
  observed: ObservedShutdown,
  deps: SnapshotJobPorts,
): Promise<{ failed: string[] }> {
  const at = Date.parse(observed.at);
  const open = await deps.jobs.listOpen(observed.simulation, "snapshot");
  const verb = observed.call === "StopSimulation" ? "stopped" : "deleted";
  const message =
    `Simulation ${observed.simulation} was ${verb} (${observed.call} at ${observed.at}` +
    `${observed.by ? ` by ${observed.by}` : ""}); its snapshot cannot complete`;
  const failed: string[] = [];
  for (const job of open.filter(
    (j: Job) => Date.parse(j.startTime) < at + EVENT_TIME_PRECISION_MS,
  )) {
    await failSnapshotJob(job, { code: "SimulationEnded", message }, deps);
    failed.push(job.id);
  }
  return { failed };
}
