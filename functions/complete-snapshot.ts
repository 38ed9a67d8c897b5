import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { SIMSPACEWEAVER } from "../lib/adapters/simspaceweaver/provider.ts";
import { ObjectCreatedEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordSnapshotFile } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { completeSnapshot } from "../lib/usecases/snapshot/complete-snapshot.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { snapshotObjects } from "../lib/wiring/objects.ts";
import { redelivery } from "../lib/wiring/queues.ts";
import { settingsFor, snapshotOwnership } from "../lib/wiring/settings.ts";

const name = "complete-snapshot";
const adapters = {
  ...catalog(name),
  objects: snapshotObjects(name),
  events: eventPublisher(name),
  clock: systemClock,
  // Recorded on a checkpoint it discovers; the function calls no provider operation.
  provider: { name: SIMSPACEWEAVER },
  owned: snapshotOwnership(settingsFor(name)),
  redelivery: redelivery(name),
};

/** SQS consumer of the snapshot-files queue, fed by S3's "Object Created" events. */
export const handler = middy(
  sqsBatchHandler({
    what: "S3 Object Created event",
    schema: ObjectCreatedEventSchema,
    correlate: (event) => ({ object: `${event.detail.bucket.name}/${event.detail.object.key}` }),
    redelivery: adapters.redelivery,
    handle: (event) =>
      completeSnapshot(
        {
          bucket: event.detail.bucket.name,
          key: event.detail.object.key,
          size: event.detail.object.size ?? 0,
          etag: event.detail.object.etag,
        },
        adapters,
      ).then(recordSnapshotFile),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
