import { nextPollDue, queueDelaySeconds } from "../../domain/backoff.ts";
import type { ErrorInfo } from "../../domain/checkpoint.ts";
import { checkpointRestored, restoreFailed } from "../../domain/events.ts";
import {
  failJob,
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
} from "../../domain/job.ts";
import type { RestoreProgress, RestoreStep } from "../../domain/restore.ts";
import { saveIfCurrent } from "../jobs/save-if-current.ts";
import { copyBack, locate, locateOnPlatform, thaw } from "./restore-copy-back.ts";
import type { PhaseResult, RestoreDeps } from "./restore-deps.ts";
import { locateArchivedSet, restoreArchivedSet } from "./restore-prefix.ts";
import { awaitStart, startFromPlatform, startSimulation } from "./restore-start.ts";

/** What one restore step did. */
export interface AdvanceRestoreResult {
  outcome: "stale" | "waiting" | "succeeded" | "failed";
  phase?: RestoreProgress["phase"];
  nextCheckAt?: string;
}

/**
 * Runs a restore job as far as it can go now: locate the file (hot, else the archive), ask S3 to
 * thaw a cold archive and wait for it, copy the archive back to the snapshot bucket (verified),
 * call StartSimulation with `SnapshotS3Location`, and wait until the simulation is STARTED. A
 * checkpoint a platform holds is located on the platform and started by it (same simulation or a
 * clone), then waited for the same way. Each
 * phase is saved as it ends, so a crash resumes where it stopped; the step runs only when `dueAt`
 * is the job's current `nextCheckAt`, so duplicates and stale steps do nothing; StartSimulation
 * carries the job id as its client token, so even a repeated call starts one simulation. Waiting
 * is a delayed step on the restore queue, with exponential backoff up to the job's deadline.
 */
export async function advanceRestore(
  step: RestoreStep,
  deps: RestoreDeps,
): Promise<AdvanceRestoreResult> {
  let job = await deps.jobs.get(step.jobId);
  if (!job?.restore || isJobFinished(job) || job.nextCheckAt !== step.dueAt) {
    return { outcome: "stale" };
  }
  const now = deps.clock.now();
  if (job.deadline && now >= new Date(job.deadline)) {
    return finish(job, { kind: "fail", error: deadlineError(job) }, deps);
  }
  for (;;) {
    const progress: RestoreProgress = job.restore as RestoreProgress;
    const result = await runPhase(job, progress, deps);
    if (result.kind === "next") {
      const next = updateRunningJob(job, {
        restore: { ...progress, ...result.changes, waits: 0 },
      });
      if (!(await saved(next, deps))) return { outcome: "stale" };
      job = next;
      continue;
    }
    if (result.kind === "wait") return wait(job, step, { ...progress, ...result.changes }, deps);
    return finish(job, result, deps);
  }
}

function deadlineError(job: Job): ErrorInfo {
  return {
    code: "DeadlineExceeded",
    message: `The restore did not finish by its deadline ${job.deadline} (it was ${job.restore?.phase})`,
  };
}

const saved = (next: Job, deps: Pick<RestoreDeps, "jobs">): Promise<boolean> =>
  saveIfCurrent(deps.jobs, next);

async function wait(
  job: Job,
  step: RestoreStep,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<AdvanceRestoreResult> {
  const now = deps.clock.now();
  const waits = progress.waits ?? 0;
  const deadline = job.deadline ? Date.parse(job.deadline) : undefined;
  const due = nextPollDue(step.dueAt, waits, deps.restore, deadline);
  const nextCheckAt = due.toISOString();
  await deps.restoreSteps.send(
    { jobId: job.id, step: step.step + 1, dueAt: nextCheckAt },
    { delaySeconds: queueDelaySeconds(due, now) },
  );
  const next = updateRunningJob(job, {
    restore: { ...progress, waits: waits + 1 },
    nextCheckAt,
    checks: step.step + 1,
  });
  if (!(await saved(next, deps))) return { outcome: "stale" };
  return { outcome: "waiting", phase: progress.phase, nextCheckAt };
}

async function finish(
  job: Job,
  result: Extract<PhaseResult, { kind: "done" | "fail" }>,
  deps: RestoreDeps,
): Promise<AdvanceRestoreResult> {
  const now = deps.clock.now();
  const progress = job.restore as RestoreProgress;
  if (result.kind === "done") {
    const restored = { ...progress, ...result.changes };
    const done = succeedJob({ ...job, restore: restored }, now, result.stats);
    if (!(await saved(done, deps))) return { outcome: "stale" };
    await deps.events.publish([checkpointRestored(done)]);
    return { outcome: "succeeded", phase: restored.phase };
  }
  if (!(await failRestore(job, result.error, deps))) return { outcome: "stale" };
  return { outcome: "failed", phase: progress.phase };
}

/**
 * Ends a restore job as failed and publishes `Restore Failed`; the one failure path of restores,
 * for their own steps and for the sweeper alike. Returns false when the conditional write lost
 * (someone else moved the job on), in which case nothing is published.
 */
export async function failRestore(
  job: Job,
  error: ErrorInfo,
  deps: Pick<RestoreDeps, "jobs" | "events" | "clock">,
): Promise<boolean> {
  const failed = failJob(job, error, deps.clock.now());
  if (!(await saved(failed, deps))) return false;
  await deps.events.publish([restoreFailed(failed)]);
  return true;
}

async function runPhase(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  if (progress.into === "prefix") {
    // A set of files: its archive is copied under a prefix; no simulation is started.
    return progress.phase === "locating"
      ? locateArchivedSet(job, deps)
      : restoreArchivedSet(job, progress, deps);
  }
  // `into` marks a checkpoint a platform holds: no file to locate or copy, the platform starts it.
  const held = progress.into !== undefined;
  switch (progress.phase) {
    case "locating":
      return held ? locateOnPlatform(job, deps) : locate(job, deps);
    case "thawing":
      return thaw(progress, deps);
    case "copying":
      return copyBack(job, progress, deps);
    case "starting":
      return held ? startFromPlatform(job, progress, deps) : startSimulation(job, progress, deps);
    case "waiting":
      return awaitStart(job, progress, deps);
  }
}
