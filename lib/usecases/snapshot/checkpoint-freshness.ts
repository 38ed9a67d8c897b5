import type { Checkpoint } from "../../domain/checkpoint.ts";
import type { CheckpointStore } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";

/** What the freshness check reads. */
export interface CheckpointFreshnessDeps {
  checkpoints: Pick<CheckpointStore, "listBySimulation">;
  clock: Clock;
}

/** How long one simulation has gone without a completed checkpoint. */
export interface CheckpointFreshness {
  simulation: string;
  /**
   * Seconds since its newest completed checkpoint was taken; when none ever completed, since its
   * first checkpoint was asked for (so a simulation whose snapshots always fail grows stale too);
   * 0 for a simulation simsnap has never tried to snapshot.
   */
  ageSeconds: number;
  /** When the newest completed checkpoint was taken, if there is one. */
  newestCompletedAt?: string;
}

/** Records read per catalog query; most simulations are answered by the first, newest page. */
const PAGE_SIZE = 50;

/** A checkpoint whose file was once complete; DELETED ones were COMPLETE before retention. */
const wasCompleted = (checkpoint: Checkpoint): boolean =>
  checkpoint.state === "COMPLETE" || checkpoint.state === "DELETED";

async function freshnessOf(
  simulation: string,
  deps: CheckpointFreshnessDeps,
  now: Date,
): Promise<CheckpointFreshness> {
  const ageSince = (iso: string) =>
    Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  let oldest: string | undefined;
  let cursor: string | undefined;
  do {
    const page = await deps.checkpoints.listBySimulation(simulation, {
      newestFirst: true,
      limit: PAGE_SIZE,
      cursor,
    });
    const completed = page.items.find(wasCompleted);
    if (completed) {
      return {
        simulation,
        ageSeconds: ageSince(completed.createdAt),
        newestCompletedAt: completed.createdAt,
      };
    }
    oldest = page.items.at(-1)?.createdAt ?? oldest;
    cursor = page.nextCursor;
  } while (cursor);
  return { simulation, ageSeconds: oldest === undefined ? 0 : ageSince(oldest) };
}

/**
 * How stale each simulation's checkpoints are: the age of its newest completed checkpoint, read
 * from the catalog newest first (a simulation whose recent snapshots failed is paged through
 * until one completed). plan-snapshots measures the simulations a schedule selected at every
 * tick, so "a simulation with no completed checkpoint for longer than twice its schedule period"
 * is a threshold on this figure.
 */
export async function checkpointFreshness(
  simulations: readonly string[],
  deps: CheckpointFreshnessDeps,
): Promise<CheckpointFreshness[]> {
  const now = deps.clock.now();
  const results: CheckpointFreshness[] = [];
  for (const simulation of simulations) results.push(await freshnessOf(simulation, deps, now));
  return results;
}
