import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ScheduleTickSchema, type SnapshotRequest } from "../lib/domain/messages.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { retryTransient, SCHEDULED_RETRY } from "../lib/handlers/retry-transient.ts";
import { logger } from "../lib/observability/logger.ts";
import { recordSchedulePlanned } from "../lib/observability/metrics.ts";
import { checkpointFreshness } from "../lib/usecases/checkpoint-freshness.ts";
import { planSnapshots } from "../lib/usecases/plan-snapshots.ts";

const adapters = createAdapters(loadSettings());
const requests = adapters.queue<SnapshotRequest>("snapshot-requests");

/** EventBridge Scheduler target: one schedule tick. */
export const handler = async (event: unknown) => {
  const tick = parseInput(ScheduleTickSchema, event, "schedule tick");
  // A tick is one invocation: a transient provider fault is retried here, within seconds.
  const result = await retryTransient(
    () => planSnapshots(tick, { provider: adapters.provider, requests }),
    { what: "schedule tick", ...SCHEDULED_RETRY },
  );
  // How stale each selected simulation is, for the schedule's no-completed-checkpoint alarm.
  const freshness = await checkpointFreshness(result.requested, adapters);
  recordSchedulePlanned(tick.schedule, result.requested.length, freshness);
  logger.info("Snapshots planned", {
    schedule: tick.schedule,
    simulations: result.requested,
    checkpointAgeSeconds: Object.fromEntries(freshness.map((f) => [f.simulation, f.ageSeconds])),
  });
  return result;
};
