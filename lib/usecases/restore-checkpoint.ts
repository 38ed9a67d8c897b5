import { needsThaw, snapshotFileName, type ChecksumAlgorithm } from "../domain/archive.ts";
import { backoffSeconds } from "../domain/backoff.ts";
import type { Checkpoint, ErrorInfo, S3Location } from "../domain/checkpoint.ts";
import {
  ConcurrentModificationError,
  ConfigError,
  ConflictError,
  NotFoundError,
  ProviderError,
  RetryLaterError,
} from "../domain/errors.ts";
import { checkpointRestored, restoreFailed, restoreRequested } from "../domain/events.ts";
import {
  failJob,
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
  startJob,
} from "../domain/job.ts";
import {
  defaultRestoreName,
  restoredSnapshotKey,
  restoreJobId,
  RestoreRequestSchema,
  type RestoreProgress,
  type RestoreRequestInput,
  type RestoreStep,
} from "../domain/restore.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../domain/snapshot-key.ts";
import { parseInput } from "../domain/validation.ts";
import type { ArchiveStore, RestoreTier } from "../ports/archive-store.ts";
import type { CheckpointStore, JobStore } from "../ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../ports/messaging.ts";
import type { SimulationProvider, SimulationStatus } from "../ports/simulation-provider.ts";
import { copyVerified } from "./verified-copy.ts";

/** How restores run, from the function's settings. */
export interface RestoreSettings {
  /** Role the restored simulation runs with; restoring fails loudly without it. */
  roleArn?: string;
  /** Where archived files are copied back to: the bucket and prefix SimSpace Weaver reads. */
  snapshotBucket: string;
  snapshotPrefix: string;
  /**
   * The archive bucket: the only place an archive copy is read from. Unset (no archive bucket
   * configured), no archive copy is read and a checkpoint restores from its hot file alone.
   */
  archiveBucket?: string;
  checksumAlgorithm: ChecksumAlgorithm;
  /** A restore still running after this long fails (a DEEP_ARCHIVE thaw takes up to 48 h). */
  deadlineSeconds: number;
  /** First wait between checks (thaw, simulation start), doubling up to `maxCheckSeconds`. */
  firstCheckSeconds: number;
  maxCheckSeconds: number;
  /** How an archive in a cold storage class is made readable. */
  thaw: { days: number; tier: RestoreTier };
}

/** What restoring needs: the catalog, the buckets, the provider and the restore queue. */
export interface RestoreDeps {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  storage: ArchiveStore;
  provider: SimulationProvider;
  restoreSteps: MessageQueue<RestoreStep>;
  events: EventPublisher;
  clock: Clock;
  restore: RestoreSettings;
  /** A hot file is read only from here; see `ownershipRefusal`. */
  owned: SnapshotOwnership;
}

/** What a restore request led to: the job to poll and the name of the simulation it starts. */
export interface RestoreCheckpointResult {
  /** `existing` when the client token was used before: the same job, nothing started twice. */
  outcome: "started" | "existing";
  job: Job;
  simulationName: string;
}

const isoPlus = (date: Date, seconds: number): string =>
  new Date(date.getTime() + seconds * 1000).toISOString();

function requireRoleArn(settings: RestoreSettings): string {
  if (!settings.roleArn) {
    throw new ConfigError(
      "Restoring needs SIMSNAP_SIMULATION_ROLE_ARN, the IAM role restored simulations run with: it is not set",
    );
  }
  return settings.roleArn;
}

/**
 * Why a checkpoint cannot be restored, or undefined when it can: a COMPLETE one from its file
 * (or its archive), a DELETED one only from its archive.
 */
export function restoreRefusal(checkpoint: Checkpoint): string | undefined {
  switch (checkpoint.state) {
    case "PENDING":
      return `Checkpoint ${checkpoint.id} is PENDING: its snapshot is still being taken; restore it once it is COMPLETE`;
    case "FAILED":
      return `Checkpoint ${checkpoint.id} is FAILED: its snapshot was never written, so there is nothing to restore`;
    case "DELETED":
      return checkpoint.archive
        ? undefined
        : `Checkpoint ${checkpoint.id} was deleted from the snapshot bucket and was never archived: there is no copy to restore it from`;
    case "COMPLETE":
      return checkpoint.location || checkpoint.archive
        ? undefined
        : `Checkpoint ${checkpoint.id} has no snapshot file location`;
  }
}

