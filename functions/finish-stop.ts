import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { FinalSnapshotEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordStopFinished } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { finishStop } from "../lib/usecases/stop/finish-stop.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { redelivery } from "../lib/wiring/queues.ts";

const name = "finish-stop";
const adapters = {
  ...catalog(name),
  providers: providerDirectory(name),
  events: eventPublisher(name),
  clock: systemClock,
  redelivery: redelivery(name),
};

/** SQS consumer of the final-snapshots queue: shutdown checkpoints that completed or failed. */
export const handler = middy(
  sqsBatchHandler({
    what: "final snapshot event",
    schema: FinalSnapshotEventSchema,
    correlate: (event) => ({
      simulation: event.detail.checkpoint.simulation,
      checkpointId: event.detail.checkpoint.id,
    }),
    redelivery: adapters.redelivery,
    handle: (event) => finishStop(event.detail.checkpoint, adapters).then(recordStopFinished),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
