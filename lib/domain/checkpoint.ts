import * as z from "zod";
import { IllegalTransitionError } from "./errors.ts";
import { SimulationNameSchema } from "./names.ts";
import { lazySchema } from "./lazy-schema.ts";

/** Lifecycle of a checkpoint. `DELETED` records stay as an audit trail. */
export const CheckpointStateSchema = z.enum(["PENDING", "COMPLETE", "FAILED", "DELETED"]);
/** One of the checkpoint states. */
export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

/** Why a checkpoint exists; `discovered` marks files written by other tools. */
export const CheckpointTriggerSchema = z.enum(["schedule", "shutdown", "manual", "discovered"]);
/** One of the checkpoint triggers. */
export type CheckpointTrigger = z.infer<typeof CheckpointTriggerSchema>;

/** An S3 object address; snapshots and archives are always addressed this way. */
export const S3LocationSchema = z.object({ bucket: z.string().min(1), key: z.string().min(1) });
/** An S3 object address. */
export type S3Location = z.infer<typeof S3LocationSchema>;

/** What went wrong, in the provider's or simsnap's own words. */
export const ErrorInfoSchema = z.object({ code: z.string(), message: z.string() });
/** What went wrong. */
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

const IsoDate = z.iso.datetime({ offset: true });

/** Outcome of one restore test, as the checkpoint records it and its events carry it. */
export const VerificationStatusSchema = z.enum(["PASSED", "FAILED"]);
/** PASSED or FAILED. */
export type VerificationStatus = z.infer<typeof VerificationStatusSchema>;

/**
 * The latest restore test of a checkpoint (`lib/domain/verification.ts`), on its catalog record:
 * retention can keep proven checkpoints and a person sees at a glance which backups were ever
 * restored. `jobId` names the verification job, so a repeated step records its result once.
 */
export const CheckpointVerificationSchema = lazySchema(() =>
  z.object({
    status: VerificationStatusSchema,
    at: IsoDate,
    durationMs: z.number().int().nonnegative(),
    detail: z.string().max(2000),
    jobId: z.string().min(1),
  }),
);
/** The latest restore test of a checkpoint. */
export type CheckpointVerification = z.infer<typeof CheckpointVerificationSchema>;

/**
 * The catalog record of one snapshot file. `version` increments on every write and is the
 * condition of every conditional write, which is what prevents lost updates.
 */
export const CheckpointSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    version: z.number().int().positive(),
    simulation: SimulationNameSchema,
    provider: z.string().min(1),
    run: z.string().optional(),
    name: z.string().max(256),
    description: z.string().max(1024).default(""),
    tags: z.array(z.string().min(1).max(128)).max(50).default([]),
    favorite: z.boolean().default(false),
    state: CheckpointStateSchema,
    trigger: CheckpointTriggerSchema,
    createdAt: IsoDate,
    modifiedAt: IsoDate,
    completedAt: IsoDate.optional(),
    /**
     * The platform's own id of a checkpoint the platform holds (a provider with
     * `checkpointStorage: "platform"`, such as NVIDIA Air); such a checkpoint has no `location`.
     */
    platformId: z.string().min(1).optional(),
    /** Known once the file exists; a PENDING checkpoint has none yet. */
    location: S3LocationSchema.optional(),
    size: z.number().int().nonnegative().optional(),
    etag: z.string().optional(),
    checksum: z.string().optional(),
    /**
     * The training or solver step the checkpoint was written at, when its source names one (a
     * files layout's `{step}`), so retention can keep every Nth step or chosen steps as training
     * tools do. Snapshots of a whole simulation (SimSpace Weaver, NVIDIA Air) have none.
     */
    step: z
      .number({ error: "must be a whole number, 0 or more" })
      .int("must be a whole number, 0 or more")
      .nonnegative("must be a whole number, 0 or more")
      .optional(),
    /**
     * Metric values reported with the checkpoint (e.g. `eval_loss` from `trainer_state.json`), so
     * retention can keep the best ones by a metric; finite numbers only, since NaN or an infinity
     * cannot be ranked.
     */
    metrics: z
      .record(
        z
          .string()
          .min(1, "a metric needs a name")
          .max(256, "a metric name has at most 256 characters"),
        z.number({ error: "must be a finite number" }),
      )
      .optional(),
    /**
     * The verified archive copy. For a snapshot file, `key` is the copy, its manifest beside it; for
     * a set of objects (a files checkpoint), `key` is the set's manifest, beside the folder of
     * copies, and `objects` and `bytes` say what it holds, as the manifest lists it.
     */
    archive: z
      .object({
        bucket: z.string(),
        key: z.string(),
        storageClass: z.string(),
        archivedAt: IsoDate,
        objects: z.number().int().positive().optional(),
        bytes: z.number().int().nonnegative().optional(),
      })
      .optional(),
    error: ErrorInfoSchema.optional(),
    jobId: z.string().optional(),
    /** The latest restore test (`verification` schedule); absent until one has run. */
    verification: CheckpointVerificationSchema.optional(),
    /**
     * Where the bytes of a DELETED checkpoint wait in the trash (`lib/domain/trash.ts`) until
     * `purgeAfter`, so an undelete can bring them back; absent once purged, or when the delete was
     * final (trash off, or a file already gone). For a set of objects (a files checkpoint), `key`
     * is the folder of the set's copies, ending in `/`.
     */
    trash: S3LocationSchema.optional(),
    /**
     * A DELETED checkpoint its platform still holds (`platformId`): a platform keeps no trash
     * simsnap could take it back from, so its delete there waits for the purge after `purgeAfter`,
     * and an undelete until then only brings the record back. Cleared once the platform confirms
     * the delete.
     */
    trashOnPlatform: z.literal(true).optional(),
    /** When the daily purge makes a trashed checkpoint's deletion final. */
    purgeAfter: IsoDate.optional(),
    /** When the purge removed the trashed bytes: from then on the deletion is final. */
    purgedAt: IsoDate.optional(),
  }),
);
/** The catalog record of one snapshot file. */
export type Checkpoint = z.infer<typeof CheckpointSchema>;

