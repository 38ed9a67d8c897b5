import * as z from "zod";
import {
  CheckpointStateSchema,
  CheckpointTriggerSchema,
  CheckpointVerificationSchema,
  ErrorInfoSchema,
  S3LocationSchema,
} from "./checkpoint.ts";
import { EVENT_SCHEMA_VERSION } from "./events.ts";
import { SimulationNameSchema } from "./names.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * The detail schemas of simsnap's events: what a subscriber may rely on under `version` "1".
 * They are objects, not strict objects, on purpose: a new optional field is not a breaking change,
 * so it does not bump the version, and a subscriber written against "1" keeps working.
 */

const IsoDate = z.iso.datetime({ offset: true });

const Version = z.literal(EVENT_SCHEMA_VERSION);

/** A checkpoint as events carry it: the catalog record without its bookkeeping fields. */
export const CheckpointSummarySchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    simulation: SimulationNameSchema,
    /** The provider the simulation belongs to (absent in events of older versions). */
    provider: z.string().optional(),
    /** The platform's own id of a checkpoint the platform holds instead of a file. */
    platformId: z.string().optional(),
    name: z.string(),
    state: CheckpointStateSchema,
    trigger: CheckpointTriggerSchema,
    favorite: z.boolean(),
    tags: z.array(z.string()),
    createdAt: IsoDate,
    completedAt: IsoDate.optional(),
    location: S3LocationSchema.optional(),
    size: z.number().int().nonnegative().optional(),
    error: ErrorInfoSchema.optional(),
    jobId: z.string().optional(),
    /** The training step of a checkpoint another tool wrote (the files provider), from its layout. */
    step: z.number().int().nonnegative().optional(),
    /** Metrics read from such a checkpoint's sidecar when it completed (`keepBest` ranks by them). */
    metrics: z.record(z.string(), z.number()).optional(),
    /** A DELETED checkpoint's file in the trash, recoverable until `purgeAfter` (docs/trash.md). */
    trash: S3LocationSchema.optional(),
    /** A DELETED checkpoint its platform keeps until `purgeAfter`, when the purge deletes it there. */
    trashOnPlatform: z.literal(true).optional(),
    /** When the daily purge makes a trashed checkpoint's deletion final. */
    purgeAfter: IsoDate.optional(),
  }),
);
/** A checkpoint as events carry it. */
export type CheckpointSummary = z.output<typeof CheckpointSummarySchema>;

/** `Snapshot Requested`: the checkpoint is PENDING and its job RUNNING. */
export const SnapshotRequestedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema.extend({ state: z.literal("PENDING") }),
    jobId: z.string().min(1),
  }),
);

/**
 * `Checkpoint Completed`: the file exists at `checkpoint.location`, or, for a checkpoint a
 * platform holds (NVIDIA Air), the platform says it is COMPLETE (`checkpoint.platformId`).
 */
export const CheckpointCompletedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema.extend({
      state: z.literal("COMPLETE"),
      location: S3LocationSchema.optional(),
      completedAt: IsoDate,
    }).refine((checkpoint) => checkpoint.location !== undefined || checkpoint.platformId, {
      message: "a COMPLETE checkpoint has its file's location, or the platformId of its platform",
      path: ["location"],
    }),
  }),
);

/** `Checkpoint Failed`: no file will come; `checkpoint.error` says why. */
export const CheckpointFailedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema.extend({
      state: z.literal("FAILED"),
      error: ErrorInfoSchema,
    }),
  }),
);

/**
 * `Checkpoint Deleted`: a person (or the platform holding it) deleted the checkpoint; with
 * `checkpoint.trash` and `purgeAfter` its file can be undeleted until then.
 */
export const CheckpointDeletedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema.extend({ state: z.literal("DELETED") }),
  }),
);

/**
 * `Checkpoint Undeleted`: back from the trash, COMPLETE, its file (or set of objects) at
 * `checkpoint.location`; one its platform kept (`platformId`) has no location.
 */
export const CheckpointUndeletedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema.extend({ state: z.literal("COMPLETE") }).refine(
      (checkpoint) => checkpoint.location !== undefined || checkpoint.platformId !== undefined,
      { message: "names its file (location) or its platform's checkpoint (platformId)" },
    ),
  }),
);

/** `Checkpoints Purged`: one purge run made these deletions final (lists capped at 1,000 ids). */
export const CheckpointsPurgedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    purgedCount: z.number().int().nonnegative(),
    purged: z.array(z.string()),
    failedCount: z.number().int().nonnegative(),
    failed: z.array(z.string()),
    orphans: z.number().int().nonnegative(),
    truncated: z.boolean(),
  }),
);

