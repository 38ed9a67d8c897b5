import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { ObjectCreatedEventSchema } from "../lib/domain/messages.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordSnapshotFile } from "../lib/observability/metrics.ts";
import { completeSnapshot } from "../lib/usecases/complete-snapshot.ts";

const adapters = createAdapters(loadSettings());

/** SQS consumer of the snapshot-files queue, fed by S3's "Object Created" events. */
export const handler = sqsBatchHandler({
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
});
