import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../domain/errors.ts";
import { restoreRequested } from "../../domain/events.ts";
import { isJobFinished, startJob, type Job } from "../../domain/job.ts";
import {
  defaultRestoreName,
  restoreJobId,
  RestoreRequestSchema,
  type RestoreRequest,
  type RestoreRequestInput,
} from "../../domain/restore.ts";
import { targetPrefixOf } from "../../domain/object-set.ts";
import { checkPrefixRestore } from "./restore-prefix.ts";
import { parseInput } from "../../domain/validation.ts";
import type { SimulationProvider } from "../../ports/simulation-provider.ts";
import { locateSimulation } from "../catalog/locate-simulation.ts";
import { currentStatus } from "../stop/stop-job.ts";
import {
  requireRoleArn,
  sourceRefusal,
  type RestoreDeps,
  type RestoreSettings,
} from "./restore-deps.ts";

// A restore is requested here; its job runs in restore-steps (the loop), restore-copy-back
// (locate, thaw, copy back) and restore-start (start, wait). This module stays the one import
// for callers.
export type { RestoreDeps, RestoreSettings } from "./restore-deps.ts";
export { advanceRestore, failRestore, type AdvanceRestoreResult } from "./restore-steps.ts";

/** What a restore request led to: the job to poll and the name of the simulation it starts. */
export interface RestoreCheckpointResult {
  /** `existing` when the client token was used before: the same job, nothing started twice. */
  outcome: "started" | "existing";
  job: Job;
  simulationName: string;
}

const isoPlus = (date: Date, seconds: number): string =>
  new Date(date.getTime() + seconds * 1000).toISOString();

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
      if (checkpoint.archive) return undefined;
      // In the trash: the file can come back, and then restores like any COMPLETE checkpoint.
      return checkpoint.trash
        ? `Checkpoint ${checkpoint.id} is in the trash until ${checkpoint.purgeAfter ?? "its purge"} and was never archived: undelete it first (simsnap checkpoints undelete ${checkpoint.id}), then restore it`
        : `Checkpoint ${checkpoint.id} was deleted from the snapshot bucket and was never archived: there is no copy to restore it from`;
    case "COMPLETE":
      return checkpoint.location || checkpoint.archive
        ? undefined
        : `Checkpoint ${checkpoint.id} has no snapshot file location`;
  }
}

/**
 * Restores a checkpoint, as a `restore` job, through the provider it names: from its file into a
 * new simulation (SimSpace Weaver), or, for a checkpoint a platform holds, by that platform into
 * the same or a new simulation (see `checkPlatformRestore`). It checks at once everything that
 * can be checked (the request, the checkpoint's state, the file or archive being there, the name
 * being one the platform allows and free) so a caller gets a precise 4xx, then creates the job and queues its first step; the
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
  const checkpoint = await deps.checkpoints.get(request.checkpointId);
  if (!checkpoint) throw new NotFoundError(`Checkpoint ${request.checkpointId} does not exist`);
  const provider = deps.providers.byName(checkpoint.provider);
  // Nothing can start there any more: said at once, before a role or an archive is looked at.
  if (provider.turnedOff) {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} cannot be restored: ${provider.turnedOff}`,
    );
  }
  if (provider.capabilities.restoreInto.prefix) {
    return restoreIntoPrefix(checkpoint, provider, request, deps);
  }
  if (request.target !== undefined) {
    throw new ValidationError("Invalid restore request", [
      {
        path: "target",
        message: `is for checkpoints restored under a prefix; ${provider.name} restores checkpoint ${checkpoint.id} into a simulation (simulationName)`,
      },
    ]);
  }
  if (!checkpoint.platformId) requireRoleArn(deps.restore);
  const target = request.simulationName ?? defaultRestoreName(checkpoint, request.clientToken);
  const jobId = restoreJobId(checkpoint.id, request.clientToken);

  const existing = await deps.jobs.get(jobId);
  if (existing) return sameRequest(existing, target, request.maximumDuration, deps);

  const refusal = provider.simulationNameRefusal?.(target);
  if (refusal) {
    throw new ValidationError("Invalid restore request", [
      { path: "simulationName", message: refusal },
    ]);
  }
  const into = checkpoint.platformId
    ? await checkPlatformRestore(checkpoint, provider, target, request.maximumDuration)
    : await checkFileRestore(checkpoint, provider, deps);
  if (into !== "same" && (await locateSimulation(target, deps.providers))) {
    throw new ConflictError(
      `A simulation named ${target} already exists: choose another simulationName`,
    );
  }

  return openRestoreJob(checkpoint, jobId, { ...request, target, into }, deps);
}

/**
 * A restore of a set of files another tool wrote (a provider with `restoreInto.prefix`): a job
 * that copies the set from its archive under `target.prefix` (see `checkPrefixRestore` for what
 * is checked at once, and `restoreArchivedSet` for the copy), whose result carries the prefix's
 * `s3://` URI. The same client token with the same prefix is the same job; with another prefix, a
 * conflict.
 */