/** `Checkpoints Pruned`: one retention run over one simulation; the report has everything. */
export const CheckpointsPrunedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    simulation: SimulationNameSchema,
    jobId: z.string().min(1),
    removedCount: z.number().int().nonnegative(),
    removed: z.array(z.string()),
    kept: z.array(z.object({ id: z.string(), reasons: z.array(z.string()) })),
    failedCount: z.number().int().nonnegative(),
    failed: z.array(z.string()),
    /** How many of the removed went to the trash (absent in events of older versions). */
    trashedCount: z.number().int().nonnegative().optional(),
    /** The removed checkpoints whose files went to the trash; the others are gone for good. */
    trashed: z.array(z.string()).optional(),
    /** When the trashed ones are purged; absent when nothing went to the trash. */
    purgeAfter: IsoDate.optional(),
    truncated: z.boolean(),
    report: S3LocationSchema,
  }),
);

/**
 * `Simulation Stop Requested`, the one event simsnap listens for on its bus (any `source`): stop
 * `simulation`, after a final snapshot unless `snapshot` is false; `force` stops it even when
 * that snapshot fails. `requestId` makes repeated requests one stop (the event's own `id` is used
 * when it is absent, so a redelivery is recognised either way). `then: "restart"` is a cycle (a
 * `cycle` schedule sends one): once the checkpoint the stop saved is COMPLETE, the simulation is
 * started again from exactly that checkpoint, which only a platform that checkpoints while
 * stopping and restores into the same simulation can do.
 */
export const SimulationStopRequestedDetailSchema = lazySchema(() =>
  z.strictObject({
    version: Version.default(EVENT_SCHEMA_VERSION),
    simulation: SimulationNameSchema,
    snapshot: z.boolean().default(true),
    force: z.boolean().default(false),
    requestId: z.string().min(1).max(256).optional(),
    reason: z.string().max(1024, "must be at most 1024 characters").optional(),
    then: z.literal("restart").optional(),
  }),
);
/** A validated `Simulation Stop Requested` detail. */
export type SimulationStopRequestedDetail = z.output<typeof SimulationStopRequestedDetailSchema>;

/** How the final snapshot of a stop ended (`SKIPPED`: none was asked for, or none was possible). */
export const FinalSnapshotOutcomeSchema = lazySchema(() =>
  z.enum(["COMPLETE", "FAILED", "SKIPPED"]),
);

/**
 * `Simulation Stopped`: simsnap stopped the simulation (or found it already stopped). A forced stop
 * after a failed final snapshot says so with `forced` and `finalSnapshot: "FAILED"`.
 */
export const SimulationStoppedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    simulation: SimulationNameSchema,
    jobId: z.string().min(1),
    finalSnapshot: FinalSnapshotOutcomeSchema,
    checkpointId: z.string().optional(),
    location: S3LocationSchema.optional(),
    forced: z.boolean(),
    alreadyStopped: z.boolean(),
  }),
);

/** `Simulation Stop Failed`: the simulation was left running; `error` says why. */
export const SimulationStopFailedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    simulation: SimulationNameSchema,
    jobId: z.string().min(1),
    checkpointId: z.string().optional(),
    error: ErrorInfoSchema,
  }),
);

/** Where and how a checkpoint is archived (the record's `archive`). */
const ArchiveSchema = lazySchema(() =>
  z.object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    storageClass: z.string().min(1),
    archivedAt: IsoDate,
  }),
);

/**
 * `Checkpoint Archived`: the file was copied to `archive` and verified (`checksum` is
 * `<algorithm>:<base64>`); the manifest beside it says how. `copied` is false when an identical
 * copy was already there.
 */
export const CheckpointArchivedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema,
    archive: ArchiveSchema,
    manifest: S3LocationSchema,
    checksum: z.string().regex(/^[a-z0-9]+:.+$/),
    copied: z.boolean(),
  }),
);

/** `Archives Pruned`: archive retention removed archive copies (lists capped at 1,000 ids). */
export const ArchivesPrunedDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    simulation: SimulationNameSchema,
    removedCount: z.number().int().nonnegative(),
    removed: z.array(z.string()),
    failedCount: z.number().int().nonnegative(),
    failed: z.array(z.string()),
    truncated: z.boolean(),
  }),
);

