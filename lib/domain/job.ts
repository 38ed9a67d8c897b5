import * as z from "zod";
import { ErrorInfoSchema, type ErrorInfo } from "./checkpoint.ts";
import { IllegalTransitionError } from "./errors.ts";
import { SimulationNameSchema } from "./names.ts";
import { PruneProgressSchema } from "./prune-request.ts";
import { RestoreProgressSchema } from "./restore.ts";
import { StopOptionsSchema } from "./stop.ts";
import { VerificationProgressSchema } from "./verification.ts";
import { lazySchema } from "./lazy-schema.ts";

/** The long-running actions simsnap tracks as jobs. */
export const JobKindSchema = z.enum(["snapshot", "prune", "archive", "restore", "stop", "verify"]);
/** One of the job kinds. */
export type JobKind = z.infer<typeof JobKindSchema>;

/** A job is finished once it left `RUNNING`; clients wait for that. */
export const JobStatusSchema = z.enum(["RUNNING", "SUCCEEDED", "FAILED", "ABORTED"]);
/** One of the job statuses. */
export type JobStatus = z.infer<typeof JobStatusSchema>;

const IsoDate = z.iso.datetime({ offset: true });

/** Where one step of a multi-step job stands; `SKIPPED` steps had nothing to do. */
export const JobStepStatusSchema = z.enum(["RUNNING", "SUCCEEDED", "FAILED", "SKIPPED"]);

/**
 * One step of a job that does several things in turn (a stop: the final snapshot, then
 * StopSimulation), so whoever polls the job sees how far it got and why it stopped there.
 */
export const JobStepSchema = lazySchema(() =>
  z.object({
    name: z.string().min(1),
    status: JobStepStatusSchema,
    startedAt: IsoDate,
    endedAt: IsoDate.optional(),
    message: z.string().optional(),
  }),
);
/** One step of a multi-step job. */
export type JobStep = z.infer<typeof JobStepSchema>;

/**
 * One long-running action, polled like a storage system's job status. The snapshot-specific
 * fields (`destination`, `requestedAt`, `deadline`, `checks`, `claimedUntil`) are what make
 * take-snapshot and the status checks idempotent under duplicate delivery; `callStartedAt` and
 * `requestedAt` also bound the job's CreateSnapshot call, the only time its file can be stamped
 * with (see `snapshot-binding.ts`).
 */
export const JobSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    version: z.number().int().positive(),
    kind: JobKindSchema,
    simulation: SimulationNameSchema,
    /**
     * The provider the simulation belongs to, recorded when the job starts on a deployment with
     * several platforms, so a later step (a stop's re-check, a restore's start) calls that one
     * without asking every platform again. Absent on older records, whose simulation is looked up.
     */
    provider: z.string().min(1).optional(),
    checkpointId: z.string().optional(),
    status: JobStatusSchema,
    startTime: IsoDate,
    endTime: IsoDate.optional(),
    aborted: z.boolean().default(false),
    error: ErrorInfoSchema.optional(),
    stats: z
      .object({ objects: z.number().int(), bytes: z.number().int() })
      .default({ objects: 0, bytes: 0 }),
    attempts: z.number().int().nonnegative().default(0),
    nextCheckAt: IsoDate.optional(),
    checks: z.number().int().nonnegative().default(0),
    destination: z.object({ bucket: z.string(), prefix: z.string() }).optional(),
    claimedUntil: IsoDate.optional(),
    /**
     * Taken just before the latest CreateSnapshot call and saved with its claim before the call is
     * made, so even a crash mid-call leaves the start of the window its file's stamp falls in.
     */
    callStartedAt: IsoDate.optional(),
    /** Taken just after CreateSnapshot returned: the end of that window, and proof it was accepted. */
    requestedAt: IsoDate.optional(),
    /**
     * When the job fails if it has not ended: set when it starts, for every kind, so the sweeper
     * can end a job whose messages were lost. Older records lack it (see `jobDeadline`).
     */
    deadline: IsoDate.optional(),
    /**
     * The natural key of the request that started a snapshot job, so the sweeper can send a lost
     * request again (the job id is a one-way hash of it). Absent on older records.
     */
    requestId: z.string().min(1).max(512).optional(),
    /** What a `restore` job was asked for and how far it got. */
    restore: RestoreProgressSchema.optional(),
    /** How far a `prune` job that continues over several invocations got. */
    prune: PruneProgressSchema.optional(),
    /** What a `stop` job was asked for (final snapshot, force). */
    stop: StopOptionsSchema.optional(),
    /** What a `verify` job (a restore test into a throwaway simulation) did and decided. */
    verify: VerificationProgressSchema.optional(),
    /** The steps of a multi-step job, in order; absent on single-step jobs and older records. */
    steps: z.array(JobStepSchema).optional(),
  }),
);
/** One long-running action. */
export type Job = z.infer<typeof JobSchema>;

/**
 * A job just started: RUNNING, version 1, nothing counted yet. Every use case that starts work
 * builds its job here, so a new bookkeeping field gets its initial value in one place. The
 * deadline is required: a job without one could stay RUNNING forever once its messages are lost.
 */
export function startJob(
  start: Pick<Job, "id" | "kind" | "simulation"> & { deadline: string } & Partial<Job>,
  now: Date,
): Job {
  return {
    version: 1,
    status: "RUNNING",
    startTime: now.toISOString(),
    aborted: false,
    stats: { objects: 0, bytes: 0 },
    attempts: 0,
    checks: 0,
    ...start,
  };
}

/** True once the job can no longer change. */
export const isJobFinished = (job: Pick<Job, "status">): boolean => job.status !== "RUNNING";

function assertRunning(job: Job, to: string): void {
  if (isJobFinished(job)) {
    throw new IllegalTransitionError(`Job ${job.id} is ${job.status} and cannot become ${to}`);
  }
}

/** Changes a running job's bookkeeping (attempts, checks, claims); finished jobs are frozen. */
export function updateRunningJob(job: Job, changes: Partial<Job>): Job {
  assertRunning(job, "updated");
  return { ...job, ...changes, status: "RUNNING", version: job.version + 1 };
}

/** RUNNING → SUCCEEDED. */
export function succeedJob(job: Job, now: Date, stats?: Job["stats"]): Job {
  assertRunning(job, "SUCCEEDED");
  return {
    ...job,
    status: "SUCCEEDED",
    endTime: now.toISOString(),
    stats: stats ?? job.stats,
    claimedUntil: undefined,
    nextCheckAt: undefined,
    version: job.version + 1,
  };
}

/** RUNNING → FAILED with the reason the user will see. */
export function failJob(job: Job, error: ErrorInfo, now: Date): Job {
  assertRunning(job, "FAILED");
  return {
    ...job,
    status: "FAILED",
    endTime: now.toISOString(),
    error,
    claimedUntil: undefined,
    nextCheckAt: undefined,
    version: job.version + 1,
  };
}

/** RUNNING → ABORTED, on a user's request. */
export function abortJob(job: Job, now: Date): Job {
  assertRunning(job, "ABORTED");
  return {
    ...job,
    status: "ABORTED",
    aborted: true,
    endTime: now.toISOString(),
    claimedUntil: undefined,
    nextCheckAt: undefined,
    version: job.version + 1,
  };
}
