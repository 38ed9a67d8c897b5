import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import {
  FileEventSchema,
  ScheduleTickSchema,
  type FileEvent,
  type ScheduleTick,
} from "../lib/domain/messages.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import {
  discoverFileEvent,
  scanFileSources,
  type DiscoverFilesResult,
} from "../lib/usecases/files/discover-files.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { fileObjects } from "../lib/wiring/objects.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { fileSourcesOf, settingsFor } from "../lib/wiring/settings.ts";

const name = "discover-files";
const deps = {
  ...catalog(name),
  objects: fileObjects(name),
  events: eventPublisher(name),
  clock: systemClock,
  owned: fileSourcesOf(settingsFor(name)),
  rechecks: queue<FileEvent>(name, "file-events"),
  redelivery: redelivery(name),
};

/** One line per run that changed or skipped something; a quiet run logs at debug. */
function report(
  what: string,
  result: DiscoverFilesResult,
  log: Logger,
  context: Record<string, string> = {},
): DiscoverFilesResult {
  const summary = {
    ...context,
    created: result.created.length,
    completed: result.completed.length,
    failed: result.failed.length,
    pending: result.pending.length,
    unchanged: result.unchanged,
    skipped: result.skipped,
    rechecks: result.rechecks,
  };
  const changed = result.created.length + result.completed.length + result.failed.length;
  if (changed > 0 || result.skipped.length > 0) log.info(what, summary);
  else log.debug(what, summary);
  return result;
}

/**
 * SQS consumer of the file-events queue: S3's Object Created and Object Deleted events under the
 * files sources, and discovery's own delayed re-checks. Each message re-lists one checkpoint.
 */
export const handler = middy(
  sqsBatchHandler({
    what: "file event",
    schema: FileEventSchema,
    correlate: (event) => ({
      object:
        "recheck" in event
          ? `${event.recheck.bucket}/${event.recheck.key}`
          : `${event.detail.bucket.name}/${event.detail.object.key}`,
    }),
    redelivery: deps.redelivery,
    handle: async (event, _record, log) =>
      report("Files checkpoint discovered", await discoverFileEvent(event, deps), log),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

/**
 * EventBridge Scheduler target of `discover-files` (see lib/topology.ts): lists every source, so
 * what S3 events missed (notifications off, an event lost) is cataloged within one period.
 */
export const scanHandler = middy(async (tick: ScheduleTick) =>
  report("Files sources scanned", await scanFileSources(deps), logger, {
    schedule: tick.schedule,
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
