import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { StatusCheckSchema, type StatusCheck } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordSnapshotCheck } from "../lib/observability/metrics.ts";
import { checkSnapshot } from "../lib/usecases/check-snapshot.ts";

const adapters = createAdapters(loadSettings());
const statusChecks = adapters.queue<StatusCheck>("status-checks");

/** SQS consumer of the status-checks queue (delayed messages). */
export const handler = sqsBatchHandler({
  what: "status check",
  schema: StatusCheckSchema,
  correlate: (check) => ({ jobId: check.jobId }),
  redelivery: adapters.redelivery,
  handle: (check) => checkSnapshot(check, { ...adapters, statusChecks }).then(recordSnapshotCheck),
});
