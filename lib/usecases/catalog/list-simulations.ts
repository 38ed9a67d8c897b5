import type { CheckpointState } from "../../domain/checkpoint.ts";
import {
  checkpointAgeSeconds,
  freshnessVerdict,
  type Freshness,
  type FreshnessWatch,
} from "../../domain/freshness.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";
import {
  RUNNING_STATUSES,
  type ProviderDirectory,
  type SimulationStatus,
} from "../../ports/simulation-provider.ts";
import { loadCheckpoints } from "./list-checkpoints.ts";

/** What `GET /simulations` says about one simulation. */
export interface SimulationOverview {
  name: string;
  /** As the provider reports it; `UNKNOWN` when the provider no longer lists the simulation. */
  status: SimulationStatus;
  provider: string;
  /** Creation time of the newest COMPLETE checkpoint, the one a restore would most likely use. */
  lastCheckpointAt?: string;
  checkpoints: Record<CheckpointState, number>;
  /** Fresh or late by the staleness alarms' rule, when the deployment's schedules are known. */
  freshness?: Freshness;
}

/** What the overview needs. */
export interface ListSimulationsDeps {
  providers: Pick<ProviderDirectory, "all">;
  checkpoints: CheckpointStore;
  /** The snapshot schedules' staleness thresholds, and the time to measure ages at. */
  freshness?: { watches: readonly FreshnessWatch[]; clock: Clock };
}

/** Statuses in which a schedule snapshots a simulation (plan-snapshots picks only these). */

/**
 * Every simulation a provider lists or the catalog has checkpoints of, by name, with the provider
 * it belongs to: a simulation that ended and was deleted still has checkpoints worth restoring,
 * so it stays in view (its provider then is the one its checkpoints name). A name two providers
 * list shows the first configured one's. With the schedules' thresholds, each says how long since
 * its newest completed checkpoint and whether a staleness alarm would fire for it.
 */
export async function listSimulations(deps: ListSimulationsDeps): Promise<SimulationOverview[]> {
  const [listings, cataloged] = await Promise.all([
    Promise.all(
      deps.providers
        .all()
        .map(async (provider) =>
          (await provider.listSimulations()).map((s) => ({ ...s, provider: provider.name })),
        ),
    ),
    deps.checkpoints.listSimulations(),
  ]);
  const running = listings.flat();
  const statuses = new Map<string, SimulationStatus>();
  const providers = new Map<string, string>();
  for (const simulation of running) {
    if (providers.has(simulation.name)) continue;
    statuses.set(simulation.name, simulation.status);
    providers.set(simulation.name, simulation.provider);
  }
  const names = [...new Set([...statuses.keys(), ...cataloged])].sort();
  const withCheckpoints = names.filter((name) => cataloged.includes(name));
  const loaded = await loadCheckpoints(deps.checkpoints, withCheckpoints);
  const now = deps.freshness?.clock.now();
  const bySimulation = new Map(withCheckpoints.map((name, i) => [name, loaded[i] ?? []]));

  return names.map((name) => {
    const checkpoints: Record<CheckpointState, number> = {
      PENDING: 0,
      COMPLETE: 0,
      FAILED: 0,
      DELETED: 0,
    };
    let last: string | undefined;
    const recorded = bySimulation.get(name) ?? [];
    for (const checkpoint of recorded) {
      checkpoints[checkpoint.state] += 1;
      if (
        checkpoint.state === "COMPLETE" &&
        (last === undefined || Date.parse(checkpoint.createdAt) > Date.parse(last))
      ) {
        last = checkpoint.createdAt;
      }
    }
    const status = statuses.get(name) ?? "UNKNOWN";
    const provider = providers.get(name) ?? recorded[0]?.provider ?? "unknown";
    return {
      name,
      status,
      provider,
      ...(last === undefined ? {} : { lastCheckpointAt: last }),
      checkpoints,
      ...(deps.freshness && now
        ? {
            freshness: freshnessVerdict(
              { name, provider, running: RUNNING_STATUSES.has(status) },
              checkpointAgeSeconds(recorded, now),
              deps.freshness.watches,
            ),
          }
        : {}),
    };
  });
}
