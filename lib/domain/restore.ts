import { createHash } from "node:crypto";
import * as z from "zod";
import { S3LocationSchema, type Checkpoint } from "./checkpoint.ts";
import { deterministicId } from "./ids.ts";
import { nameWithSuffix, SimulationNameSchema } from "./names.ts";
import { prefixSegments, s3Key } from "./s3-key.ts";
import { lazySchema } from "./lazy-schema.ts";

const IsoDate = z.iso.datetime({ offset: true });

/** SimSpace Weaver's longest simulation, in minutes (14 days). */
const MAX_DURATION_MINUTES = 14 * 24 * 60;
const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 1440 };

/**
 * StartSimulation's `MaximumDuration`: 1 to 5 digits and a unit (m, h, d, either case), at most
 * 14 days. Checked here so a bad value is a 400 naming the field, not the service's refusal after
 * an archive was thawed and copied back for nothing.
 */
export const MaximumDurationSchema = lazySchema(() =>
  z
    .string()
    .regex(
      /^\d{1,5}[mhdMHD]$/,
      "must be 1 to 5 digits followed by m, h or d (minutes, hours, days), e.g. 90m, 12h or 14d",
    )
    .refine(
      (text) =>
        Number(text.slice(0, -1)) * (UNIT_MINUTES[text.slice(-1).toLowerCase()] ?? 0) <=
        MAX_DURATION_MINUTES,
      "must be at most 14d (20160m), SimSpace Weaver's limit",
    ),
);

/**
 * The name of the simulation a restore starts: simsnap's name rule (which allows `.` and `..`,
 * as SimSpace Weaver does), minus those two. simsnap refuses them as its own rule: a simulation
 * named like a path step is one that every tool joining names into paths or keys (S3 keys, log
 * paths, `aws s3 sync`) mis-handles, and a restore is the one place where simsnap itself would
 * bring such a name into being. Existing simulations with these names are still snapshotted
 * (their keys are spelt safely by `s3Key`). The platform's own rule (SimSpace Weaver's letters,
 * digits, `_ . -`) is checked by the restore use case through the checkpoint's provider.
 */
export const RestoreTargetNameSchema = lazySchema(() =>
  SimulationNameSchema.refine(
    (name) => name !== "." && name !== "..",
    'must not be "." or "..": simsnap does not create simulations named like a path step',
  ),
);

/**
 * A restore's target prefix as a caller writes it (`restored/exp7`, with or without `/` at its
 * ends). Only its form is checked here; which prefixes a restore may write under depends on the
 * configured sources, and is checked by the use case.
 */
export const RestoreTargetSchema = lazySchema(() =>
  z.strictObject(
    {
      prefix: z
        .string({ error: "must be a string" })
        .min(1, "must not be empty")
        .max(1024, "must be at most 1024 characters (an S3 key's limit)"),
    },
    { error: "must be an object with only prefix" },
  ),
);

/**
 * A request to restore a checkpoint into a new simulation. `clientToken` makes it idempotent: the
 * same checkpoint and token always name the same restore job, so a retried request (an API client
 * timing out, a double click) starts one simulation.
 */
export const RestoreRequestSchema = lazySchema(() =>
  z.object({
    checkpointId: z.string().min(1, "must not be empty").max(128, "must be at most 128 characters"),
    simulationName: RestoreTargetNameSchema.optional(),
    maximumDuration: MaximumDurationSchema.optional(),
    description: z.string().max(500, "must be at most 500 characters").optional(),
    clientToken: z
      .string()
      .min(1, "must not be empty")
      .max(128, "must be at most 128 characters")
      .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
    /**
     * Where a checkpoint of a provider that restores into a prefix (`restoreInto.prefix`: files
     * another tool wrote) is copied to: a prefix inside one of its sources, checked by the use case.
     */
    target: RestoreTargetSchema.optional(),
  }),
);
/** A validated restore request. */
export type RestoreRequest = z.output<typeof RestoreRequestSchema>;
/** A restore request as a caller writes it. */
export type RestoreRequestInput = z.input<typeof RestoreRequestSchema>;

