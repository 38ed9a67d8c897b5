import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { SnapshotRequestSchema, type StatusCheck } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordSnapshotTaken } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { takeSnapshot } from "../lib/usecases/snapshot/take-snapshot.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { simulationProvider } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { settingsFor, snapshotDestination, snapshotTiming } from "../lib/wiring/settings.ts";

const name = "take-snapshot";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  provider: simulationProvider(name),
  events: eventPublisher(name),
  clock: systemClock,
  destination: snapshotDestination(settings),
  timing: snapshotTiming(settings),
  redelivery: redelivery(name),
};
const statusChecks = queue<StatusCheck>(name, "status-checks");

/** SQS consumer of the snapshot-requests queue. */
export const handler = middy(
  sqsBatchHandler({
    what: "snapshot request",
    schema: SnapshotRequestSchema,
    correlate: (request) => ({ simulation: request.simulation, requestId: request.requestId }),
    redelivery: adapters.redelivery,
    handle: (request) =>
      takeSnapshot(request, { ...adapters, statusChecks }).then(recordSnapshotTaken),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
