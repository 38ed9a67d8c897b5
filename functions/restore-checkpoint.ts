import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { RestoreStepSchema, type RestoreStep } from "../lib/domain/restore.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordRestoreStep } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { advanceRestore } from "../lib/usecases/restore/restore-checkpoint.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { archiveStore } from "../lib/wiring/objects.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import {
  fileSourcesOf,
  restoreSettings,
  settingsFor,
  snapshotOwnership,
} from "../lib/wiring/settings.ts";

const name = "restore-checkpoint";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  storage: archiveStore(name),
  providers: providerDirectory(name),
  events: eventPublisher(name),
  clock: systemClock,
  restore: restoreSettings(settings),
  owned: snapshotOwnership(settings),
  // A files checkpoint is copied from its archive under a prefix of its source.
  files: fileSourcesOf(settings),
  redelivery: redelivery(name),
};
const restoreSteps = queue<RestoreStep>(name, "restore-steps");

/** SQS consumer of the restore-steps queue: moves one restore job on (delayed while it waits). */
export const handler = middy(
  sqsBatchHandler({
    what: "restore step",
    schema: RestoreStepSchema,
    correlate: (step) => ({ jobId: step.jobId }),
    redelivery: adapters.redelivery,
    handle: (step) => advanceRestore(step, { ...adapters, restoreSteps }).then(recordRestoreStep),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
