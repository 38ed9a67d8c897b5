import { createHash } from "node:crypto";
import * as z from "zod";
import {
  S3LocationSchema,
  VerificationStatusSchema,
  type Checkpoint,
  type S3Location,
} from "./checkpoint.ts";
import { isTimeZone } from "./duration.ts";
import { ValidationError } from "./errors.ts";
import { deterministicId } from "./ids.ts";
import { MaximumDurationSchema, RestoreStepSchema } from "./restore.ts";
import type { RetentionPlan } from "./retention.ts";
import { parseScheduleExpression } from "./schedule-expression.ts";
import { SimulationSelectorSchema } from "./selector.ts";
import { lazySchema } from "./lazy-schema.ts";

const IsoDate = z.iso.datetime({ offset: true });

/** A schedule expression, checked as the snapshot schedules' are. */
const expression = (allowSeconds: boolean) =>
  z.string().superRefine((text, ctx) => {
    try {
      parseScheduleExpression(text, { allowSeconds });
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message:
          error instanceof ValidationError
            ? (error.details[0]?.message ?? error.message)
            : String(error),
      });
    }
  });

/**
 * The optional user check of a restore test, AWS Backup's "validation" step: in AWS a Lambda
 * function (invoked with the test's details, it answers `{status, detail}`), locally a command
 * (run with the details in its environment; exit 0 passes). Each environment runs its own and
 * ignores the other, so one config file serves both; either one is bounded by `timeoutSeconds`.
 */
export const UserCheckConfigSchema = lazySchema(() =>
  z
    .strictObject({
      lambdaArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/,
          "must be a Lambda function ARN",
        )
        .optional(),
      command: z
        .array(z.string().min(1, "must not be empty"))
        .min(1, "must name a program, then its arguments")
        .optional(),
      timeoutSeconds: z
        .number()
        .int()
        .min(1, "must be at least 1")
        .max(600, "must be at most 600 (the verify function's own timeout is 900 s)")
        .default(60),
    })
    .refine((check) => check.lambdaArn !== undefined || check.command !== undefined, {
      message: "name a lambdaArn (AWS), a command (local), or both; leave check out otherwise",
      path: ["lambdaArn"],
    }),
);
/** The user check, validated. */
export type UserCheckConfig = z.output<typeof UserCheckConfigSchema>;

/** The user check one environment runs: a Lambda function in AWS, a command locally. */
export const UserCheckSettingSchema = lazySchema(() =>
  z.union([
    z.strictObject({ lambdaArn: z.string().min(1), timeoutSeconds: z.number().int().positive() }),
    z.strictObject({
      command: z.array(z.string().min(1)).min(1),
      timeoutSeconds: z.number().int().positive(),
    }),
  ]),
);
/** The user check one environment runs. */
export type UserCheckSetting = z.output<typeof UserCheckSettingSchema>;

/** The part of the user check that runs `where`, or undefined when it has none there. */
export function userCheckFor(
  check: UserCheckConfig | undefined,
  where: "aws" | "local",
): UserCheckSetting | undefined {
  if (where === "aws" && check?.lambdaArn) {
    return { lambdaArn: check.lambdaArn, timeoutSeconds: check.timeoutSeconds };
  }
  if (where === "local" && check?.command) {
    return { command: check.command, timeoutSeconds: check.timeoutSeconds };
  }
  return undefined;
}

/** Which checkpoints of each selected simulation a run tests. */
export const VerificationChoiceSchema = lazySchema(() =>
  z.strictObject({
    /** The newest COMPLETE checkpoint of each simulation: the one a restore would use today. */
    latest: z.boolean().default(true),
    /** Every favorite: the ones people said they would come back to. */
    favorites: z.boolean().default(false),
    /** This many more, drawn across the selected simulations (the same draw for the same slot). */
    sample: z.number().int().min(0, "must be 0 or more").max(100, "must be at most 100").default(0),
  }),
);
/** Which checkpoints a run tests. */
export type VerificationChoice = z.output<typeof VerificationChoiceSchema>;

/**
 * The `verification` section of the config file: a schedule that restores chosen checkpoints
 * into throwaway simulations to prove they restore. `maxConcurrent` and `maximumDuration` are the
 * cost guard: at most that many throwaway simulations at once (open verification jobs are
 * counted), each started with that MaximumDuration so the platform stops it even if simsnap
 * never could. The selector names simulations by provider and name only: a checkpoint outlives
 * its simulation, whose tags can no longer be read.
 */
