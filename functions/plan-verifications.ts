import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import {
  VerificationTickSchema,
  type VerificationStep,
  type VerificationTick,
} from "../lib/domain/verification.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { retryTransient, SCHEDULED_RETRY } from "../lib/handlers/retry-transient.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { planVerifications } from "../lib/usecases/verification/plan-verifications.ts";
import { catalog, slotStore } from "../lib/wiring/catalog.ts";
import { providerCapabilities } from "../lib/wiring/capabilities.ts";
import { queue } from "../lib/wiring/queues.ts";

const name = "plan-verifications";
const deps = {
  ...catalog(name),
  // Whether a checkpoint's platform can host a restore test: capabilities alone, no client.
  providers: providerCapabilities(name),
  steps: queue<VerificationStep>(name, "verification-steps"),
  clock: systemClock,
  slots: slotStore(name),
};

/** EventBridge Scheduler target: one run of the restore tests (config `verification`). */
export const handler = middy(async (tick: VerificationTick) => {
  const result = await retryTransient(() => planVerifications(tick, deps), {
    what: "verification tick",
    ...SCHEDULED_RETRY,
  });
  logger.info("Verifications planned", {
    schedule: tick.schedule,
    open: result.open,
    planned: result.planned,
    // Simulations on a platform that cannot host a restore test, with the reason.
    skipped: result.skipped,
  });
  return result;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(VerificationTickSchema, "verification tick"));
