import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ArchiveRequestSchema } from "../lib/domain/archive.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordArchive } from "../lib/observability/metrics.ts";
import { archiveCheckpoint } from "../lib/usecases/archive-checkpoint.ts";

const adapters = createAdapters(loadSettings());

/** SQS consumer of the archive-requests queue, fed by `Checkpoint Completed` events. */
export const handler = sqsBatchHandler({
  what: "archive request",
  schema: ArchiveRequestSchema,
  correlate: (request) => ({ checkpointId: request.checkpointId }),
  redelivery: adapters.redelivery,
  handle: (request, record) =>
    archiveCheckpoint(
      {
        checkpointId: request.checkpointId,
        attempt: Number(record.attributes.ApproximateReceiveCount) || 1,
      },
      adapters,
    ).then(recordArchive),
});