/**
 * Restores a checkpoint into a new simulation, as a `restore` job: checks at once everything that
 * can be checked (the request, the checkpoint's state, the file or archive being there, the name
 * being free) so a caller gets a precise 4xx, then creates the job and queues its first step; the
 * slow part (thawing a cold archive, copying it back, waiting for the simulation to start) runs in
 * `advanceRestore`. The job id derives from the checkpoint and the client token, so repeating a
 * request returns the same job and starts nothing twice. Independent of HTTP: the API, the CLI
 * and the local demo call it alike.
 */
export async function restoreCheckpoint(
  input: RestoreRequestInput | unknown,
  deps: RestoreDeps,
): Promise<RestoreCheckpointResult> {
  const request = parseInput(RestoreRequestSchema, input, "restore request");
  requireRoleArn(deps.restore);
  const checkpoint = await deps.checkpoints.get(request.checkpointId);
  if (!checkpoint) throw new NotFoundError(`Checkpoint ${request.checkpointId} does not exist`);
  const target = request.simulationName ?? defaultRestoreName(checkpoint, request.clientToken);
  const jobId = restoreJobId(checkpoint.id, request.clientToken);

  const existing = await deps.jobs.get(jobId);
  if (existing) return sameRequest(existing, target, request.maximumDuration, deps);

  const refusal = restoreRefusal(checkpoint);
  if (refusal) throw new ConflictError(refusal);
  const unowned = sourceRefusal(checkpoint, deps);
  if (unowned) throw new ConflictError(unowned);
  if (checkpoint.state === "COMPLETE" && !checkpoint.archive && checkpoint.location) {
    if (!(await deps.storage.describe(checkpoint.location))) {
      throw new NotFoundError(
        `The snapshot file s3://${checkpoint.location.bucket}/${checkpoint.location.key} of checkpoint ${checkpoint.id} is missing and the checkpoint was never archived`,
      );
    }
  }
  if (await simulationExists(deps.provider, target)) {
    throw new ConflictError(
      `A simulation named ${target} already exists: choose another simulationName`,
    );
  }

  const now = deps.clock.now();
  const job = startJob(
    {
      id: jobId,
      kind: "restore",
      simulation: checkpoint.simulation,
      checkpointId: checkpoint.id,
      nextCheckAt: now.toISOString(),
      deadline: isoPlus(now, deps.restore.deadlineSeconds),
      restore: {
        target,
        clientToken: request.clientToken,
        maximumDuration: request.maximumDuration,
        description: request.description,
        phase: "locating",
      },
    },
    now,
  );
  if (!(await deps.jobs.create(job))) {
    const raced = await deps.jobs.get(jobId);
    if (raced) return sameRequest(raced, target, request.maximumDuration, deps);
  }
  await deps.restoreSteps.send({ jobId, step: 0, dueAt: job.nextCheckAt ?? job.startTime });
  await deps.events.publish([restoreRequested(job)]);
  return { outcome: "started", job, simulationName: target };
}

/**
 * A repeated request: the same job when it asks for the same restore. Its first step is sent
 * again while the job has not moved, in case the first request failed right after creating it
 * (a stale or duplicate step is dropped by `advanceRestore`).
 */
async function sameRequest(
  job: Job,
  target: string,
  maximumDuration: string | undefined,
  deps: RestoreDeps,
): Promise<RestoreCheckpointResult> {
  if (job.restore?.target !== target || job.restore.maximumDuration !== maximumDuration) {
    throw new ConflictError(
      `Client token ${job.restore?.clientToken} was already used to restore checkpoint ${job.checkpointId} into simulation ${job.restore?.target} with other parameters; use a new token for a different restore`,
    );
  }
  if (!isJobFinished(job) && job.checks === 0 && job.restore.phase === "locating") {
    await deps.restoreSteps.send({
      jobId: job.id,
      step: 0,
      dueAt: job.nextCheckAt ?? job.startTime,
    });
  }
  return { outcome: "existing", job, simulationName: target };
}

/**
 * Why no copy of the checkpoint may be read, or undefined when one may: a hot file only from the
 * locations simsnap owns, an archive copy only from its archive bucket. Copying from anywhere else
 * would let a catalog record (one an older version took from another tool's prefix) make simsnap
 * read, and copy beside its own files, data it does not own.
 */
function sourceRefusal(checkpoint: Checkpoint, deps: RestoreDeps): string | undefined {
  const hot =
    checkpoint.state === "COMPLETE" && checkpoint.location
      ? ownershipRefusal(checkpoint.location, deps.owned)
      : "no hot file";
  if (hot === undefined || (checkpoint.archive && isOwnArchive(checkpoint.archive, deps))) {
    return undefined;
  }
  const archive = checkpoint.archive
    ? `its archive copy s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} is not in the archive bucket ${deps.restore.archiveBucket ?? "(none configured)"}`
    : "it was never archived";
  return `Checkpoint ${checkpoint.id} has no copy simsnap may restore from: ${hot}; ${archive}`;
}