export const VerificationConfigSchema = lazySchema(() =>
  z.strictObject({
    expression: expression(false),
    localExpression: expression(true).optional(),
    timeZone: z
      .string()
      .refine(isTimeZone, "must be an IANA time zone name such as UTC or Europe/Berlin")
      .default("UTC"),
    selector: SimulationSelectorSchema.prefault({}).refine((s) => s.tags === undefined, {
      message:
        "must not select by tags: checkpoints outlive their simulations, whose tags cannot be read then; select by providers and names",
      path: ["tags"],
    }),
    checkpoints: VerificationChoiceSchema.prefault({}),
    maxConcurrent: z
      .number()
      .int()
      .min(1, "must be at least 1")
      .max(20, "must be at most 20")
      .default(2),
    maximumDuration: MaximumDurationSchema.default("30m"),
    check: UserCheckConfigSchema.optional(),
    enabled: z.boolean().default(true),
  }),
);
/** The `verification` section, validated. */
export type VerificationConfig = z.output<typeof VerificationConfigSchema>;

/**
 * What the verification schedule hands plan-verifications: the selection and the cost guard, so
 * the function needs no config at run time (as a snapshot schedule carries its selector).
 */
export const VerificationTickSchema = lazySchema(() =>
  z.object({
    schedule: z.string().min(1),
    scheduledTime: IsoDate,
    selector: SimulationSelectorSchema.prefault({}),
    checkpoints: VerificationChoiceSchema.prefault({}),
    maxConcurrent: z.number().int().positive(),
    maximumDuration: MaximumDurationSchema,
  }),
);
/** A verification schedule's tick. */
export type VerificationTick = z.output<typeof VerificationTickSchema>;

/** Every throwaway simulation's name starts so: simsnap's own, reserved, and easy to spot. */
export const THROWAWAY_PREFIX = "simsnap-verify-";

/** The tag simsnap puts on a throwaway simulation, its value the verification job's id. */
export const THROWAWAY_TAG = "simsnap:verification-job";

/**
 * The throwaway simulation of a verification job: the reserved prefix and 16 hex digits of the
 * job id. Short enough for every platform (SimSpace Weaver: 64), within every name rule, and the
 * same for every step of the job, so a repeated start finds its own simulation.
 */
export const throwawayName = (jobId: string): string =>
  `${THROWAWAY_PREFIX}${createHash("sha256").update(jobId).digest("hex").slice(0, 16)}`;

/** True for a name simsnap gives its throwaway simulations; schedules never snapshot those. */
export const isThrowawayName = (name: string): boolean =>
  name.startsWith(THROWAWAY_PREFIX) && /^[0-9a-f]{16}$/.test(name.slice(THROWAWAY_PREFIX.length));

/** The verification job of a checkpoint in one schedule slot: a repeated tick is the same job. */
export const verificationJobId = (checkpointId: string, scheduledTime: string): string =>
  deterministicId("verify", checkpointId, new Date(scheduledTime).toISOString());

/** Where a verification job stands; each phase resumes after a crash or a duplicate step. */
export const VerificationPhaseSchema = z.enum([
  "starting",
  "waiting",
  "checking",
  "stopping",
  "deleting",
]);
/** One phase of a verification job. */
export type VerificationPhase = z.infer<typeof VerificationPhaseSchema>;

/** A verification's outcome, decided before the throwaway simulation is cleaned up. */
export const VerdictSchema = lazySchema(() =>
  z.object({
    status: VerificationStatusSchema,
    detail: z.string(),
    at: IsoDate,
  }),
);
/** A verification's outcome. */
export type Verdict = z.infer<typeof VerdictSchema>;

/**
 * The verification-specific part of a `verify` job. `startClaimedAt` is saved before the start
 * call, after simsnap saw the name free: from then on the throwaway simulation is simsnap's to
 * stop and delete, and before it nothing is ever stopped or deleted under that name.
 */