async function restoreIntoPrefix(
  checkpoint: Checkpoint,
  provider: SimulationProvider,
  request: RestoreRequest,
  deps: RestoreDeps,
): Promise<RestoreCheckpointResult> {
  const jobId = restoreJobId(checkpoint.id, request.clientToken);
  const existing = await deps.jobs.get(jobId);
  if (existing) {
    const asked = targetPrefixOf(request.target?.prefix ?? "");
    if (existing.restore === undefined || existing.restore.prefix !== asked) {
      throw new ConflictError(
        `Client token ${request.clientToken} was already used to restore checkpoint ${checkpoint.id} under ${existing.restore?.prefix ?? "another target"}; use a new token for a different restore`,
      );
    }
    return sameRequest(existing, existing.restore.target, undefined, deps);
  }
  const prefix = checkPrefixRestore(checkpoint, provider, request, deps);
  return openRestoreJob(
    checkpoint,
    jobId,
    {
      target: checkpoint.simulation,
      into: "prefix",
      prefix,
      clientToken: request.clientToken,
      description: request.description,
    },
    deps,
  );
}

/**
 * What starting a simulation again from one of its own platform checkpoints needs: no file, no
 * archive, no role; only the catalog, the providers, the restore queue and the restore deadline.
 */
export type RestartDeps = Pick<
  RestoreDeps,
  "checkpoints" | "jobs" | "providers" | "restoreSteps" | "events" | "clock"
> & { restore: Pick<RestoreSettings, "deadlineSeconds"> };

/**
 * Starts a stopped simulation again from one of its own checkpoints that its platform holds, as
 * a restore job into that same simulation: a cycle's restart, once the checkpoint its stop saved
 * is COMPLETE. The checkpoint is named by id, never "the most recent", and checked as any
 * restore of it is (COMPLETE, the simulation STOPPED, a provider that restores into the same
 * simulation), so a refusal is a 4xx error the caller reports. The client token makes a repeat
 * the same job, so a cycle restarts its simulation once.
 */
export async function restartFromCheckpoint(
  request: { checkpointId: string; clientToken: string; description?: string },
  deps: RestartDeps,
): Promise<RestoreCheckpointResult> {
  const checkpoint = await deps.checkpoints.get(request.checkpointId);
  if (!checkpoint) throw new NotFoundError(`Checkpoint ${request.checkpointId} does not exist`);
  const target = checkpoint.simulation;
  const jobId = restoreJobId(checkpoint.id, request.clientToken);
  const existing = await deps.jobs.get(jobId);
  if (existing) return sameRequest(existing, target, undefined, deps);
  if (!checkpoint.platformId) {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} is a snapshot file, not held by ${checkpoint.provider}: only a platform's own checkpoint starts its simulation again`,
    );
  }
  const provider = deps.providers.byName(checkpoint.provider);
  const into = await checkPlatformRestore(checkpoint, provider, target, undefined);
  return openRestoreJob(checkpoint, jobId, { ...request, target, into }, deps);
}

