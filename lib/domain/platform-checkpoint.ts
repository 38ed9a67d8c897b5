import {
  completeHeldCheckpoint,
  failCheckpoint,
  markCheckpointDeleted,
  type Checkpoint,
  type ErrorInfo,
} from "./checkpoint.ts";
import { deterministicId } from "./ids.ts";
import type { StopCall } from "./stop.ts";

/**
 * A checkpoint as the platform holding it describes it (the provider port's `PlatformCheckpoint`,
 * restated here so the rules below stay free of ports).
 */
export interface HeldCheckpoint {
  id: string;
  simulation: string;
  run?: string;
  state: "PENDING" | "COMPLETE" | "DELETED";
  name: string;
  favorite: boolean;
  created: Date;
  modified: Date;
}

/** The fields of a held checkpoint that both simsnap and the platform may change. */
export interface HeldCheckpointFields {
  name?: string;
  favorite?: boolean;
}

/**
 * The catalog id of a platform's checkpoint: derived from the provider and the platform's own id,
 * so every sync, every re-check of a stop and every retry of either addresses the same record and
 * a conditional create makes the repeats no-ops.
 */
export const heldCheckpointId = (provider: string, platformId: string): string =>
  deterministicId("platform-checkpoint", provider, platformId);

/** The newest `created` among a simulation's platform checkpoints, or undefined when it has none. */
export function newestCreated(
  listed: readonly Pick<HeldCheckpoint, "created">[],
): string | undefined {
  let newest: number | undefined;
  for (const checkpoint of listed) {
    const time = checkpoint.created.getTime();
    if (newest === undefined || time > newest) newest = time;
  }
  return newest === undefined ? undefined : new Date(newest).toISOString();
}

/** Which of the platform's checkpoints a stop's call produced. */
export type FinalCheckpointMatch<T> =
  { kind: "none" } | { kind: "one"; checkpoint: T } | { kind: "ambiguous"; ids: string[] };

/**
 * The final checkpoint of a stop made through a checkpoint-on-stop platform: the one checkpoint
 * created after the newest the simulation had before the call. Both times are the platform's, so
 * no clock skew is involved. Two or more such checkpoints (someone restarted and stopped the
 * simulation in between) are ambiguous: simsnap never guesses between them, it records less.
 */
export function matchFinalCheckpoint<T extends Pick<HeldCheckpoint, "id" | "created">>(
  listed: readonly T[],
  call: Pick<StopCall, "newestBefore">,
): FinalCheckpointMatch<T> {
  const after = call.newestBefore === undefined ? -Infinity : Date.parse(call.newestBefore);
  const candidates = listed.filter((checkpoint) => checkpoint.created.getTime() > after);
  const [only, ...others] = candidates;
  if (only === undefined) return { kind: "none" };
  if (others.length > 0) return { kind: "ambiguous", ids: candidates.map((c) => c.id) };
  return { kind: "one", checkpoint: only };
}

/**
 * Where a name or favorite that differs between the catalog and the platform goes: the side
 * changed last wins, judged by the platform's `modified` against the record's `modifiedAt` (a tie
 * goes to the platform, which holds the checkpoint). `pull` takes the platform's values into the
 * record, `push` PATCHes the record's to the platform. The record's `modifiedAt` moves with every
 * catalog write, and the two times come from two clocks: a platform rename older than a later,
 * unrelated catalog write (a description edit) loses to the catalog's value.
 */
export function reconcileFields(
  record: Pick<Checkpoint, "name" | "favorite" | "modifiedAt">,
  held: Pick<HeldCheckpoint, "name" | "favorite" | "modified">,
): { pull?: Required<HeldCheckpointFields>; push?: HeldCheckpointFields } {
  const name = record.name !== held.name;
  const favorite = record.favorite !== held.favorite;
  if (!name && !favorite) return {};
  if (held.modified.getTime() >= Date.parse(record.modifiedAt)) {
    return { pull: { name: held.name, favorite: held.favorite } };
  }
  return {
    push: {
      ...(name ? { name: record.name } : {}),
      ...(favorite ? { favorite: record.favorite } : {}),
    },
  };
}

/** The reason a record keeps when the platform deleted its checkpoint. */
export const deletedByPlatform = (provider: string, platformId: string): ErrorInfo => ({
  code: "DeletedByPlatform",
  message: `Checkpoint ${platformId} was deleted by the platform (${provider}), not by simsnap`,
});

