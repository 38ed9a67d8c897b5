import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { VerificationStepSchema, type VerificationStep } from "../lib/domain/verification.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordVerificationStep } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { advanceVerification } from "../lib/usecases/verification/advance-verification.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { settingsFor } from "../lib/wiring/settings.ts";
import { userCheck } from "../lib/wiring/user-check.ts";

const name = "verify-checkpoint";
const settings = settingsFor(name);
const deps = {
  ...catalog(name),
  providers: providerDirectory(name),
  steps: queue<VerificationStep>(name, "verification-steps"),
  events: eventPublisher(name),
  clock: systemClock,
  userCheck: userCheck(name),
  verification: {
    roleArn: settings.SIMSNAP_SIMULATION_ROLE_ARN,
    // A throwaway starts as a restore does: the same waits.
    firstCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_FIRST_SECONDS,
    maxCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_MAX_SECONDS,
    userCheckTimeoutSeconds: settings.SIMSNAP_VERIFICATION_CHECK?.timeoutSeconds ?? 60,
  },
};
const retry = redelivery(name);

/**
 * SQS consumer of the verification-steps queue: moves one restore test on (delayed while the
 * throwaway starts, stops or is deleted), and logs its verdict once it is in.
 */
export const handler = middy(
  sqsBatchHandler({
    what: "verification step",
    schema: VerificationStepSchema,
    correlate: (step) => ({ jobId: step.jobId }),
    redelivery: retry,
    handle: async (step) => {
      const result = recordVerificationStep(await advanceVerification(step, deps));
      if (result.verdict) {
        logger.info("Checkpoint verification ended", { jobId: step.jobId, ...result.verdict });
      }
      return result;
    },
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
