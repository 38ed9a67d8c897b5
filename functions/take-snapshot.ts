import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { SnapshotRequestSchema, type StatusCheck } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordSnapshotTaken } from "../lib/observability/metrics.ts";
import { takeSnapshot } from "../lib/usecases/take-snapshot.ts";

const adapters = createAdapters(loadSettings());
const statusChecks = adapters.queue<StatusCheck>("status-checks");

/** SQS consumer of the snapshot-requests queue. */
export const handler = sqsBatchHandler({
  what: "snapshot request",
  schema: SnapshotRequestSchema,
  correlate: (request) => ({ simulation: request.simulation, requestId: request.requestId }),
  redelivery: adapters.redelivery,
  handle: (request) =>
    takeSnapshot(request, { ...adapters, statusChecks }).then(recordSnapshotTaken),
});
