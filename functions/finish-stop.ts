import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { FinalSnapshotEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordStopFinished } from "../lib/observability/metrics.ts";
import { finishStop } from "../lib/usecases/finish-stop.ts";

const adapters = createAdapters(loadSettings());

/** SQS consumer of the final-snapshots queue: shutdown checkpoints that completed or failed. */
export const handler = sqsBatchHandler({
  what: "final snapshot event",
  schema: FinalSnapshotEventSchema,
  correlate: (event) => ({
    simulation: event.detail.checkpoint.simulation,
    checkpointId: event.detail.checkpoint.id,
  }),
  redelivery: adapters.redelivery,
  handle: (event) => finishStop(event.detail.checkpoint, adapters).then(recordStopFinished),
});