export const VerificationProgressSchema = z.object({
  target: z.string().min(1),
  phase: VerificationPhaseSchema,
  maximumDuration: z.string(),
  /** The file the throwaway starts from (a checkpoint with a file), else the platform's own. */
  snapshot: S3LocationSchema.optional(),
  startClaimedAt: IsoDate.optional(),
  startedAt: IsoDate.optional(),
  waits: z.number().int().nonnegative().optional(),
  /**
   * Times the throwaway was started again because it vanished before it ever ran (a platform
   * that lost the start, as the local stack's simulator does when killed with it): that says
   * nothing about the checkpoint, so it is started once more before it counts as a failure.
   */
  restarts: z.number().int().nonnegative().optional(),
  verdict: VerdictSchema.optional(),
  /** What the check could prove, so a PASSED is never read as more than it is. */
  evidence: z.string().optional(),
  /** The throwaway was seen carrying this job's tag: simsnap's to stop and delete. */
  ownershipConfirmed: z.boolean().optional(),
  /** Why the throwaway simulation was not stopped or deleted (it was not simsnap's). */
  cleanupNote: z.string().optional(),
  /**
   * Set when the test ended while its checkpoint was no longer COMPLETE (deleted, pruned to the
   * trash): a failure then may be the deletion's doing and says nothing about the checkpoint, so
   * it is neither recorded on the checkpoint nor announced (see `abandonedVerdict`).
   */
  abandoned: z.string().optional(),
});
/** The verification-specific part of a `verify` job. */
export type VerificationProgress = z.infer<typeof VerificationProgressSchema>;

/**
 * A step of a verification job on the `verification-steps` queue: the same shape and rule as a
 * restore step (it runs only when `dueAt` is the job's current `nextCheckAt`).
 */
export const VerificationStepSchema = RestoreStepSchema;
/** A step of a verification job. */
export type VerificationStep = z.infer<typeof VerificationStepSchema>;

/** How long a verification job has to clean up once its verdict is in (stop, then delete). */
export const CLEANUP_SECONDS = 1800;

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

/** A MaximumDuration (`30m`, `2h`, `1d`) in seconds. */
export const maximumDurationSeconds = (text: string): number =>
  Number(text.slice(0, -1)) * (UNIT_SECONDS[text.slice(-1).toLowerCase()] ?? 60);

/**
 * The verdict deadline of a job started at `start`: its throwaway's MaximumDuration, after which
 * the platform stops the simulation by itself and nothing more can be learnt from it.
 */
export const verdictDeadline = (start: Date, maximumDuration: string): string =>
  new Date(start.getTime() + maximumDurationSeconds(maximumDuration) * 1000).toISOString();

/** The deadline of a job whose verdict is in: time to stop and delete its throwaway. */
export const cleanupDeadline = (now: Date): string =>
  new Date(now.getTime() + CLEANUP_SECONDS * 1000).toISOString();

/** One checkpoint a run chose, and why. */
export interface ChosenCheckpoint {
  checkpoint: Checkpoint;
  reason: "latest" | "favorite" | "sample";
}

/** A checkpoint can be tested only while it has something to restore. */
const testable = (checkpoint: Checkpoint): boolean =>
  checkpoint.state === "COMPLETE" &&
  (checkpoint.location !== undefined || checkpoint.platformId !== undefined);

const drawKey = (scheduledTime: string, id: string): string =>
  createHash("sha256").update(`${scheduledTime}\u0000${id}`).digest("hex");

/** When a checkpoint's latest test ended; "" (first in order) for one never tested. */
const lastTested = (checkpoint: Checkpoint): string => checkpoint.verification?.at ?? "";

/**
 * Which checkpoints a run tests, in the order the cost guard admits them: the newest of each
 * simulation first (the restore most likely to be needed), then favorites, then the sample,
 * each once. Among the newest, the least recently proven go first (never tested, then the oldest
 * test), so a simulation whose newest checkpoint was proven a minute ago does not take the slot
 * of one never tested, whatever the order of their names. The sample is a hash draw keyed by the
 * slot, so a repeated tick draws the same. Only COMPLETE checkpoints with a file or a platform
 * copy are eligible.
 */
export function chooseCheckpoints(
  bySimulation: ReadonlyMap<string, readonly Checkpoint[]>,
  choice: VerificationChoice,
  scheduledTime: string,
): ChosenCheckpoint[] {
  const chosen: ChosenCheckpoint[] = [];
  const seen = new Set<string>();
  const take = (checkpoint: Checkpoint, reason: ChosenCheckpoint["reason"]) => {
    if (seen.has(checkpoint.id)) return;
    seen.add(checkpoint.id);
    chosen.push({ checkpoint, reason });
  };
  const eligible = [...bySimulation.values()].map((list) =>
    list.filter(testable).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
  );
  if (choice.latest) {
    const newest = eligible.flatMap((list) => (list[0] ? [list[0]] : []));
    newest.sort((a, b) => lastTested(a).localeCompare(lastTested(b)));
    for (const checkpoint of newest) take(checkpoint, "latest");
  }
  if (choice.favorites) {
    for (const list of eligible) for (const c of list) if (c.favorite) take(c, "favorite");
  }
  if (choice.sample > 0) {
    const rest = eligible
      .flat()
      .filter((c) => !seen.has(c.id))
      .sort((a, b) => drawKey(scheduledTime, a.id).localeCompare(drawKey(scheduledTime, b.id)));
    for (const c of rest.slice(0, choice.sample)) take(c, "sample");
  }
  return chosen;
}