const isOwnArchive = (archive: S3Location, deps: RestoreDeps): boolean =>
  deps.restore.archiveBucket !== undefined && archive.bucket === deps.restore.archiveBucket;

async function simulationExists(provider: SimulationProvider, name: string): Promise<boolean> {
  try {
    await provider.describeSimulation(name);
    return true;
  } catch (error) {
    if (error instanceof ProviderError && error.code === "ResourceNotFoundException") return false;
    throw error;
  }
}

/** What one restore step did. */
export interface AdvanceRestoreResult {
  outcome: "stale" | "waiting" | "succeeded" | "failed";
  phase?: RestoreProgress["phase"];
  nextCheckAt?: string;
}

/** What a phase decided: go on at once, wait for S3 or the provider, or end the job. */
type PhaseResult =
  | { kind: "next"; changes: Partial<RestoreProgress> }
  | { kind: "wait"; changes: Partial<RestoreProgress> }
  | { kind: "done"; changes: Partial<RestoreProgress> }
  | { kind: "fail"; error: ErrorInfo };

/** The simulation is running: the restore is done. */
const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);
/** The simulation will not start any more. */
const ENDED: ReadonlySet<SimulationStatus> = new Set([
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "DELETED",
]);

/**
 * Runs a restore job as far as it can go now: locate the file (hot, else the archive), ask S3 to
 * thaw a cold archive and wait for it, copy the archive back to the snapshot bucket (verified),
 * call StartSimulation with `SnapshotS3Location`, and wait until the simulation is STARTED. Each
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

async function saved(next: Job, deps: Pick<RestoreDeps, "jobs">): Promise<boolean> {
  try {
    await deps.jobs.save(next);
    return true;
  } catch (error) {
    if (error instanceof ConcurrentModificationError) return false;
    throw error;
  }
}

async function wait(
  job: Job,
  step: RestoreStep,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<AdvanceRestoreResult> {
  const now = deps.clock.now();
  const waits = progress.waits ?? 0;
  const delay = backoffSeconds(waits, {
    baseSeconds: deps.restore.firstCheckSeconds,
    maxSeconds: deps.restore.maxCheckSeconds,
  });
  const deadline = job.deadline ? new Date(job.deadline).getTime() : Number.POSITIVE_INFINITY;
  const due = new Date(Math.min(new Date(step.dueAt).getTime() + delay * 1000, deadline));
  const nextCheckAt = due.toISOString();
  const waitSeconds = Math.min(900, Math.max(0, Math.ceil((due.getTime() - now.getTime()) / 1000)));
  await deps.restoreSteps.send(
    { jobId: job.id, step: step.step + 1, dueAt: nextCheckAt },
    { delaySeconds: waitSeconds },
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
    const done = succeedJob({ ...job, restore: restored }, now);
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
  switch (progress.phase) {
    case "locating":
      return locate(job, deps);
    case "thawing":
      return thaw(progress, deps);
    case "copying":
      return copyBack(job, progress, deps);
    case "starting":
      return start(job, progress, deps);
    case "waiting":
      return awaitStart(progress, deps);
  }
}

/** The hot file when it is still there, else the archive copy (thawed first when cold). */
async function locate(job: Job, deps: RestoreDeps): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint) {
    return {
      kind: "fail",
      error: { code: "NotFound", message: `Checkpoint ${job.checkpointId} no longer exists` },
    };
  }
  if (
    checkpoint.state === "COMPLETE" &&
    checkpoint.location &&
    !ownershipRefusal(checkpoint.location, deps.owned)
  ) {
    if (await deps.storage.describe(checkpoint.location)) {
      return {
        kind: "next",
        changes: { phase: "starting", from: "hot", snapshot: checkpoint.location },
      };
    }
  }
  if (!checkpoint.archive || !isOwnArchive(checkpoint.archive, deps)) {
    return {
      kind: "fail",
      error: {
        code: "NothingToRestore",
        message:
          sourceRefusal(checkpoint, deps) ??
          `Checkpoint ${checkpoint.id} has neither its snapshot file nor an archive copy`,
      },
    };
  }
  return {
    kind: "next",
    changes: {
      phase: "thawing",
      from: "archive",
      source: { bucket: checkpoint.archive.bucket, key: checkpoint.archive.key },
    },
  };
}

