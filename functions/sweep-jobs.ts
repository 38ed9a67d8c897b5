import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { AppError } from "../lib/domain/errors.ts";
import type { FinalSnapshotEvent, SnapshotRequest, StatusCheck } from "../lib/domain/messages.ts";
import { ScheduleTickSchema, type ScheduleTick } from "../lib/domain/messages.ts";
import type { RestoreStep } from "../lib/domain/restore.ts";
import type { VerificationStep } from "../lib/domain/verification.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordSweep } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { stepGraceSeconds } from "../lib/topology.ts";
import { sweepJobs } from "../lib/usecases/jobs/sweep-jobs.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { queue } from "../lib/wiring/queues.ts";
import { settingsFor, snapshotTiming } from "../lib/wiring/settings.ts";

const name = "sweep-jobs";
const settings = settingsFor(name);
const override = settings.SIMSNAP_SWEEP_GRACE_SECONDS;
const grace = (seconds: number) => override ?? seconds;
// A request held back by a conflict retry may wait SQS's longest delay, 900 s, between attempts.
const CONFLICT_RETRY_WAIT_SECONDS = 900;

const deps = {
  ...catalog(name),
  events: eventPublisher(name),
  clock: systemClock,
  statusChecks: queue<StatusCheck>(name, "status-checks"),
  requests: queue<SnapshotRequest>(name, "snapshot-requests"),
  restoreSteps: queue<RestoreStep>(name, "restore-steps"),
  finalSnapshots: queue<FinalSnapshotEvent>(name, "final-snapshots"),
  verificationSteps: queue<VerificationStep>(name, "verification-steps"),
  deadlines: {
    snapshot: snapshotTiming(settings),
    restoreDeadlineSeconds: settings.SIMSNAP_RESTORE_DEADLINE_SECONDS,
  },
  grace: {
    statusCheck: grace(stepGraceSeconds("status-checks")),
    snapshotRequest: grace(stepGraceSeconds("snapshot-requests") + CONFLICT_RETRY_WAIT_SECONDS),
    restoreStep: grace(stepGraceSeconds("restore-steps")),
    finalSnapshot: grace(stepGraceSeconds("final-snapshots")),
    verificationStep: grace(stepGraceSeconds("verification-steps")),
  },
};

/** EventBridge Scheduler target: one sweep of every open job. */
export const handler = middy(async (tick: ScheduleTick) => {
  const result = await sweepJobs(deps).then(recordSweep);
  for (const swept of result.swept) {
    logger.info("Job swept", { schedule: tick.schedule, ...swept });
  }
  for (const failure of result.errors) {
    logger.error("Job not swept", { schedule: tick.schedule, ...failure });
  }
  logger.info("Jobs swept", {
    schedule: tick.schedule,
    examined: result.examined,
    swept: result.swept.length,
    errors: result.errors.length,
  });
  if (result.errors.length > 0) {
    // Failing the invocation sets off the function's error alarm; the next sweep tries again.
    throw new AppError(
      `${result.errors.length} of ${result.examined} open jobs could not be swept: ${result.errors
        .map((e) => `${e.jobId} (${e.message})`)
        .join("; ")}`,
    );
  }
  return { examined: result.examined, swept: result.swept.length };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