/** Where a restore job stands; each phase is resumable after a crash or a duplicate delivery. */
export const RestorePhaseSchema = z.enum(["locating", "thawing", "copying", "starting", "waiting"]);
/** One phase of a restore job. */
export type RestorePhase = z.infer<typeof RestorePhaseSchema>;

/**
 * The restore-specific part of a `restore` job: what was asked for, and how far it got (where the
 * file is read from, what StartSimulation was given, what it answered).
 */
export const RestoreProgressSchema = lazySchema(() =>
  z.object({
    target: SimulationNameSchema,
    clientToken: z.string().min(1),
    maximumDuration: z.string().optional(),
    description: z.string().optional(),
    phase: RestorePhaseSchema,
    /**
     * Set for a checkpoint a platform holds (no file): restored by the platform itself, into the
     * same (stopped) simulation or a new one, as its `restoreInto` allows; `prefix` for a set of
     * objects copied from its archive under a prefix (no simulation started). Absent: from a file.
     */
    into: z.enum(["same", "new", "prefix"]).optional(),
    /**
     * With `into: "prefix"` (a set of objects another tool wrote): the prefix in the files bucket
     * its archive is copied to, and once done, `uri`, where the tool resumes from it.
     */
    prefix: z.string().endsWith("/").optional(),
    uri: z.string().startsWith("s3://").optional(),
    from: z.enum(["hot", "archive", "platform"]).optional(),
    /** The archive copy, while it is thawed or copied back. */
    source: S3LocationSchema.optional(),
    /** The file StartSimulation reads. */
    snapshot: S3LocationSchema.optional(),
    thawRequestedAt: IsoDate.optional(),
    /** Waits so far in this phase: each phase's checks back off from the first delay again. */
    waits: z.number().int().nonnegative().optional(),
    arn: z.string().optional(),
    executionId: z.string().optional(),
  }),
);
/** The restore-specific part of a `restore` job. */
export type RestoreProgress = z.infer<typeof RestoreProgressSchema>;

/**
 * A step of a restore job, sent to the restore queue (delayed while it waits). It runs only when
 * `dueAt` is the job's current `nextCheckAt`, which drops duplicates and stale steps.
 */
export const RestoreStepSchema = lazySchema(() =>
  z.object({
    jobId: z.string().min(1),
    step: z.number().int().nonnegative(),
    dueAt: IsoDate,
  }),
);
/** A step of a restore job. */
export type RestoreStep = z.infer<typeof RestoreStepSchema>;

/** The restore job of a checkpoint and client token, the same for every retry of the request. */
export const restoreJobId = (checkpointId: string, clientToken: string): string =>
  deterministicId("restore", checkpointId, clientToken);

const pad = (n: number): string => String(n).padStart(2, "0");
/** SimSpace Weaver's limit, the smallest of any platform's, so a default name fits every one. */
const NAME_LIMIT = 64;

/**
 * The name a restored simulation gets when the caller names none:
 * `<simulation>-r<yyMMdd-HHmmss>-<4 hex of the token>`, the checkpoint's own time so a person
 * recognises it, the token's hash so two restores of one checkpoint do not collide. The simulation
 * part is shortened (by whole characters) to keep the name within SimSpace Weaver's 64 characters;
 * the suffix adds only letters, digits and `-`, so the name is valid wherever the simulation's
 * own name is.
 */
export function defaultRestoreName(
  checkpoint: Pick<Checkpoint, "simulation" | "createdAt">,
  clientToken: string,
): string {
  const t = new Date(checkpoint.createdAt);
  const stamp =
    `${pad(t.getUTCFullYear() % 100)}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}` +
    `-${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}`;
  const suffix = `-r${stamp}-${createHash("sha256").update(clientToken).digest("hex").slice(0, 4)}`;
  return nameWithSuffix(checkpoint.simulation, suffix, NAME_LIMIT);
}

/**
 * Where an archived file is copied back to in the snapshot bucket before a simulation starts from
 * it: beside the snapshots but outside `snapshot/`, so the copy is never taken for a new snapshot
 * file (and cataloged as a `discovered` checkpoint).
 */
export function restoredSnapshotKey(prefix: string, checkpointId: string, file: string): string {
  return s3Key(...prefixSegments(prefix), "restore", checkpointId, file);
}