/** What every restore event says: the job, the checkpoint and the simulation it starts. */
const RestoreDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    jobId: z.string().min(1),
    checkpointId: z.string().min(1),
    simulation: SimulationNameSchema,
    target: SimulationNameSchema,
    from: z.enum(["hot", "archive", "platform"]).optional(),
    snapshot: S3LocationSchema.optional(),
    /**
     * A restore of a checkpoint a platform holds: into the same simulation, or a new one; `prefix`:
     * a set of files copied from its archive under `prefix` (in the files bucket), `uri` once done.
     */
    into: z.enum(["same", "new", "prefix"]).optional(),
    prefix: z.string().optional(),
    uri: z.string().startsWith("s3://").optional(),
  }),
);

/** `Restore Requested`: a restore job was accepted and is RUNNING. */
export const RestoreRequestedDetailSchema = RestoreDetailSchema;

/**
 * `Checkpoint Restored`: `target` started from the checkpoint (`from` says which copy: the hot
 * file or the archive, both at `snapshot`, or the platform that holds it).
 */
export const CheckpointRestoredDetailSchema = lazySchema(() =>
  RestoreDetailSchema.extend({
    from: z.enum(["hot", "archive", "platform"]),
    arn: z.string().optional(),
    executionId: z.string().optional(),
  }).refine(
    (detail) => detail.from === "platform" || (detail.snapshot ?? detail.uri) !== undefined,
    {
      message: "a restore from a file names the file (snapshot), one into a prefix its uri",
      path: ["snapshot"],
    },
  ),
);

/** `Restore Failed`: the restore job FAILED; `error` says why. */
export const RestoreFailedDetailSchema = lazySchema(() =>
  RestoreDetailSchema.extend({ error: ErrorInfoSchema }),
);

/** A restore test's outcome: the checkpoint, the verification it recorded, the job, the throwaway. */
const VerificationDetailSchema = lazySchema(() =>
  z.object({
    version: Version,
    checkpoint: CheckpointSummarySchema,
    verification: CheckpointVerificationSchema,
    jobId: z.string().min(1),
    /** The throwaway simulation the checkpoint was restored into (stopped and deleted since). */
    throwaway: SimulationNameSchema,
  }),
);

/** `Checkpoint Verified`: the checkpoint restored into a throwaway simulation and passed. */
export const CheckpointVerifiedDetailSchema = lazySchema(() =>
  VerificationDetailSchema.extend({
    verification: CheckpointVerificationSchema.extend({ status: z.literal("PASSED") }),
  }),
);

/** `Checkpoint Verification Failed`: its restore test FAILED; `verification.detail` says why. */
export const CheckpointVerificationFailedDetailSchema = lazySchema(() =>
  VerificationDetailSchema.extend({
    verification: CheckpointVerificationSchema.extend({ status: z.literal("FAILED") }),
  }),
);

/**
 * Every detail-type on the `simsnap` bus with its detail schema: the ones simsnap publishes
 * (`source: "simsnap"`) and `Simulation Stop Requested`, which it consumes. Tests validate every
 * published event and every sample in docs/events.md against this table.
 */
export const EVENT_DETAIL_SCHEMAS = {
  "Snapshot Requested": SnapshotRequestedDetailSchema,
  "Checkpoint Completed": CheckpointCompletedDetailSchema,
  "Checkpoint Failed": CheckpointFailedDetailSchema,
  "Checkpoint Deleted": CheckpointDeletedDetailSchema,
  "Checkpoint Undeleted": CheckpointUndeletedDetailSchema,
  "Checkpoints Purged": CheckpointsPurgedDetailSchema,
  "Checkpoints Pruned": CheckpointsPrunedDetailSchema,
  "Simulation Stop Requested": SimulationStopRequestedDetailSchema,
  "Simulation Stopped": SimulationStoppedDetailSchema,
  "Simulation Stop Failed": SimulationStopFailedDetailSchema,
  "Checkpoint Archived": CheckpointArchivedDetailSchema,
  "Archives Pruned": ArchivesPrunedDetailSchema,
  "Restore Requested": RestoreRequestedDetailSchema,
  "Checkpoint Restored": CheckpointRestoredDetailSchema,
  "Restore Failed": RestoreFailedDetailSchema,
  "Checkpoint Verified": CheckpointVerifiedDetailSchema,
  "Checkpoint Verification Failed": CheckpointVerificationFailedDetailSchema,
} as const satisfies Record<string, z.ZodType>;
/** A detail-type with a documented schema. */
export type DetailType = keyof typeof EVENT_DETAIL_SCHEMAS;
