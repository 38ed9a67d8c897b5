import type { ScheduleTick, SnapshotRequest } from "../domain/messages.ts";
import type { MessageQueue } from "../ports/messaging.ts";
import type { SimulationProvider, SimulationStatus } from "../ports/simulation-provider.ts";

/** What plan-snapshots needs. */
export interface PlanSnapshotsDeps {
  provider: Pick<SimulationProvider, "listSimulations">;
  requests: MessageQueue<SnapshotRequest>;
}

/** Simulations in these states can take a snapshot now or once the current one ends. */
const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);

/** The request id of a schedule slot: the same slot always yields the same snapshot. */
export const scheduledRequestId = (tick: ScheduleTick, simulation: string): string =>
  `schedule/${tick.schedule}/${simulation}/${new Date(tick.scheduledTime).toISOString()}`;

/**
 * One schedule tick: one snapshot request per running simulation. The request id is the schedule,
 * the simulation and the slot's scheduled time, so a tick delivered twice sends requests that
 * take-snapshot recognises as the same and turns into one snapshot.
 */
export async function planSnapshots(
  tick: ScheduleTick,
  deps: PlanSnapshotsDeps,
): Promise<{ requested: string[] }> {
  const simulations = await deps.provider.listSimulations();
  const running = simulations
    .filter((s) => RUNNING.has(s.status))
    .map((s) => s.name)
    .sort();
  for (const simulation of running) {
    await deps.requests.send({
      requestId: scheduledRequestId(tick, simulation),
      simulation,
      trigger: "schedule",
      schedule: tick.schedule,
      requestedAt: new Date(tick.scheduledTime).toISOString(),
    });
  }
  return { requested: running };
}
