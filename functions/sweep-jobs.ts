import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { AppError } from "../lib/domain/errors.ts";
import type { FinalSnapshotEvent, SnapshotRequest, StatusCheck } from "../lib/domain/messages.ts";
import { ScheduleTickSchema } from "../lib/domain/messages.ts";
import type { RestoreStep } from "../lib/domain/restore.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { logger } from "../lib/observability/logger.ts";
import { recordSweep } from "../lib/observability/metrics.ts";
import { stepGraceSeconds } from "../lib/topology.ts";
import { sweepJobs } from "../lib/usecases/sweep-jobs.ts";

const settings = loadSettings();
const adapters = createAdapters(settings);
const override = settings.SIMSNAP_SWEEP_GRACE_SECONDS;
const grace = (seconds: number) => override ?? seconds;
// A request held back by a conflict retry may wait SQS's longest delay, 900 s, between attempts.
const CONFLICT_RETRY_WAIT_SECONDS = 900;

const deps = {
  ...adapters,
  statusChecks: adapters.queue<StatusCheck>("status-checks"),
  requests: adapters.queue<SnapshotRequest>("snapshot-requests"),
  restoreSteps: adapters.queue<RestoreStep>("restore-steps"),
  finalSnapshots: adapters.queue<FinalSnapshotEvent>("final-snapshots"),
  deadlines: {
    snapshot: adapters.timing,
    restoreDeadlineSeconds: adapters.restore.deadlineSeconds,
  },
  grace: {
    statusCheck: grace(stepGraceSeconds("status-checks")),
    snapshotRequest: grace(stepGraceSeconds("snapshot-requests") + CONFLICT_RETRY_WAIT_SECONDS),
    restoreStep: grace(stepGraceSeconds("restore-steps")),
    finalSnapshot: grace(stepGraceSeconds("final-snapshots")),
  },
};

/** EventBridge Scheduler target: one sweep of every open job. */
export const handler = async (event: unknown) => {
  const tick = parseInput(ScheduleTickSchema, event, "schedule tick");
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
};
