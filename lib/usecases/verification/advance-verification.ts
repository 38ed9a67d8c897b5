import { nextPollDue, queueDelaySeconds } from "../../domain/backoff.ts";
import type { Checkpoint, CheckpointVerification, ErrorInfo } from "../../domain/checkpoint.ts";
import { ProviderError, RetryLaterError } from "../../domain/errors.ts";
import { checkpointVerification } from "../../domain/events.ts";
import {
  failJob,
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
} from "../../domain/job.ts";
import {
  abandonedVerdict,
  cleanupDeadline,
  judgeResume,
  THROWAWAY_TAG,
  type Verdict,
  type VerificationProgress,
  type VerificationStep,
} from "../../domain/verification.ts";
import {
  ENDED_STATUSES,
  RUNNING_STATUSES,
  type SimulationDetails,
  type SimulationProvider,
  type SimulationStatus,
} from "../../ports/simulation-provider.ts";
import { saveIfCurrent } from "../jobs/save-if-current.ts";
import type { VerificationDeps, VerificationRecordDeps } from "./verification-deps.ts";

/** What one verification step did. */
export interface AdvanceVerificationResult {
  /** `abandoned`: the checkpoint was deleted during the test; nothing recorded (no alarm). */
  outcome: "stale" | "waiting" | "passed" | "failed" | "abandoned";
  phase?: VerificationProgress["phase"];
  verdict?: Verdict;
}

/** What a phase decided: go on at once, wait for the platform, or end the job. */
type PhaseResult =
  | { kind: "next"; changes: Partial<VerificationProgress> }
  | { kind: "wait"; changes: Partial<VerificationProgress> }
  | { kind: "done"; changes: Partial<VerificationProgress> };

/** A stop is asked of these; the others are stopped already, or on their way. */
const STOPPABLE: ReadonlySet<SimulationStatus> = new Set(["STARTING", ...RUNNING_STATUSES]);
/** A simulation just started may not be listed yet: not found this many times is still waiting. */
const NOT_FOUND_WAITS = 2;
/** A throwaway that vanished before it ever ran is started again this many times at most. */
const MAX_RESTARTS = 1;

const isNotFound = (error: unknown): boolean =>
  error instanceof ProviderError && error.code === "ResourceNotFoundException";

