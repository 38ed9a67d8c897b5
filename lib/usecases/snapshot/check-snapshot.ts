import { nextPollDue, queueDelaySeconds } from "../../domain/backoff.ts";
import { ConcurrentModificationError, ProviderError } from "../../domain/errors.ts";
import { isJobFinished, updateRunningJob, type Job } from "../../domain/job.ts";
import type { StatusCheck } from "../../domain/messages.ts";
import {
  bindSnapshotFile,
  SNAPSHOT_STAMP_SKEW_MS,
  snapshotWindow,
} from "../../domain/snapshot-binding.ts";
import {
  parseOwnedSnapshot,
  snapshotFolder,
  type SnapshotOwnership,
} from "../../domain/snapshot-key.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import type { ObjectStore } from "../../ports/object-store.ts";
import {
  ENDED_STATUSES,
  type SimulationProvider,
  type SimulationStatus,
} from "../../ports/simulation-provider.ts";
import {
  completeFromClaims,
  completeSnapshotJob,
  failSnapshotJob,
  snapshotJobsAround,
  type SnapshotCompletionPorts,
} from "./snapshot-job.ts";
import type { SnapshotTiming } from "./take-snapshot.ts";

/** What the status check needs. */
export interface CheckSnapshotDeps extends SnapshotCompletionPorts {
  provider: SimulationProvider;
  objects: ObjectStore;
  statusChecks: MessageQueue<StatusCheck>;
  timing: Pick<
    SnapshotTiming,
    | "firstCheckSeconds"
    | "maxCheckSeconds"
    | "deadlineSeconds"
    | "conflictRetrySeconds"
    | "conflictMaxAttempts"
  >;
  /** A listed file outside it is never bound to a job. */
  owned: SnapshotOwnership;
}

/** What one check did. */
export interface CheckSnapshotResult {
  outcome: "completed" | "rescheduled" | "failed" | "stale";
  nextCheckAt?: string;
  /** When the completed job started, so its age at completion can be measured. */
  startedAt?: string;
}

/**
 * The delayed status check that completes a job whose S3 event was missed. It runs only when the
 * message's `dueAt` is the job's current `nextCheckAt`, so duplicates and stale checks do nothing.
 * While the provider still reports SNAPSHOT_IN_PROGRESS (or the file is not there yet) it
 * schedules the next check with exponential backoff; past the deadline the job fails. A job about
 * to fail whose checkpoint already claimed a file (a completion died between the claim and the
 * checkpoint's write) is completed with that file instead, once HEAD confirms it again. The next
 * due time derives from this message alone, so two deliveries schedule the same next check.
 */
export async function checkSnapshot(
  check: StatusCheck,
  deps: CheckSnapshotDeps,
): Promise<CheckSnapshotResult> {
  const job = await deps.jobs.get(check.jobId);
  if (!job || isJobFinished(job) || job.nextCheckAt !== check.dueAt) return { outcome: "stale" };

  const verdict = await inspect(job, deps);
  if (verdict.kind === "completed") return { outcome: "completed", startedAt: job.startTime };
  const now = deps.clock.now();
  const deadline = job.deadline ? new Date(job.deadline) : now;
  if ((verdict.kind === "ended" || now >= deadline) && (await completeFromClaims(job, deps))) {
    return { outcome: "completed", startedAt: job.startTime };
  }
  if (verdict.kind === "ended") {
    await failSnapshotJob(job, { code: "SimulationEnded", message: verdict.message }, deps);
    return { outcome: "failed" };
  }

  if (now >= deadline) {
    await failSnapshotJob(
      job,
      {
        code: "DeadlineExceeded",
        message: `No snapshot file appeared by the deadline ${job.deadline} (${verdict.message})`,
      },
      deps,
    );
    return { outcome: "failed" };
  }

  const nextDue = nextPollDue(check.dueAt, check.check + 1, deps.timing, deadline.getTime());
  const nextCheckAt = nextDue.toISOString();
  await deps.statusChecks.send(
    { jobId: job.id, check: check.check + 1, dueAt: nextCheckAt },
    { delaySeconds: queueDelaySeconds(nextDue, now) },
  );
  try {
    await deps.jobs.save(updateRunningJob(job, { nextCheckAt, checks: check.check + 1 }));
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
  }
  return { outcome: "rescheduled", nextCheckAt };
}

type Verdict =
  { kind: "completed" } | { kind: "ended"; message: string } | { kind: "waiting"; message: string };

async function inspect(job: Job, deps: CheckSnapshotDeps): Promise<Verdict> {
  let status: SimulationStatus;
  try {
    status = (await deps.provider.describeSimulation(job.simulation)).status;
  } catch (error) {
    if (error instanceof ProviderError && error.code === "ResourceNotFoundException") {
      return { kind: "ended", message: `Simulation ${job.simulation} no longer exists` };
    }
    throw error;
  }
  if (status === "SNAPSHOT_IN_PROGRESS")
    return { kind: "waiting", message: "snapshot still in progress" };
  if (await completeFromListing(job, deps)) return { kind: "completed" };
  if (ENDED_STATUSES.has(status)) {
    return {
      kind: "ended",
      message: `Simulation ${job.simulation} is ${status}; its snapshot cannot complete`,
    };
  }
  return { kind: "waiting", message: `simulation is ${status} and the snapshot file is not in S3` };
}

/**
 * Looks for the job's file in S3 and completes the job with it. A listed file counts only when
 * the one binding rule gives it to this very job, judged against every snapshot job of the
 * simulation whose window could hold a stamp of this job's window, the ended ones included (a
 * file another job's window also holds is ambiguous and stays unbound).
 */
async function completeFromListing(job: Job, deps: CheckSnapshotDeps): Promise<boolean> {
  const window = snapshotWindow(job, SNAPSHOT_STAMP_SKEW_MS);
  // Without a window no file can be this job's.
  if (!job.destination || !window) return false;
  const folder = snapshotFolder(job.destination.prefix);
  const jobs = await snapshotJobsAround(job.simulation, window, deps);
  const now = deps.clock.now();
  for await (const file of deps.objects.list(
    job.destination.bucket,
    `${folder}${job.simulation}-`,
  )) {
    const parsed = parseOwnedSnapshot(file, deps.owned);
    if (!parsed || parsed.simulation !== job.simulation) continue;
    const binding = bindSnapshotFile({ bucket: file.bucket, ...parsed }, jobs, now);
    if (binding.kind !== "bind" || binding.job.id !== job.id) continue;
    if ((await completeSnapshotJob(job, file, deps)) === "completed") return true;
  }
  return false;
}
