import { EVENT_SCHEMA_VERSION } from "../../domain/events.ts";
import { canCycle } from "../../domain/stop.ts";
import type {
  ScheduleAction,
  ScheduleTick,
  SnapshotRequest,
  StopRequestedEvent,
} from "../../domain/messages.ts";
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

/**
 * What plan-snapshots needs: the snapshot requests' queue, and the stop requests' (request-stop's,
 * the one the `Simulation Stop Requested` rule feeds), where a `cycle` schedule's stops go.
 */
export interface PlanSnapshotsDeps {
  providers: Pick<ProviderDirectory, "all">;
  requests: MessageQueue<SnapshotRequest>;
  stops: MessageQueue<StopRequestedEvent>;
}

/** What one tick asked for: snapshots, cycles (stop, then restart), and what it left out. */
export interface PlannedSnapshots {
  requested: string[];
  /** Simulations a `cycle` tick asked to stop with a checkpoint and start again from it. */
  cycled: string[];
  skipped: SkippedSimulation[];
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
 * Why a running simulation of a provider that cannot snapshot it is left out of a tick: the
 * schedule does not cycle, or the provider cannot start it again from its own checkpoint.
 */
function skipReason(provider: SimulationProvider, action: ScheduleAction): string {
  const cannot = `${provider.name} cannot snapshot a running simulation (it checkpoints only while stopping)`;
  if (action !== "cycle") {
    return `${cannot}, and this schedule's action is snapshot (a schedule with action cycle stops it with a checkpoint and starts it again)`;
  }
  return `${cannot}, and it cannot start a simulation again from the checkpoint its stop saved, so this schedule cannot cycle it`;
}

/**
 * The stop request of a cycle, as request-stop reads it from its queue (the `Simulation Stop
 * Requested` event's shape): stop with the platform's checkpoint, then start again from it. Its
 * request id is the tick's, so a tick delivered twice is one stop job and one restart.
 */
function cycleRequest(tick: ScheduleTick, simulation: string): StopRequestedEvent {
  const requestId = scheduledRequestId(tick, simulation);
  return {
    id: requestId,
    "detail-type": "Simulation Stop Requested",
    source: "simsnap",
    detail: {
      version: EVENT_SCHEMA_VERSION,
      simulation,
      snapshot: true,
      force: false,
      requestId,
      reason: `cycle of schedule ${tick.schedule} (slot ${new Date(tick.scheduledTime).toISOString()})`,
      then: "restart",
    },
  };
}

/**
 * One schedule tick: one snapshot request per running simulation the schedule's selector picks
 * (providers, name globs and AWS tags; no selector picks all), on every provider it names. The
 * request id is the schedule, the simulation and the slot's scheduled time, so a tick delivered
 * twice sends requests that take-snapshot recognises as the same and turns into one snapshot. A
 * provider that cannot snapshot a running simulation (NVIDIA Air checkpoints only while stopping)
 * gets no snapshot request: with the schedule's `cycle` action, and a provider that can start the
 * same simulation from the checkpoint its stop saves, each picked simulation gets a stop request
 * that restarts it from that checkpoint (the same request id, so a duplicate tick is one cycle);
 * otherwise it is reported as skipped, with the reason. A cycle schedule still snapshots the
 * simulations of providers that can snapshot them running: stopping those would gain nothing.
 */
export async function planSnapshots(
  tick: ScheduleTick,
  deps: PlanSnapshotsDeps,
): Promise<PlannedSnapshots> {
  const action = tick.action ?? "snapshot";
  const picked: string[] = [];
  const cycling: string[] = [];
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
    if (action === "cycle" && canCycle(provider.capabilities)) {
      cycling.push(...selected);
      continue;
    }
    for (const simulation of selected) {
      skipped.push({ simulation, provider: provider.name, reason: skipReason(provider, action) });
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
  const cycled = cycling.sort();
  for (const simulation of cycled) await deps.stops.send(cycleRequest(tick, simulation));
  return { requested: running, cycled, skipped };
}
