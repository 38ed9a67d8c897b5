import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ScheduleTickSchema } from "../lib/domain/messages.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { reportRetentionRuns } from "../lib/handlers/retention-runs.ts";
import { recordArchivePrune } from "../lib/observability/metrics.ts";
import { pruneArchives } from "../lib/usecases/prune-archives.ts";

const adapters = createAdapters(loadSettings());

/** EventBridge Scheduler target: the daily archive retention run. */
export const handler = async (event: unknown) => {
  const tick = parseInput(ScheduleTickSchema, event, "schedule tick");
  const results = await pruneArchives({ dryRun: false, force: false }, adapters).then(
    recordArchivePrune,
  );
  return reportRetentionRuns("Archive retention run", results, { schedule: tick.schedule });
};
