import type { Checkpoint } from "../../domain/checkpoint.ts";
import { queryCheckpoints, type CheckpointQuery } from "../../domain/checkpoint-query.ts";
import { NotFoundError } from "../../domain/errors.ts";
import type { CheckpointStore, Page } from "../../ports/catalog.ts";
import { forEachLimited } from "../for-each-limited.ts";

/** What the catalog queries need. */
export interface CatalogReadDeps {
  checkpoints: CheckpointStore;
}

const READ_CONCURRENCY = 8;

/** Every checkpoint of one simulation, read page by page (1,000 per page, the largest). */
export async function loadSimulationCheckpoints(
  checkpoints: CheckpointStore,
  simulation: string,
): Promise<Checkpoint[]> {
  const all: Checkpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await checkpoints.listBySimulation(simulation, { limit: 1000, cursor });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** Reads the checkpoints of several simulations, a few at a time. */
export async function loadCheckpoints(
  checkpoints: CheckpointStore,
  simulations: readonly string[],
): Promise<Checkpoint[][]> {
  const results: Checkpoint[][] = new Array<Checkpoint[]>(simulations.length);
  await forEachLimited([...simulations.keys()], READ_CONCURRENCY, async (index) => {
    results[index] = await loadSimulationCheckpoints(checkpoints, simulations[index] as string);
  });
  return results;
}

/**
 * One page of `GET /checkpoints`. The store can only list one simulation in creation order, while
 * a query may filter on anything and order by name or state, so the candidates (one simulation's
 * checkpoints, or every simulation's from the catalog's registry) are read whole and the pure
 * `queryCheckpoints` filters, orders and pages them. Reads go by key and index only, never a
 * table scan; that is fine at the catalog sizes simsnap keeps (thousands of checkpoints).
 */
export async function listCheckpoints(
  query: CheckpointQuery,
  deps: CatalogReadDeps,
): Promise<Page<Checkpoint>> {
  const simulations = query.simulation
    ? [query.simulation]
    : await deps.checkpoints.listSimulations();
  const candidates = (await loadCheckpoints(deps.checkpoints, simulations)).flat();
  return queryCheckpoints(candidates, query);
}

/** One checkpoint by id; a missing one is a `NotFoundError` naming it. */
export async function getCheckpoint(id: string, deps: CatalogReadDeps): Promise<Checkpoint> {
  const checkpoint = await deps.checkpoints.get(id);
  if (!checkpoint) throw new NotFoundError(`Checkpoint ${id} does not exist`);
  return checkpoint;
}
