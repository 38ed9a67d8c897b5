import type { ScheduleTick, SnapshotRequest } from "../../domain/messages.ts";
import {
  selectorMatchesName,
  selectorMatchesProvider,
  selectorMatchesTags,
  selectorNeedsTags,
  type SimulationSelector,
} from "../../domain/selector.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import type {
  ProviderDirectory,
  SimulationProvider,
  SimulationStatus,
  SimulationSummary,
} from "../../ports/simulation-provider.ts";

/** What plan-snapshots needs. */
export interface PlanSnapshotsDeps {
  providers: Pick<ProviderDirectory, "all">;
  requests: MessageQueue<SnapshotRequest>;
}

/** A running simulation the selector picked but no snapshot can be asked of, and why. */
export interface SkippedSimulation {
  simulation: string;
  provider: string;
  reason: string;
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
  provider: Pick<SimulationProvider, "describeSimulation" | "listTags" | "capabilities">,
): Promise<string[]> {
  const candidates = simulations.filter(
    (s) => RUNNING.has(s.status) && selectorMatchesName(selector, s.name),
  );
  if (!selectorNeedsTags(selector)) return candidates.map((s) => s.name);
  // A selector on tags picks nothing on a platform whose simulations carry none.
  if (!provider.capabilities.tags) return [];
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
 * (providers, name globs and AWS tags; no selector picks all), on every provider it names. The request id is the
 * schedule, the simulation and the slot's scheduled time, so a tick delivered twice sends requests
 * that take-snapshot recognises as the same and turns into one snapshot. A provider that cannot
 * snapshot a running simulation (NVIDIA Air checkpoints only while stopping) gets no request: its
 * picked simulations are reported as skipped, with the reason. A schedule action that stops and
 * restarts such a simulation to checkpoint it (`cycle`) is not built yet.
 */
export async function planSnapshots(
  tick: ScheduleTick,
  deps: PlanSnapshotsDeps,
): Promise<{ requested: string[]; skipped: SkippedSimulation[] }> {
  const picked: string[] = [];
  const skipped: SkippedSimulation[] = [];
  for (const provider of deps.providers.all()) {
    // A selector naming providers lists only theirs: the others are not even asked.
    if (!selectorMatchesProvider(tick.selector, provider.name)) continue;
    const simulations = await provider.listSimulations();
    const selected = await selectRunning(simulations, tick.selector, provider);
    if (provider.capabilities.snapshotWhileRunning) {
      picked.push(...selected);
      continue;
    }
    for (const simulation of selected) {
      skipped.push({
        simulation,
        provider: provider.name,
        reason: `${provider.name} cannot snapshot a running simulation (it checkpoints only while stopping), and schedules do not stop simulations`,
      });
    }
  }
  const running = picked.sort();
  for (const simulation of running) {
    await deps.requests.send({
      requestId: scheduledRequestId(tick, simulation),
      simulation,
      trigger: "schedule",
      schedule: tick.schedule,
      requestedAt: new Date(tick.scheduledTime).toISOString(),
    });
  }
  return { requested: running, skipped };
}
