import * as z from "zod";
import { knownFieldsOnly } from "./known-fields.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { IllegalTransitionError } from "./errors.ts";
import { lazySchema } from "./lazy-schema.ts";

/** The only fields a user may change; everything else is written by simsnap itself. */
export const EDITABLE_CHECKPOINT_FIELDS = ["name", "description", "tags", "favorite"] as const;

/**
 * A user's change to a checkpoint. Any other field is refused by name, so a client that tries to
 * set `state` or `location` learns it cannot instead of seeing the change silently dropped.
 * Repeated tags are kept once, in their first position.
 */
export const CheckpointPatchSchema = lazySchema(() =>
  knownFieldsOnly(
    {
      name: z.string().trim().min(1, "must not be empty").max(256).optional(),
      description: z.string().max(1024).optional(),
      tags: z
        .array(z.string().trim().min(1, "must not be empty").max(128))
        .max(50)
        .transform((tags) => [...new Set(tags)])
        .optional(),
      favorite: z.boolean().optional(),
    },
    `cannot be changed; only ${EDITABLE_CHECKPOINT_FIELDS.join(", ")} can`,
  ),
);
/** A validated checkpoint change. */
export type CheckpointPatch = z.output<typeof CheckpointPatchSchema>;

const sameTags = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((tag, i) => tag === b[i]);

/**
 * Applies a user's change. A DELETED checkpoint is an audit record and stays as it was; a change
 * that changes nothing returns the checkpoint as it is (same version), so a repeated PATCH writes
 * nothing and cannot conflict with itself.
 */
export function editCheckpoint(
  checkpoint: Checkpoint,
  patch: CheckpointPatch,
  now: Date,
): { checkpoint: Checkpoint; changed: boolean } {
  if (checkpoint.state === "DELETED") {
    throw new IllegalTransitionError(
      `Checkpoint ${checkpoint.id} is DELETED; its record is kept as an audit trail and cannot be edited`,
    );
  }
  const changed =
    (patch.name !== undefined && patch.name !== checkpoint.name) ||
    (patch.description !== undefined && patch.description !== checkpoint.description) ||
    (patch.tags !== undefined && !sameTags(patch.tags, checkpoint.tags)) ||
    (patch.favorite !== undefined && patch.favorite !== checkpoint.favorite);
  if (!changed) return { checkpoint, changed: false };
  return {
    checkpoint: {
      ...checkpoint,
      name: patch.name ?? checkpoint.name,
      description: patch.description ?? checkpoint.description,
      tags: patch.tags ?? checkpoint.tags,
      favorite: patch.favorite ?? checkpoint.favorite,
      version: checkpoint.version + 1,
      modifiedAt: now.toISOString(),
    },
    changed: true,
  };
}
