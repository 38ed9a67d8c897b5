import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { AppError } from "../lib/domain/errors.ts";
import { ScheduleTickSchema, type ScheduleTick } from "../lib/domain/messages.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { syncAllPlatformCheckpoints } from "../lib/usecases/sync/sync-platform-checkpoints.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";

const name = "sync-checkpoints";
const deps = {
  ...catalog(name),
  providers: providerDirectory(name),
  events: eventPublisher(name),
  clock: systemClock,
};

/**
 * EventBridge Scheduler target: one mirror of every platform that holds its checkpoints (NVIDIA
 * Air) into the catalog. A simulation that could not be synced fails the invocation (its alarm),
 * after the others were synced; the next tick tries again.
 */
export const handler = middy(async (tick: ScheduleTick) => {
  const results = await syncAllPlatformCheckpoints(deps);
  let changed = 0;
  const failures: string[] = [];
  for (const result of results) {
    if ("error" in result) {
      logger.error("Checkpoints not synced", { schedule: tick.schedule, ...result });
      failures.push(`${result.simulation} on ${result.provider} (${result.error})`);
      continue;
    }
    const { listed, ...counts } = result;
    // A checkpoint cataloged COMPLETE at once is both created and completed: counted once.
    const changes = new Set([
      ...counts.created,
      ...counts.completed,
      ...counts.deleted,
      ...counts.failed,
      ...counts.updated,
      ...counts.pushed,
    ]).size;
    changed += changes;
    if (changes > 0 || counts.errors.length > 0) {
      logger.info("Checkpoints synced", {
        schedule: tick.schedule,
        listed: listed.length,
        ...counts,
      });
    }
    for (const error of counts.errors) {
      failures.push(`${result.simulation} checkpoint ${error.platformId} (${error.message})`);
    }
  }
  logger.info("Platform checkpoints synced", {
    schedule: tick.schedule,
    simulations: results.length,
    changed,
    failed: failures.length,
  });
  if (failures.length > 0) {
    throw new AppError(`${failures.length} checkpoint syncs failed: ${failures.join("; ")}`);
  }
  return { simulations: results.length, changed };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