/** The throwaway's description, or undefined once it no longer exists. */
async function describe(
  provider: SimulationProvider,
  name: string,
): Promise<SimulationDetails | undefined> {
  try {
    return await provider.describeSimulation(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Runs a verification job as far as it can go now: start the throwaway simulation from the
 * checkpoint (`starting`), wait until it runs (`waiting`), judge what it resumed from and run the
 * user check (`checking`, which decides the verdict), then stop it (`stopping`) and delete it
 * (`deleting`), and only then record the verdict on the checkpoint and end the job. Every exit
 * after a start was claimed goes through the cleanup, a failed verdict included. Each phase is
 * saved as it ends, so a crash resumes where it stopped; the step runs only when `dueAt` is the
 * job's current `nextCheckAt`, so duplicates and stale steps do nothing; the start carries the
 * job id as its client token, so a repeated call starts one simulation.
 */
export async function advanceVerification(
  step: VerificationStep,
  deps: VerificationDeps,
): Promise<AdvanceVerificationResult> {
  let job = await deps.jobs.get(step.jobId);
  if (!job?.verify || isJobFinished(job) || job.nextCheckAt !== step.dueAt) {
    return { outcome: "stale" };
  }
  if (job.deadline && deps.clock.now() >= new Date(job.deadline) && !job.verify.verdict) {
    // The sweeper would find it so: the verdict is FAILED, and the cleanup still runs.
    const decided = await decide(job, failedVerdict(deadlinePassed(job), deps), deps);
    if (!decided) return { outcome: "stale" };
    job = decided;
  }
  for (;;) {
    const progress = job.verify as VerificationProgress;
    const result = await runPhase(job, progress, deps);
    if (result.kind === "next") {
      // A verdict just reached moves the deadline on: time to clean up, whatever it was.
      const decided = !progress.verdict && result.changes.verdict !== undefined;
      const next = await saved(
        updateRunningJob(job, {
          verify: { ...progress, ...result.changes, waits: 0 },
          ...(decided ? { deadline: cleanupDeadline(deps.clock.now()) } : {}),
        }),
        deps,
      );
      if (!next) return { outcome: "stale" };
      job = next;
      continue;
    }
    if (result.kind === "wait") {
      return wait(job, step, { ...progress, ...result.changes }, deps);
    }
    const ended = await finishVerification(
      { ...job, verify: { ...progress, ...result.changes } },
      undefined,
      deps,
    );
    const verdict = ended?.verify?.verdict;
    if (!ended || !verdict) return { outcome: "stale" };
    if (ended.verify?.abandoned) return { outcome: "abandoned", verdict };
    return { outcome: verdict.status === "PASSED" ? "passed" : "failed", verdict };
  }
}

const deadlinePassed = (job: Job): string =>
  `no verdict by the deadline ${job.deadline} (the throwaway's MaximumDuration ${job.verify?.maximumDuration}); it was ${job.verify?.phase}`;

const failedVerdict = (detail: string, deps: Pick<VerificationDeps, "clock">): Verdict => ({
  status: "FAILED",
  detail,
  at: deps.clock.now().toISOString(),
});

/** Saves a verdict and moves the job to its cleanup, with the cleanup's deadline. */
async function decide(job: Job, verdict: Verdict, deps: VerificationRecordDeps) {
  const progress = job.verify as VerificationProgress;
  return saved(
    updateRunningJob(job, {
      verify: { ...progress, verdict, phase: progress.startClaimedAt ? "stopping" : "deleting" },
      deadline: cleanupDeadline(deps.clock.now()),
    }),
    deps,
  );
}

/** The job as saved, or undefined when someone moved it on first (the step is stale). */
async function saved(next: Job, deps: Pick<VerificationDeps, "jobs">): Promise<Job | undefined> {
  return (await saveIfCurrent(deps.jobs, next)) ? next : undefined;
}

async function wait(
  job: Job,
  step: VerificationStep,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<AdvanceVerificationResult> {
  const now = deps.clock.now();
  const waits = progress.waits ?? 0;
  // Waits end at the deadline, for the step to act on it; past it (a cleanup running late, which
  // the sweeper ends), they back off as usual instead of coming back at once.
  const deadline =
    job.deadline && Date.parse(job.deadline) > now.getTime() ? Date.parse(job.deadline) : undefined;
  const due = nextPollDue(step.dueAt, waits, deps.verification, deadline);
  const nextCheckAt = due.toISOString();
  const next = await saved(
    updateRunningJob(job, {
      verify: { ...progress, waits: waits + 1 },
      nextCheckAt,
      checks: step.step + 1,
    }),
    deps,
  );
  if (!next) return { outcome: "stale" };
  await deps.steps.send(
    { jobId: job.id, step: step.step + 1, dueAt: nextCheckAt },
    { delaySeconds: queueDelaySeconds(due, now) },
  );
  return { outcome: "waiting", phase: progress.phase };
}

async function runPhase(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  switch (progress.phase) {
    case "starting":
      return start(job, progress, deps);
    case "waiting":
      return awaitRunning(job, progress, deps);
    case "checking":
      return check(job, progress, deps);
    case "stopping":
      return stop(job, progress, deps);
    case "deleting":
      return remove(job, progress, deps);
  }
}

const verdictNow = (
  status: Verdict["status"],
  detail: string,
  deps: Pick<VerificationDeps, "clock">,
): Verdict => ({ status, detail, at: deps.clock.now().toISOString() });

/** A verdict reached before anything was started: nothing to clean up. */
const failBeforeStart = (detail: string, deps: VerificationDeps): PhaseResult => ({
  kind: "done",
  changes: { verdict: verdictNow("FAILED", detail, deps) },
});

/** A verdict reached after a start was claimed: the cleanup runs next. */
const failAndCleanUp = (
  detail: string,
  deps: VerificationDeps,
  extra: Partial<VerificationProgress> = {},
): PhaseResult => ({
  kind: "next",
  changes: { ...extra, verdict: verdictNow("FAILED", detail, deps), phase: "stopping" },
});

/**
 * The `starting` phase. The name must be free before simsnap claims it (it never starts, stops
 * or deletes a simulation it did not create); the claim is saved before the start call, so
 * after a crash the call is made again with the same client token instead of being guessed.
 */
async function start(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint || checkpoint.state !== "COMPLETE") {
    const why = checkpoint ? `is ${checkpoint.state}` : "no longer exists";
    return progress.startClaimedAt
      ? failAndCleanUp(`checkpoint ${job.checkpointId} ${why}`, deps)
      : failBeforeStart(`checkpoint ${job.checkpointId} ${why}: nothing was restored`, deps);
  }
  const provider = deps.providers.byName(checkpoint.provider);
  if (!provider.capabilities.restoreTest || !provider.capabilities.restoreInto.newSimulation) {
    return failBeforeStart(
      `${provider.name} cannot host a restore test (a new simulation simsnap may delete afterwards)`,
      deps,
    );
  }
  if (!progress.startClaimedAt) {
    if (await describe(provider, progress.target)) {
      return failBeforeStart(
        `a simulation named ${progress.target} already exists and simsnap did not start it: left alone, nothing was restored`,
        deps,
      );
    }
    return { kind: "next", changes: { startClaimedAt: deps.clock.now().toISOString() } };
  }
  // A start repeated after a crash: the name was free when claimed, so a simulation under it now
  // is the earlier call's. A platform without client tokens (NVIDIA Air's clone) would refuse
  // the name as taken and fail a checkpoint that restored fine.
  if (await describe(provider, progress.target)) {
    return { kind: "wait", changes: { phase: "waiting" } };
  }
  try {
    await startThrowaway(checkpoint, progress, provider, job, deps);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.retryable) {
      throw new RetryLaterError(
        `${error.code}: ${error.message}`,
        deps.verification.firstCheckSeconds,
        { cause: error },
      );
    }
    // The platform is busy (with an earlier call of ours, or its own work): that says nothing
    // about the checkpoint, so it waits; the verdict deadline bounds the waiting.
    if (error.code === "ConflictException") return { kind: "wait", changes: {} };
    return failAndCleanUp(`the restore was refused: ${error.code}: ${error.message}`, deps);
  }
  return { kind: "wait", changes: { phase: "waiting" } };
}

/**
 * Starts the throwaway: from the checkpoint's file (StartSimulation with the snapshot, the job id
 * as client token, the job's tag, the MaximumDuration of the cost guard), or, for a checkpoint a
 * platform holds, by the platform into a new simulation of that name.
 */
async function startThrowaway(
  checkpoint: Checkpoint,
  progress: VerificationProgress,
  provider: SimulationProvider,
  job: Job,
  deps: VerificationDeps,
): Promise<void> {
  const held = provider.checkpoints;
  if (checkpoint.platformId && held) {
    await held.restore(checkpoint.platformId, {
      simulation: checkpoint.simulation,
      into: "new",
      name: progress.target,
    });
    return;
  }
  if (!deps.verification.roleArn) {
    throw new ProviderError(
      "MissingRole",
      "restore tests need SIMSNAP_SIMULATION_ROLE_ARN, the role throwaway simulations run with",
      { status: 400 },
    );
  }
  await provider.startSimulation({
    name: progress.target,
    roleArn: deps.verification.roleArn,
    snapshot: progress.snapshot ?? checkpoint.location,
    maximumDuration: progress.maximumDuration,
    description: `simsnap restore test of checkpoint ${checkpoint.id} (${checkpoint.simulation}); deleted when the test ends`,
    clientToken: job.id,
    tags: provider.capabilities.tags ? { [THROWAWAY_TAG]: job.id } : undefined,
  });
}

/**
 * A throwaway that no longer exists before its check: the platform lost it (locally, a stack
 * killed with its simulator; in AWS, someone deleted it), which says nothing about the
 * checkpoint. It is started again (same claim, same client token), once; a second loss is a
 * FAILED verdict. The verdict deadline still bounds the test.
 */
function vanished(
  progress: VerificationProgress,
  when: string,
  deps: VerificationDeps,
): PhaseResult {
  const restarts = progress.restarts ?? 0;
  if (restarts < MAX_RESTARTS) {
    return { kind: "next", changes: { phase: "starting", restarts: restarts + 1 } };
  }
  return failAndCleanUp(
    `throwaway simulation ${progress.target} disappeared ${when} (started ${restarts + 1} times)`,
    deps,
  );
}

/** The `waiting` phase: on to the check once the throwaway runs; a failed start is the verdict. */
async function awaitRunning(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  const provider = deps.providers.byName(job.provider ?? "");
  const details = await describe(provider, progress.target);
  if (!details) {
    if ((progress.waits ?? 0) < NOT_FOUND_WAITS) return { kind: "wait", changes: {} };
    return vanished(progress, "while starting", deps);
  }
  if (RUNNING_STATUSES.has(details.status)) {
    return {
      kind: "next",
      changes: { phase: "checking", startedAt: deps.clock.now().toISOString() },
    };
  }
  if (ENDED_STATUSES.has(details.status)) {
    return failAndCleanUp(
      `the throwaway simulation did not start: it is ${details.status}${
        details.startError ? ` (${details.startError})` : ""
      }`,
      deps,
    );
  }
  return { kind: "wait", changes: {} };
}

/**
 * The `checking` phase, which decides the verdict: what the platform says the throwaway resumed
 * from (as much as its `restoreTest.evidence` allows, never more), then the user check.
 */
async function check(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  const provider = deps.providers.byName(job.provider ?? "");
  const details = await describe(provider, progress.target);
  if (!details) return vanished(progress, "before it could be checked", deps);
  if (!RUNNING_STATUSES.has(details.status)) {
    return failAndCleanUp(
      `the throwaway simulation stopped running before it could be checked (${details.status})`,
      deps,
    );
  }
  const evidence = provider.capabilities.restoreTest?.evidence ?? "started";
  const resumed = judgeResume(evidence, progress.snapshot, { startedFrom: details.startedFrom });
  if (!resumed.ok) return failAndCleanUp(resumed.detail, deps, { evidence });
  let verdict = verdictNow("PASSED", resumed.detail, deps);
  if (deps.userCheck) {
    const result = await deps.userCheck.run(
      {
        jobId: job.id,
        checkpointId: job.checkpointId ?? "",
        simulation: job.simulation,
        provider: provider.name,
        throwaway: progress.target,
        snapshot: progress.snapshot,
      },
      deps.verification.userCheckTimeoutSeconds * 1000,
    );
    verdict = verdictNow(
      result.status,
      `${resumed.detail}; user check (${deps.userCheck.description}) ${result.status}: ${result.detail}`,
      deps,
    );
  }
  return { kind: "next", changes: { verdict, evidence, phase: "stopping" } };
}

/**
 * True when the throwaway is simsnap's to stop and delete: its start was claimed by this job
 * (after the name was seen free), and, where simulations carry tags, it carries this job's tag
 * (read once; `ownershipConfirmed` records it, so a faulty platform costs fewer calls per step).
 */
async function ownsThrowaway(
  job: Job,
  progress: VerificationProgress,
  provider: SimulationProvider,
  details: SimulationDetails,
): Promise<boolean> {
  if (!progress.startClaimedAt) return false;
  // Tags do not change under simsnap: once seen, they are not read again at every step.
  if (progress.ownershipConfirmed || !provider.capabilities.tags || !details.arn) return true;
  const tags = await provider.listTags(details.arn);
  return tags[THROWAWAY_TAG] === job.id;
}

/**
 * The throwaway a cleanup phase works on, with its provider; undefined when there is nothing to
 * clean up (no start was claimed, or the simulation is gone).
 */
async function throwaway(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<{ provider: SimulationProvider; details: SimulationDetails } | undefined> {
  if (!progress.startClaimedAt) return undefined;
  const provider = deps.providers.byName(job.provider ?? "");
  const details = await describe(provider, progress.target);
  return details && { provider, details };
}

/**
 * Asks the platform to stop or delete the throwaway: "gone" when it no longer exists. A refusal
 * because the simulation is between states counts as asked: the next step asks again.
 */
async function ask(call: () => Promise<void>): Promise<"asked" | "gone"> {
  try {
    await call();
  } catch (error) {
    if (isNotFound(error)) return "gone";
    const notNow =
      error instanceof ProviderError &&
      (error.code === "ValidationException" || error.code === "ConflictException");
    if (!notNow) throw error;
  }
  return "asked";
}

/** The `stopping` phase: the throwaway is stopped, unless it is gone or not simsnap's. */
async function stop(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  const found = await throwaway(job, progress, deps);
  if (!found) return { kind: "done", changes: {} };
  const { provider, details } = found;
  if (!(await ownsThrowaway(job, progress, provider, details))) return leftAlone(progress);
  const owned = { ownershipConfirmed: true };
  if (!STOPPABLE.has(details.status)) {
    return details.status === "STOPPING"
      ? { kind: "wait", changes: owned }
      : { kind: "next", changes: { ...owned, phase: "deleting" } };
  }
  const asked = await ask(() => provider.stopSimulation(progress.target));
  return { kind: asked === "gone" ? "done" : "wait", changes: owned };
}

/** The end of a cleanup that found someone else's simulation under the name: it is left alone. */
const leftAlone = (progress: VerificationProgress): PhaseResult => ({
  kind: "done",
  changes: {
    cleanupNote: `simulation ${progress.target} does not carry this job's tag: simsnap did not start it and left it alone`,
  },
});

/** The `deleting` phase: the stopped throwaway is deleted; the job ends once it is gone. */
async function remove(
  job: Job,
  progress: VerificationProgress,
  deps: VerificationDeps,
): Promise<PhaseResult> {
  const found = await throwaway(job, progress, deps);
  if (!found || found.details.status === "DELETED") return { kind: "done", changes: {} };
  const { provider, details } = found;
  if (details.status === "DELETING") return { kind: "wait", changes: {} };
  if (STOPPABLE.has(details.status)) return { kind: "next", changes: { phase: "stopping" } };
  if (!(await ownsThrowaway(job, progress, provider, details))) return leftAlone(progress);
  const asked = await ask(() => provider.deleteSimulation(progress.target));
  return asked === "gone"
    ? { kind: "done", changes: {} }
    : { kind: "wait", changes: { ownershipConfirmed: true } };
}

/** The verdict as the checkpoint records it: how long the test took, to its verdict. */
const recorded = (job: Job, verdict: Verdict, note?: string): CheckpointVerification => ({
  status: verdict.status,
  at: verdict.at,
  durationMs: Math.max(0, Date.parse(verdict.at) - Date.parse(job.startTime)),
  detail: (note ? `${verdict.detail}; ${note}` : verdict.detail).slice(0, 2000),
  jobId: job.id,
});

/**
 * Ends a verification job: records its verdict on the checkpoint (unless that record already
 * has it, or a later test's), publishes `Checkpoint Verified` or `Checkpoint Verification
 * Failed`, and ends the job (SUCCEEDED when PASSED). `cleanupError` is set by the sweeper when
 * the cleanup outlived its deadline: the job then FAILED whatever the verdict, and says so.
 * A FAILED verdict whose checkpoint is no longer COMPLETE when read here (a prune or a DELETE
 * moved it away during the test, see `abandonedVerdict`) is abandoned: the job FAILED with code
 * `CheckpointDeleted`, the checkpoint's `verification` untouched, no event, so no false alarm.
 * The verdict is read against the checkpoint only now, after the cleanup, because a deletion is
 * seen in the catalog by then (the trash marks DELETED before it removes the original).
 * Publishing before the job is saved means a crash in between publishes again on the next try,
 * which subscribers take as one. Returns the ended job, or undefined when another writer won.
 */
export async function finishVerification(
  job: Job,
  cleanupError: ErrorInfo | undefined,
  deps: VerificationRecordDeps,
): Promise<Job | undefined> {
  const progress = job.verify as VerificationProgress;
  const verdict =
    progress.verdict ??
    verdictNow("FAILED", cleanupError?.message ?? "the job ended without a verdict", deps);
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  const abandoned = abandonedVerdict(verdict, checkpoint, job.checkpointId ?? "");
  if (abandoned) {
    const now = deps.clock.now();
    const final = { ...job, verify: { ...progress, verdict, abandoned } };
    return saved(
      failJob(final, cleanupError ?? { code: "CheckpointDeleted", message: abandoned }, now),
      deps,
    );
  }
  if (checkpoint) {
    const note = [progress.cleanupNote, cleanupError?.message].filter(Boolean).join("; ");
    const current = checkpoint.verification;
    const newer = !current || (current.jobId !== job.id && current.at <= verdict.at);
    const after = newer
      ? {
          ...checkpoint,
          verification: recorded(job, verdict, note || undefined),
          version: checkpoint.version + 1,
          modifiedAt: deps.clock.now().toISOString(),
        }
      : checkpoint;
    if (newer) await deps.checkpoints.save(after);
    if (after.verification?.jobId === job.id) {
      await deps.events.publish([checkpointVerification(after, job, progress.target)]);
    }
  }
  const now = deps.clock.now();
  const final = { ...job, verify: { ...progress, verdict } };
  const ended =
    verdict.status === "PASSED" && !cleanupError
      ? succeedJob(final, now)
      : failJob(
          final,
          cleanupError ?? { code: "VerificationFailed", message: verdict.detail },
          now,
        );
  return saved(ended, deps);
}

/**
 * The sweeper's failure path for a verification job past its deadline, which calls no provider:
 * without a verdict, the verdict becomes FAILED and the cleanup is sent on its way (a new step,
 * with the cleanup's deadline); with one, the cleanup outlived its deadline, and the job ends
 * with the verdict recorded and the throwaway named. False when another writer moved it first.
 */
export async function expireVerification(
  job: Job,
  error: ErrorInfo,
  deps: VerificationRecordDeps & Pick<VerificationDeps, "steps">,
): Promise<boolean> {
  if (!job.verify?.verdict) {
    const decided = await decide(job, failedVerdict(error.message, deps), deps);
    if (!decided) return false;
    const dueAt = deps.clock.now().toISOString();
    const due = await saved(updateRunningJob(decided, { nextCheckAt: dueAt }), deps);
    if (!due) return false;
    await deps.steps.send({ jobId: job.id, step: due.checks, dueAt });
    return true;
  }
  return (await finishVerification(job, error, deps)) !== undefined;
}
