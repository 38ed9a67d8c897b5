import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import {
  StopRequestedEventSchema,
  type SnapshotRequest,
  type StatusCheck,
} from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { requestStop, stopRequestFromEvent } from "../lib/usecases/stop/request-stop.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { settingsFor, snapshotTiming } from "../lib/wiring/settings.ts";

const name = "request-stop";
const adapters = {
  ...catalog(name),
  providers: providerDirectory(name),
  events: eventPublisher(name),
  clock: systemClock,
  timing: snapshotTiming(settingsFor(name)),
  redelivery: redelivery(name),
};
const requests = queue<SnapshotRequest>(name, "snapshot-requests");
const statusChecks = queue<StatusCheck>(name, "status-checks");

/** SQS consumer of the stop-requests queue, fed by `Simulation Stop Requested` events. */
export const handler = middy(
  sqsBatchHandler({
    what: "Simulation Stop Requested event",
    schema: StopRequestedEventSchema,
    correlate: (event) => ({
      simulation: event.detail.simulation,
      requestId: event.detail.requestId ?? event.id,
    }),
    redelivery: adapters.redelivery,
    handle: (event) =>
      requestStop(stopRequestFromEvent(event), { ...adapters, requests, statusChecks }),
  }),
).use(injectLambdaContext(logger, { resetKeys: true }));
