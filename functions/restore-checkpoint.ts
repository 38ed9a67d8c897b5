import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { RestoreStepSchema, type RestoreStep } from "../lib/domain/restore.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordRestoreStep } from "../lib/observability/metrics.ts";
import { advanceRestore } from "../lib/usecases/restore-checkpoint.ts";

const adapters = createAdapters(loadSettings());
const restoreSteps = adapters.queue<RestoreStep>("restore-steps");

/** SQS consumer of the restore-steps queue: moves one restore job on (delayed while it waits). */
export const handler = sqsBatchHandler({
  what: "restore step",
  schema: RestoreStepSchema,
  correlate: (step) => ({ jobId: step.jobId }),
  redelivery: adapters.redelivery,
  handle: (step) => advanceRestore(step, { ...adapters, restoreSteps }).then(recordRestoreStep),
});
