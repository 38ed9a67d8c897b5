import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { ScheduleTickSchema, type ScheduleTick } from "../lib/domain/messages.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordTrashPurge } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { purgeTrash } from "../lib/usecases/retention/purge-trash.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { fileObjects, snapshotObjects } from "../lib/wiring/objects.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { fileSourcesOf, settingsFor, snapshotOwnership } from "../lib/wiring/settings.ts";

const name = "purge-trash";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  objects: snapshotObjects(name),
  events: eventPublisher(name),
  clock: systemClock,
  owned: snapshotOwnership(settings),
  // A checkpoint its platform kept in the trash (NVIDIA Air) is deleted there; sets are told
  // apart by their provider's capabilities.
  providers: providerDirectory(name),
  // Objects of a set a move left at its key are removed with its trash folder.
  files: fileSourcesOf(settings),
  fileObjects: fileObjects(name),
};

/** EventBridge Scheduler target of `purge-trash-daily`: makes trashed deletions final. */
export const handler = middy(async (tick: ScheduleTick) => {
  const result = await purgeTrash(adapters).then(recordTrashPurge);
  const summary = {
    schedule: tick.schedule,
    purged: result.purged.length,
    failed: result.failed.length,
    orphans: result.orphans.length,
  };
  if (result.failed.length > 0) {
    logger.warn("Trash purge left files S3 would not delete", {
      ...summary,
      failures: result.failed,
    });
  } else logger.info("Trash purge run", summary);
  return summary;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"))
  .use(logMetrics(metrics));
