import type { Checkpoint } from "../../domain/checkpoint.ts";
import type { CheckpointStore, SimulationRecord } from "../../ports/catalog.ts";
import type { Clock } from "../../ports/messaging.ts";
import { forEachLimited } from "../for-each-limited.ts";

/** What the freshness check reads (and, once per simulation cataloged before it, writes). */
export interface CheckpointFreshnessDeps {
  checkpoints: Pick<
    CheckpointStore,
    "listBySimulation" | "simulationRecords" | "backfillSimulationRecord"
  >;
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

/**
 * What a read of a simulation's checkpoints says, for a registry record kept from before the
 * registry tracked times: newest first, paged until one completed (most simulations: the first
 * page), else through all of them to the oldest. With a completed one, the first checkpoint's
 * time is the oldest read so far, no later than the completion, which is all the record needs.
 */
async function recordFromListing(
  simulation: string,
  deps: CheckpointFreshnessDeps,
): Promise<SimulationRecord> {
  let oldest: string | undefined;
  let newestCompletedAt: string | undefined;
  let cursor: string | undefined;
  do {
    const page = await deps.checkpoints.listBySimulation(simulation, {
      newestFirst: true,
      limit: PAGE_SIZE,
      cursor,
    });
    newestCompletedAt = page.items.find(wasCompleted)?.createdAt;
    oldest = page.items.at(-1)?.createdAt ?? oldest;
    cursor = page.nextCursor;
  } while (cursor && newestCompletedAt === undefined);
  return {
    simulation,
    ...(oldest === undefined ? {} : { firstCheckpointAt: oldest }),
    ...(newestCompletedAt === undefined ? {} : { newestCompletedAt }),
  };
}

/** Listings of untracked simulations in flight at once. */
const BACKFILL_CONCURRENCY = 8;

/**
 * How stale each simulation's checkpoints are: the age of its newest completed checkpoint, as
 * the catalog's registry records it (kept by the store as checkpoints complete), read for 100
 * simulations a request, so a tick over 10,000 simulations costs 100 catalog reads, not a listing
 * each. A registry record from before the registry kept these times is answered once from a full
 * listing of the simulation's checkpoints (newest first, paged until one completed, as the
 * registry would have it) and backfilled. plan-snapshots measures the simulations a schedule
 * selected at every tick, so "a simulation with no completed checkpoint for longer than twice its
 * schedule period" is a threshold on this figure.
 */
export async function checkpointFreshness(
  simulations: readonly string[],
  deps: CheckpointFreshnessDeps,
): Promise<CheckpointFreshness[]> {
  const now = deps.clock.now();
  const ageSince = (iso: string) =>
    Math.max(0, Math.round((now.getTime() - new Date(iso).getTime()) / 1000));
  const records = await deps.checkpoints.simulationRecords(simulations);
  const untracked = [...records.values()].filter((r) => r.firstCheckpointAt === undefined);
  await forEachLimited(untracked, BACKFILL_CONCURRENCY, async ({ simulation }) => {
    const listed = await recordFromListing(simulation, deps);
    records.set(simulation, listed);
    await deps.checkpoints.backfillSimulationRecord(listed);
  });
  return simulations.map((simulation) => {
    const record = records.get(simulation);
    if (record?.newestCompletedAt !== undefined) {
      return {
        simulation,
        ageSeconds: ageSince(record.newestCompletedAt),
        newestCompletedAt: record.newestCompletedAt,
      };
    }
    const first = record?.firstCheckpointAt;
    return { simulation, ageSeconds: first === undefined ? 0 : ageSince(first) };
  });
}
