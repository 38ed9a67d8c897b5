import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ScheduleTickSchema, type SnapshotRequest } from "../lib/domain/messages.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { logger } from "../lib/observability/logger.ts";
import { planSnapshots } from "../lib/usecases/plan-snapshots.ts";

const adapters = createAdapters(loadSettings());
const requests = adapters.queue<SnapshotRequest>("snapshot-requests");

/** EventBridge Scheduler target: one schedule tick. */
export const handler = async (event: unknown) => {
  const tick = parseInput(ScheduleTickSchema, event, "schedule tick");
  const result = await planSnapshots(tick, { provider: adapters.provider, requests });
  logger.info("Snapshots planned", { schedule: tick.schedule, simulations: result.requested });
  return result;
};