/**
 * Creates a checked restore's job, queues its first step and publishes `Restore Requested`; a
 * job created meanwhile under the same id (a concurrent repeat) is answered as a repeat.
 */
async function openRestoreJob(
  checkpoint: Checkpoint,
  jobId: string,
  request: {
    target: string;
    into: "file" | "same" | "new" | "prefix";
    /** With `into: "prefix"`: where the set is copied to. */
    prefix?: string;
    clientToken: string;
    maximumDuration?: string;
    description?: string;
  },
  deps: RestartDeps,
): Promise<RestoreCheckpointResult> {
  const { target, into } = request;
  const now = deps.clock.now();
  const job = startJob(
    {
      id: jobId,
      kind: "restore",
      simulation: checkpoint.simulation,
      provider: checkpoint.provider,
      checkpointId: checkpoint.id,
      nextCheckAt: now.toISOString(),
      deadline: isoPlus(now, deps.restore.deadlineSeconds),
      restore: {
        target,
        ...(into === "file" ? {} : { into }),
        ...(request.prefix === undefined ? {} : { prefix: request.prefix }),
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
  deps: Pick<RestoreDeps, "restoreSteps">,
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
 * The checks of a restore from a file (SimSpace Weaver): the checkpoint's state, the copy simsnap
 * may read, the hot file being there, and a provider that starts new simulations from files.
 */
async function checkFileRestore(
  checkpoint: Checkpoint,
  provider: SimulationProvider,
  deps: RestoreDeps,
): Promise<"file"> {
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
  if (!provider.capabilities.restoreInto.newSimulation) {
    throw new ConflictError(
      `Provider ${provider.name} cannot start a new simulation from checkpoint ${checkpoint.id}`,
    );
  }
  return "file";
}

/**
 * The checks of a restore of a checkpoint a platform holds (NVIDIA Air), which the platform does
 * itself: into the same simulation when the target is the checkpoint's own simulation (it must
 * be STOPPED), else into a new one (a clone), each only as the provider's `restoreInto` allows.
 * The platform holds the only copy, so a checkpoint not COMPLETE has nothing to restore.
 */
async function checkPlatformRestore(
  checkpoint: Checkpoint,
  provider: SimulationProvider,
  target: string,
  maximumDuration: string | undefined,
): Promise<"same" | "new"> {
  if (checkpoint.state !== "COMPLETE") {
    throw new ConflictError(
      checkpoint.state === "DELETED"
        ? `Checkpoint ${checkpoint.id} was deleted on ${provider.name}, which held its only copy: there is nothing to restore it from`
        : (restoreRefusal(checkpoint) ?? `Checkpoint ${checkpoint.id} is ${checkpoint.state}`),
    );
  }
  if (maximumDuration !== undefined) {
    throw new ValidationError("Invalid restore request", [
      {
        path: "maximumDuration",
        message: `is SimSpace Weaver's; ${provider.name} starts checkpoint ${checkpoint.id} without one`,
      },
    ]);
  }
  const into = target === checkpoint.simulation ? "same" : "new";
  const { restoreInto } = provider.capabilities;
  if (into === "new" && !restoreInto.newSimulation) {
    throw new ConflictError(
      `${provider.name} restores a checkpoint only into its own simulation: use simulationName ${checkpoint.simulation}`,
    );
  }
  if (into === "same") {
    if (!restoreInto.sameSimulation) {
      throw new ConflictError(
        `${provider.name} restores a checkpoint only into a new simulation: choose another simulationName`,
      );
    }
    const status = await currentStatus(provider, target);
    if (status !== "STOPPED") {
      throw new ConflictError(
        status === "DELETED"
          ? `Simulation ${target} no longer exists on ${provider.name}: restore into a new simulation (another simulationName)`
          : `Simulation ${target} is ${status}: it must be STOPPED to start from checkpoint ${checkpoint.id}; stop it first, or restore into a new simulation`,
      );
    }
  }
  return into;
}