const CHECKPOINT_TRANSITIONS: Record<CheckpointState, readonly CheckpointState[]> = {
  PENDING: ["COMPLETE", "FAILED"],
  COMPLETE: ["DELETED"],
  FAILED: [],
  DELETED: [],
};

/** True when the state machine allows `from → to`. */
export const canTransitionCheckpoint = (from: CheckpointState, to: CheckpointState): boolean =>
  CHECKPOINT_TRANSITIONS[from].includes(to);

function transition(
  checkpoint: Checkpoint,
  to: CheckpointState,
  now: Date,
  changes: Partial<Checkpoint>,
): Checkpoint {
  if (!canTransitionCheckpoint(checkpoint.state, to)) {
    throw new IllegalTransitionError(
      `Checkpoint ${checkpoint.id} is ${checkpoint.state} and cannot become ${to}`,
    );
  }
  return {
    ...checkpoint,
    ...changes,
    state: to,
    version: checkpoint.version + 1,
    modifiedAt: now.toISOString(),
  };
}

/**
 * PENDING → COMPLETE once the snapshot file exists; records where and what it is (as confirmed by
 * a HEAD, so the record describes the file actually stored, not what an event claimed).
 */
export const completeCheckpoint = (
  checkpoint: Checkpoint,
  file: { location: S3Location; size?: number; etag?: string; checksum?: string },
  now: Date,
): Checkpoint =>
  transition(checkpoint, "COMPLETE", now, {
    location: file.location,
    size: file.size,
    etag: file.etag,
    checksum: file.checksum,
    completedAt: now.toISOString(),
  });

/** PENDING → FAILED, keeping the reason for the user. */
export const failCheckpoint = (checkpoint: Checkpoint, error: ErrorInfo, now: Date): Checkpoint =>
  transition(checkpoint, "FAILED", now, { error });

/**
 * COMPLETE → DELETED, after its files were removed; the record stays as an audit trail. `reason`
 * is kept when simsnap did not delete it itself (the platform holding it deleted it), so a
 * person reading the record learns why it is gone.
 */
export const markCheckpointDeleted = (
  checkpoint: Checkpoint,
  now: Date,
  reason?: ErrorInfo,
): Checkpoint => transition(checkpoint, "DELETED", now, reason ? { error: reason } : {});

/**
 * PENDING → COMPLETE for a checkpoint the platform holds (`platformId`, no file): the platform
 * saying COMPLETE is what confirms its bytes, as a HEAD of the file does for S3 checkpoints.
 */
export const completeHeldCheckpoint = (checkpoint: Checkpoint, now: Date): Checkpoint =>
  transition(checkpoint, "COMPLETE", now, { completedAt: now.toISOString() });
