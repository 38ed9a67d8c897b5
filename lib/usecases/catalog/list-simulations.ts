import type { CheckpointState } from "../../domain/checkpoint.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { ProviderDirectory, SimulationStatus } from "../../ports/simulation-provider.ts";
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
}

/** What the overview needs. */
export interface ListSimulationsDeps {
  providers: Pick<ProviderDirectory, "all">;
  checkpoints: CheckpointStore;
}

/**
 * Every simulation a provider lists or the catalog has checkpoints of, by name, with the provider
 * it belongs to: a simulation that ended and was deleted still has checkpoints worth restoring,
 * so it stays in view (its provider then is the one its checkpoints name). A name two providers
 * list shows the first configured one's.
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
    return {
      name,
      status: statuses.get(name) ?? "UNKNOWN",
      provider: providers.get(name) ?? recorded[0]?.provider ?? "unknown",
      ...(last === undefined ? {} : { lastCheckpointAt: last }),
      checkpoints,
    };
  });
}
