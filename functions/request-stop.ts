import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { StopRequestedEventSchema, type SnapshotRequest } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { requestStop, stopRequestFromEvent } from "../lib/usecases/request-stop.ts";

const adapters = createAdapters(loadSettings());
const requests = adapters.queue<SnapshotRequest>("snapshot-requests");

/** SQS consumer of the stop-requests queue, fed by `Simulation Stop Requested` events. */
export const handler = sqsBatchHandler({
  what: "Simulation Stop Requested event",
  schema: StopRequestedEventSchema,
  correlate: (event) => ({
    simulation: event.detail.simulation,
    requestId: event.detail.requestId ?? event.id,
  }),
  redelivery: adapters.redelivery,
  handle: (event) => requestStop(stopRequestFromEvent(event), { ...adapters, requests }),
});
