import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { StatusCheckSchema, type StatusCheck } from "../lib/domain/messages.ts";
import type { RestoreStep } from "../lib/domain/restore.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordSnapshotCheck } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { runStatusCheck } from "../lib/usecases/jobs/run-status-check.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { snapshotObjects } from "../lib/wiring/objects.ts";
import { providerDirectory, simulationProvider } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { settingsFor, snapshotOwnership, snapshotTiming } from "../lib/wiring/settings.ts";

const name = "check-snapshot";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  provider: simulationProvider(name),
  providers: providerDirectory(name),
  objects: snapshotObjects(name),
  events: eventPublisher(name),
  clock: systemClock,
  timing: snapshotTiming(settings),
  owned: snapshotOwnership(settings),
  // A cycle's stop, its checkpoint COMPLETE, starts the simulation again as a restore job.
  restore: { deadlineSeconds: settings.SIMSNAP_RESTORE_DEADLINE_SECONDS },
  redelivery: redelivery(name),
};
const statusChecks = queue<StatusCheck>(name, "status-checks");
const restoreSteps = queue<RestoreStep>(name, "restore-steps");

/**
 * SQS consumer of the status-checks queue (delayed messages): snapshot jobs' checks, and the
 * re-checks of stops through a platform that checkpoints while stopping.
 */
export const handler = middy(
  sqsBatchHandler({
    what: "status check",
    schema: StatusCheckSchema,
    correlate: (check) => ({ jobId: check.jobId }),
    redelivery: adapters.redelivery,
    handle: (check) =>
      runStatusCheck(check, { ...adapters, statusChecks, restoreSteps }).then((result) =>
        result.job === "snapshot" ? recordSnapshotCheck(result) : result,
      ),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
