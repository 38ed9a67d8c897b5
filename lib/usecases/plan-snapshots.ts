import type { ScheduleTick, SnapshotRequest } from "../domain/messages.ts";
import {
  selectorMatchesName,
  selectorMatchesTags,
  selectorNeedsTags,
  type SimulationSelector,
} from "../domain/selector.ts";
import type { MessageQueue } from "../ports/messaging.ts";
import type {
  SimulationProvider,
  SimulationStatus,
  SimulationSummary,
} from "../ports/simulation-provider.ts";

/** What plan-snapshots needs. */
export interface PlanSnapshotsDeps {
  provider: Pick<SimulationProvider, "listSimulations" | "describeSimulation" | "listTags">;
  requests: MessageQueue<SnapshotRequest>;
}

/** Simulations in these states can take a snapshot now or once the current one ends. */
const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);

/** The request id of a schedule slot: the same slot always yields the same snapshot. */
export const scheduledRequestId = (tick: ScheduleTick, simulation: string): string =>
  `schedule/${tick.schedule}/${simulation}/${new Date(tick.scheduledTime).toISOString()}`;

/**
 * The running simulations a selector picks. Names are matched first, so tags (one provider call
 * per simulation) are only read for simulations whose names already match, and only when the
 * selector asks for tags.
 */
async function selectRunning(
  simulations: SimulationSummary[],
  selector: SimulationSelector | undefined,
  provider: PlanSnapshotsDeps["provider"],
): Promise<string[]> {
  const candidates = simulations.filter(
    (s) => RUNNING.has(s.status) && selectorMatchesName(selector, s.name),
  );
  if (!selectorNeedsTags(selector)) return candidates.map((s) => s.name);
  const selected: string[] = [];
  for (const simulation of candidates) {
    const arn = simulation.arn ?? (await provider.describeSimulation(simulation.name)).arn;
    if (arn === undefined) continue;
    if (selectorMatchesTags(selector, await provider.listTags(arn))) selected.push(simulation.name);
  }
  return selected;
}

/**
 * One schedule tick: one snapshot request per running simulation the schedule's selector picks
 * (name globs and AWS tags; no selector picks all). The request id is the schedule, the simulation
 * and the slot's scheduled time, so a tick delivered twice sends requests that take-snapshot
 * recognises as the same and turns into one snapshot.
 */
export async function planSnapshots(
  tick: ScheduleTick,
  deps: PlanSnapshotsDeps,
): Promise<{ requested: string[] }> {
  const simulations = await deps.provider.listSimulations();
  const running = (await selectRunning(simulations, tick.selector, deps.provider)).sort();
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
