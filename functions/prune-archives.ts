import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ScheduleTickSchema } from "../lib/domain/messages.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { logger } from "../lib/observability/logger.ts";
import { recordArchivePrune } from "../lib/observability/metrics.ts";
import { pruneArchives } from "../lib/usecases/prune-archives.ts";

const adapters = createAdapters(loadSettings());

/** EventBridge Scheduler target: the daily archive retention run. */
export const handler = async (event: unknown) => {
  const tick = parseInput(ScheduleTickSchema, event, "schedule tick");
  const results = await pruneArchives({ dryRun: false, force: false }, adapters).then(
    recordArchivePrune,
  );
  for (const result of results) {
    logger.info("Archive retention run", {
      schedule: tick.schedule,
      simulation: result.simulation,
      outcome: result.outcome,
      removed: result.removed.length,
      failed: result.failed.length,
      refused: result.plan.refused,
    });
  }
  return results.map(({ simulation, outcome, removed, failed }) => ({
    simulation,
    outcome,
    removed: removed.length,
    failed: failed.length,
  }));
};
