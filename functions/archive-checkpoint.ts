import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { ArchiveRequestSchema } from "../lib/domain/archive.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordArchive } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { archiveCheckpoint } from "../lib/usecases/archive/archive-checkpoint.ts";
import { providerCapabilities } from "../lib/wiring/capabilities.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { archiveStore } from "../lib/wiring/objects.ts";
import { redelivery } from "../lib/wiring/queues.ts";
import {
  archiveSettings,
  fileSourcesOf,
  settingsFor,
  snapshotOwnership,
} from "../lib/wiring/settings.ts";

const name = "archive-checkpoint";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  storage: archiveStore(name),
  // Capabilities only: a checkpoint a platform holds is skipped, with why, when it has no bytes.
  providers: providerCapabilities(name),
  events: eventPublisher(name),
  clock: systemClock,
  archive: archiveSettings(settings),
  owned: snapshotOwnership(settings),
  // A files checkpoint is archived as a set: every object, then its manifest.
  files: fileSourcesOf(settings),
  redelivery: redelivery(name),
};

/** SQS consumer of the archive-requests queue, fed by `Checkpoint Completed` events. */
export const handler = middy(
  sqsBatchHandler({
    what: "archive request",
    schema: ArchiveRequestSchema,
    correlate: (request) => ({ checkpointId: request.checkpointId }),
    redelivery: adapters.redelivery,
    handle: async (request, record, log) => {
      const result = await archiveCheckpoint(
        {
          checkpointId: request.checkpointId,
          attempt: Number(record.attributes.ApproximateReceiveCount) || 1,
        },
        adapters,
      ).then(recordArchive);
      // Not archived, and never will be (no bytes, another tool's file): said once, here.
      if (result.outcome === "skipped") {
        log.info("Archive skipped", { checkpointId: result.checkpointId, reason: result.reason });
      }
      // A COMPLETE checkpoint without its file: the catalog and the bucket disagree, which an
      // operator should see, but no redelivery can mend.
      if (result.outcome === "missing") {
        log.warn("Archive impossible", {
          checkpointId: result.checkpointId,
          reason: result.reason,
        });
      }
      return result;
    },
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