/**
 * Makes the archive copy readable: nothing to do for warm storage classes; for cold ones an S3
 * restore request (once), then waiting until S3 reports the temporary copy ready.
 */
async function thaw(progress: RestoreProgress, deps: RestoreDeps): Promise<PhaseResult> {
  const source = progress.source as S3Location;
  const archived = await deps.storage.describe(source);
  if (!archived) return archiveMissing(source);
  if (!needsThaw(archived)) return { kind: "next", changes: { phase: "copying" } };
  if (archived.restore?.ongoing) return { kind: "wait", changes: {} };
  await deps.storage.requestRestore(archived, deps.restore.thaw);
  return { kind: "wait", changes: { thawRequestedAt: deps.clock.now().toISOString() } };
}

const archiveMissing = (source: S3Location): PhaseResult => ({
  kind: "fail",
  error: {
    code: "ArchiveMissing",
    message: `The archive copy s3://${source.bucket}/${source.key} is missing`,
  },
});

/** Copies the (readable) archive back beside the snapshots, where the simulation role reads. */
async function copyBack(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  const source = progress.source as S3Location;
  const archived = await deps.storage.describe(source);
  if (!archived) return archiveMissing(source);
  if (needsThaw(archived)) return { kind: "next", changes: { phase: "thawing" } };
  const destination = {
    bucket: deps.restore.snapshotBucket,
    key: restoredSnapshotKey(
      deps.restore.snapshotPrefix,
      job.checkpointId ?? job.id,
      snapshotFileName(source),
    ),
  };
  const copy = await copyVerified(deps.storage, archived, destination, {
    storageClass: "STANDARD",
    checksumAlgorithm: deps.restore.checksumAlgorithm,
    contentType: "application/zip",
    metadata: { "simsnap-restore-job": job.id },
  });
  if (!copy.verification.match) {
    throw new RetryLaterError(
      `The copy of s3://${source.bucket}/${source.key} back to s3://${destination.bucket}/${destination.key} does not match: ${copy.verification.detail}`,
      deps.restore.firstCheckSeconds,
    );
  }
  return { kind: "next", changes: { phase: "starting", snapshot: destination } };
}

/** StartSimulation answered ConflictException: tried again this many times, with the restore's backoff. */
const START_CONFLICT_RETRIES = 3;

async function start(job: Job, progress: RestoreProgress, deps: RestoreDeps): Promise<PhaseResult> {
  try {
    const started = await deps.provider.startSimulation({
      name: progress.target,
      roleArn: requireRoleArn(deps.restore),
      snapshot: progress.snapshot,
      maximumDuration: progress.maximumDuration,
      description:
        progress.description ?? `Restored by simsnap from checkpoint ${job.checkpointId}`,
      // The job id: the same restore always sends the same token, so a repeat starts nothing new.
      clientToken: job.id,
    });
    return { kind: "wait", changes: { phase: "waiting", ...started } };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.retryable) {
      throw new RetryLaterError(`${error.code}: ${error.message}`, deps.restore.firstCheckSeconds, {
        cause: error,
      });
    }
    const attempts = (progress.waits ?? 0) + 1;
    if (error.code === "ConflictException") {
      // A conflict passes (the service is busy with an earlier call), and the job id as client
      // token makes another try safe; each try is a recorded wait, so the tries are bounded.
      if (attempts <= START_CONFLICT_RETRIES) return { kind: "wait", changes: {} };
      return {
        kind: "fail",
        error: {
          code: error.code,
          message: `${error.message} (gave up after ${attempts} attempts)`,
        },
      };
    }
    return { kind: "fail", error: { code: error.code, message: error.message } };
  }
}

async function awaitStart(progress: RestoreProgress, deps: RestoreDeps): Promise<PhaseResult> {
  try {
    const simulation = await deps.provider.describeSimulation(progress.target);
    if (RUNNING.has(simulation.status)) {
      return {
        kind: "done",
        changes: { executionId: simulation.executionId ?? progress.executionId },
      };
    }
    if (ENDED.has(simulation.status)) {
      return {
        kind: "fail",
        error: {
          code: "SimulationFailedToStart",
          message: `Simulation ${progress.target} is ${simulation.status}${
            simulation.startError ? `: ${simulation.startError}` : ""
          }`,
        },
      };
    }
    return { kind: "wait", changes: {} };
  } catch (error) {
    if (error instanceof ProviderError && error.code === "ResourceNotFoundException") {
      return {
        kind: "fail",
        error: {
          code: error.code,
          message: `Simulation ${progress.target} disappeared while starting`,
        },
      };
    }
    throw error;
  }
}