/**
 * What a verification's verdict means once its checkpoint is read again at the end of the test.
 * A FAILED verdict on a checkpoint that left the catalog meanwhile (DELETED, in the trash, or
 * gone) is abandoned: the file the throwaway was restoring from may have been moved away under it
 * ("Could not load snapshot"), so the failure may be the deletion's, and an alarm for it would be
 * false. A PASSED verdict stands: the throwaway did restore from the checkpoint's file. Answers
 * the reason when abandoned, undefined when the verdict stands.
 */
export function abandonedVerdict(
  verdict: Verdict,
  checkpoint: Pick<Checkpoint, "state" | "purgeAfter"> | undefined,
  checkpointId: string,
): string | undefined {
  if (verdict.status !== "FAILED" || checkpoint?.state === "COMPLETE") return undefined;
  const now = checkpoint
    ? `it is ${checkpoint.state}${checkpoint.purgeAfter ? ` (in the trash until ${checkpoint.purgeAfter})` : ""}`
    : "it no longer exists";
  return `checkpoint ${checkpointId} was deleted during the test (${now}): the test proves nothing about it and is not recorded; it had reached FAILED: ${verdict.detail}`;
}

/** The keep reason of a checkpoint a prune leaves alone while a restore test uses it. */
export const VERIFYING_REASON = "verifying";

/**
 * A retention plan with the checkpoints under a restore test (`underTest`: ids with an open
 * `verify` job) moved from `remove` to `keep`, reason `verifying`. Removing one would pull its
 * file from under the throwaway simulation starting from it and fail a checkpoint that restores
 * fine; deferred, not spared: the next run removes it once its test has ended. Each goes into
 * `keep` before the first kept checkpoint created before it, so the list stays newest first. A
 * refused plan is returned as it is (nothing of it is removed).
 */
export function holdUnderTest(
  plan: RetentionPlan,
  underTest: ReadonlySet<string>,
  checkpoints: readonly Pick<Checkpoint, "id" | "createdAt">[],
): RetentionPlan {
  if (plan.refused !== null || !plan.remove.some((r) => underTest.has(r.id))) return plan;
  const created = new Map(checkpoints.map((c) => [c.id, c.createdAt]));
  const keep = [...plan.keep];
  for (const { id } of plan.remove) {
    if (!underTest.has(id)) continue;
    const at = created.get(id) ?? "";
    const before = keep.findIndex((k) => (created.get(k.id) ?? "") < at);
    keep.splice(before < 0 ? keep.length : before, 0, { id, reasons: [VERIFYING_REASON] });
  }
  return { ...plan, keep, remove: plan.remove.filter((r) => !underTest.has(r.id)) };
}

/** How many more throwaway simulations may start now under the cost guard. */
export const freeSlots = (maxConcurrent: number, openVerifications: number): number =>
  Math.max(0, maxConcurrent - openVerifications);

/** What a platform reported about the running throwaway simulation. */
export interface ResumeReport {
  /** The snapshot the platform says the simulation started from, when it says. */
  startedFrom?: S3Location;
}

/**
 * Whether the throwaway resumed from the checkpoint's own state, judged by what the platform
 * can say (its `restoreTest.evidence`): `snapshot-location`, the simulation's own record of the
 * snapshot it started from must be the checkpoint's file; `started`, reaching STARTED is all the
 * platform tells. Answers the verdict detail on failure, and what was proven on success.
 */
export function judgeResume(
  evidence: "snapshot-location" | "started",
  expected: S3Location | undefined,
  report: ResumeReport,
): { ok: boolean; detail: string } {
  if (evidence === "started" || expected === undefined) {
    return {
      ok: true,
      detail: "started (the platform reports nothing more about what it resumed from)",
    };
  }
  const from = report.startedFrom;
  if (!from) {
    return {
      ok: false,
      detail: "started, but the platform does not say which snapshot it started from",
    };
  }
  if (from.bucket !== expected.bucket || from.key !== expected.key) {
    return {
      ok: false,
      detail: `started from s3://${from.bucket}/${from.key}, not from the checkpoint's file s3://${expected.bucket}/${expected.key}`,
    };
  }
  return { ok: true, detail: `started from the checkpoint's file s3://${from.bucket}/${from.key}` };
}