/** The job of ours a newly seen checkpoint belongs to (a stop that asked the platform for it). */
export interface Attribution {
  jobId: string;
  description?: string;
}

/** What mirroring one platform checkpoint into the catalog does. */
export type MirrorStep =
  | { action: "none" }
  | { action: "create"; record: Checkpoint }
  | { action: "save"; record: Checkpoint; push?: HeldCheckpointFields }
  | { action: "push"; push: HeldCheckpointFields };

/** What mirroring needs to know besides the record and the platform's checkpoint. */
export interface MirrorContext {
  provider: string;
  simulation: string;
  now: Date;
  attribution?: Attribution;
}

const NAME_LIMIT = 256;

function newRecord(held: HeldCheckpoint, context: MirrorContext): Checkpoint | undefined {
  // A checkpoint first seen DELETED has nothing left to manage: it is not recorded at all.
  if (held.state === "DELETED") return undefined;
  const now = context.now.toISOString();
  const { attribution } = context;
  return {
    id: heldCheckpointId(context.provider, held.id),
    version: 1,
    simulation: context.simulation,
    provider: context.provider,
    ...(held.run === undefined ? {} : { run: held.run }),
    platformId: held.id,
    name: held.name.slice(0, NAME_LIMIT),
    description: attribution?.description ?? "",
    tags: [],
    favorite: held.favorite,
    state: held.state,
    trigger: attribution ? "shutdown" : "discovered",
    createdAt: held.created.toISOString(),
    modifiedAt: now,
    ...(held.state === "COMPLETE" ? { completedAt: now } : {}),
    ...(attribution ? { jobId: attribution.jobId } : {}),
  };
}

/**
 * The one rule of the catalog mirror, for one checkpoint: a new platform checkpoint becomes a
 * record (trigger `shutdown` when a stop of ours asked for it, else `discovered`), PENDING or
 * COMPLETE as the platform says; COMPLETE only once the platform says so, which is what confirms
 * the bytes of a checkpoint no file of simsnap's holds. A checkpoint the platform deleted (or no
 * longer knows: `held` undefined) becomes DELETED with the reason, or FAILED if it never
 * completed. Names and favorites follow `reconcileFields`. Applying the step and deciding again on
 * the result yields `none`, so a repeated sync changes nothing.
 */
export function mirrorCheckpoint(
  existing: Checkpoint | undefined,
  held: HeldCheckpoint | undefined,
  context: MirrorContext,
): MirrorStep {
  if (!existing) {
    const record = held && newRecord(held, context);
    return record ? { action: "create", record } : { action: "none" };
  }
  if (existing.state === "FAILED" || existing.state === "DELETED") return { action: "none" };
  const platformId = existing.platformId ?? held?.id ?? "";
  if (!held || held.state === "DELETED") {
    const reason = deletedByPlatform(context.provider, platformId);
    const record =
      existing.state === "PENDING"
        ? failCheckpoint(
            existing,
            { ...reason, message: `${reason.message}, before it completed` },
            context.now,
          )
        : markCheckpointDeleted(existing, context.now, reason);
    return { action: "save", record };
  }

  const { pull, push } = reconcileFields(existing, held);
  const { attribution } = context;
  const adopt =
    attribution !== undefined && existing.trigger === "discovered" && existing.jobId === undefined;
  const fields: Partial<Checkpoint> = {
    ...(pull ? { name: pull.name.slice(0, NAME_LIMIT), favorite: pull.favorite } : {}),
    ...(adopt
      ? {
          trigger: "shutdown" as const,
          jobId: attribution.jobId,
          description: existing.description || (attribution.description ?? ""),
        }
      : {}),
  };
  const completes = existing.state === "PENDING" && held.state === "COMPLETE";
  if (!completes && Object.keys(fields).length === 0) {
    return push ? { action: "push", push } : { action: "none" };
  }
  const record = completes
    ? completeHeldCheckpoint({ ...existing, ...fields }, context.now)
    : {
        ...existing,
        ...fields,
        version: existing.version + 1,
        modifiedAt: context.now.toISOString(),
      };
  return push ? { action: "save", record, push } : { action: "save", record };
}
