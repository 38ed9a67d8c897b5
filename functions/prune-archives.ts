import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { ScheduleTickSchema, type ScheduleTick } from "../lib/domain/messages.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { reportRetentionRuns } from "../lib/handlers/retention-runs.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordArchivePrune } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { pruneArchives } from "../lib/usecases/retention/prune-archives.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { archiveStore } from "../lib/wiring/objects.ts";
import { retentionBaseStore } from "../lib/wiring/retention-bases.ts";
import { settingsFor } from "../lib/wiring/settings.ts";

const name = "prune-archives";
const adapters = {
  ...catalog(name),
  storage: archiveStore(name),
  events: eventPublisher(name),
  clock: systemClock,
  archiveRetention: settingsFor(name).SIMSNAP_ARCHIVE_RETENTION,
  // The share guard measures each plan against the simulation's last approved archive run.
  bases: retentionBaseStore(name),
};

/** EventBridge Scheduler target: the daily archive retention run. */
export const handler = middy(async (tick: ScheduleTick) => {
  // The tick names the run, so the bases it records say which daily run approved them.
  const runId = `${tick.schedule}/${tick.scheduledTime}`;
  const results = await pruneArchives({ dryRun: false, force: false, runId }, adapters).then(
    recordArchivePrune,
  );
  return reportRetentionRuns("Archive retention run", results, {
    keys: { schedule: tick.schedule },
  });
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
