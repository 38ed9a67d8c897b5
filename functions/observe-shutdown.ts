import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { SimulationApiCallEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordShutdownObserved } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { observeShutdown, shutdownFromApiCall } from "../lib/usecases/stop/observe-shutdown.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { redelivery } from "../lib/wiring/queues.ts";

const name = "observe-shutdown";
const adapters = {
  ...catalog(name),
  events: eventPublisher(name),
  clock: systemClock,
  redelivery: redelivery(name),
};

/** SQS consumer of the simulation-shutdowns queue, fed by CloudTrail's StopSimulation/DeleteSimulation. */
export const handler = middy(
  sqsBatchHandler({
    what: "CloudTrail StopSimulation/DeleteSimulation event",
    schema: SimulationApiCallEventSchema,
    correlate: (event) => ({
      simulation: event.detail.requestParameters.simulation,
      call: event.detail.eventName,
    }),
    redelivery: adapters.redelivery,
    handle: (event) =>
      observeShutdown(shutdownFromApiCall(event), adapters).then(recordShutdownObserved),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
