import type { CheckpointState } from "../domain/checkpoint.ts";
import type { CheckpointStore } from "../ports/catalog.ts";
import type { SimulationProvider, SimulationStatus } from "../ports/simulation-provider.ts";
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
  provider: Pick<SimulationProvider, "name" | "listSimulations">;
  checkpoints: CheckpointStore;
}

/**
 * Every simulation the provider lists or the catalog has checkpoints of, by name: a simulation
 * that ended and was deleted still has checkpoints worth restoring, so it stays in view.
 */
export async function listSimulations(deps: ListSimulationsDeps): Promise<SimulationOverview[]> {
  const [running, cataloged] = await Promise.all([
    deps.provider.listSimulations(),
    deps.checkpoints.listSimulations(),
  ]);
  const statuses = new Map(running.map((s) => [s.name, s.status]));
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
    for (const checkpoint of bySimulation.get(name) ?? []) {
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
      provider: deps.provider.name,
      ...(last === undefined ? {} : { lastCheckpointAt: last }),
      checkpoints,
    };
  });
}
