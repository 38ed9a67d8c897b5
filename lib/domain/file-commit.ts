import * as z from "zod";
import { hasDotSegment } from "./s3-key.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * When a checkpoint another tool writes is whole. S3 has no rename and no transaction: a tool
 * writes a directory checkpoint one object at a time, and a half-written one looks like a small
 * checkpoint. simsnap calls a checkpoint COMPLETE only when the tool says so (a marker object it
 * writes last, such as Orbax's `commit_success.txt`) or, for tools that say nothing, when nothing
 * has been written under it for a quiet period. Until then it is PENDING: never offered for
 * restore, archived, or counted by retention.
 */

/**
 * How a source's checkpoints are known to be whole:
 * - `marker`: the object `marker` exists inside the checkpoint and nothing was written under it
 *   for `settleSeconds` (0 for tools that write the marker last themselves; more when a sync
 *   tool uploads a local checkpoint in any order);
 * - `quiet`: nothing was written under the checkpoint for `quietSeconds`;
 * - `atomic`: a single-object checkpoint, whole as soon as S3 lists it (S3 shows an object only
 *   once its upload is complete).
 */
export type CommitRule =
  | { readonly kind: "marker"; readonly marker: string; readonly settleSeconds: number }
  | { readonly kind: "quiet"; readonly quietSeconds: number }
  | { readonly kind: "atomic" };

/**
 * A path inside a checkpoint (a marker, a sidecar): `/`-separated segments, none empty, `.` or
 * `..`, so that it names one object of the checkpoint and nothing outside it.
 */
export const RelativePathSchema = lazySchema(() =>
  z
    .string()
    .min(1, "must not be empty")
    .refine(
      (path) => !path.startsWith("/") && !path.endsWith("/") && !path.split("/").includes(""),
      'must be a path inside the checkpoint: no leading or trailing "/", no "//"',
    )
    .refine((path) => !hasDotSegment(path), 'must not have a "." or ".." segment'),
);

/** The longest settle or quiet period: a week; a longer one is a typo for a shorter unit. */
const MAX_WAIT_SECONDS = 7 * 86_400;

const seconds = (what: string) =>
  z
    .number({ error: `must be a number of seconds (${what})` })
    .int(`must be a whole number of seconds (${what})`)
    .min(0, `must be 0 or more seconds (${what})`)
    .max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS} seconds (a week)`);

/**
 * A source's commit rule as configured: `{ marker, settleSeconds? }` or `{ quietSeconds }`
 * (single-object layouts take none; see `CommitRule`).
 */
export const CommitConfigSchema = lazySchema(() =>
  z
    .strictObject({
      marker: RelativePathSchema.optional(),
      settleSeconds: seconds("nothing written for this long after the marker is seen").optional(),
      quietSeconds: seconds("nothing written for this long")
        .min(1, "must be at least 1 second: a quiet period of 0 would take any write for whole")
        .optional(),
    })
    .superRefine((commit, ctx) => {
      if ((commit.marker === undefined) === (commit.quietSeconds === undefined)) {
        ctx.addIssue({
          code: "custom",
          message:
            "set either marker (an object the tool writes last, such as commit_success.txt) " +
            "or quietSeconds (no writes for this long), not both or neither",
        });
      }
      if (commit.settleSeconds !== undefined && commit.marker === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["settleSeconds"],
          message: "settleSeconds goes with a marker; use quietSeconds without one",
        });
      }
    }),
);
/** A commit rule as configured, validated. */
export type CommitConfig = z.output<typeof CommitConfigSchema>;

/** The rule a validated commit config stands for. */
export function commitRuleOf(config: CommitConfig): CommitRule {
  return config.marker !== undefined
    ? { kind: "marker", marker: config.marker, settleSeconds: config.settleSeconds ?? 0 }
    : { kind: "quiet", quietSeconds: config.quietSeconds ?? 0 };
}

/**
 * A multipart upload older than this is taken as abandoned (its writer died without aborting
 * it) rather than in progress, so it cannot hold a checkpoint PENDING forever. A day, which is
 * also the shortest `AbortIncompleteMultipartUpload` lifecycle rule S3 offers.
 */
export const ABANDONED_UPLOAD_SECONDS = 86_400;

/** What the commit rule reads of one listed object of a checkpoint. */
export interface SeenObject {
  /** The path inside the checkpoint; `""` or ending in `/` for a directory placeholder. */
  readonly relativePath: string;
  readonly lastModified: Date;
}

/** An upload S3 reports as started but not completed (ListMultipartUploads) under a checkpoint. */
export interface SeenUpload {
  readonly relativePath: string;
  readonly initiated: Date;
}

/** Why a checkpoint is PENDING, in words an operator acts on. */
export type PendingReason =
  /** Nothing but directory placeholders (or nothing at all) is there yet. */
  | "empty"
  /** An upload under it has started and not completed. */
  | "uploading"
  /** The marker object is not there yet. */
  | "no-marker"
  /** The marker is there, but something was written less than `settleSeconds` ago. */
  | "settling"
  /** Something was written less than `quietSeconds` ago. */
  | "writing";

/** The verdict on one checkpoint. */
export type CommitDecision =
  | {
      readonly state: "COMPLETE";
      readonly reason: "committed" | "quiet" | "atomic";
      /** When it became whole: the marker's write, the last write, or the object's write. */
      readonly committedAt: Date;
    }
  | {
      readonly state: "PENDING";
      readonly reason: PendingReason;
      /** When the verdict may change without any new write (a settle or quiet period ends). */
      readonly recheckAt?: Date;
    };

const isPlaceholder = (relativePath: string): boolean =>
  relativePath === "" || relativePath.endsWith("/");

/** The latest of `times` (a loop, not `Math.max(...)`, which overflows the stack on huge sets). */
const latest = (times: readonly Date[]): Date =>
  new Date(times.reduce((max, time) => Math.max(max, time.getTime()), -Infinity));

/**
 * Decides whether a checkpoint is whole, from what a listing shows under it: its objects and the
 * uploads in progress. A checkpoint with an upload in progress is never COMPLETE, whatever the
 * rule: a large object is invisible to a listing until its multipart upload completes, so neither
 * a marker uploaded early (by a sync tool) nor a quiet listing proves the checkpoint whole.
 * Directory placeholders (`dir/` objects some tools create) are part of the checkpoint but do not
 * make it whole on their own. `now` and `lastModified` are compared as they are; S3's clock
 * running ahead of ours only delays a verdict.
 */
export function decideCommit(
  rule: CommitRule,
  seen: { readonly objects: readonly SeenObject[]; readonly uploads?: readonly SeenUpload[] },
  now: Date,
): CommitDecision {
  const live = (seen.uploads ?? []).filter(
    (upload) => now.getTime() - upload.initiated.getTime() < ABANDONED_UPLOAD_SECONDS * 1000,
  );
  if (rule.kind === "atomic") {
    const [object] = seen.objects;
    if (object !== undefined) {
      return { state: "COMPLETE", reason: "atomic", committedAt: object.lastModified };
    }
    return { state: "PENDING", reason: live.length > 0 ? "uploading" : "empty" };
  }
  const files = seen.objects.filter((object) => !isPlaceholder(object.relativePath));
  if (live.length > 0) return { state: "PENDING", reason: "uploading" };
  if (files.length === 0) return { state: "PENDING", reason: "empty" };
  const lastWrite = latest(seen.objects.map((object) => object.lastModified));
  if (rule.kind === "marker") {
    const marker = files.find((file) => file.relativePath === rule.marker);
    if (marker === undefined) return { state: "PENDING", reason: "no-marker" };
    const settled = new Date(lastWrite.getTime() + rule.settleSeconds * 1000);
    if (now < settled) return { state: "PENDING", reason: "settling", recheckAt: settled };
    return { state: "COMPLETE", reason: "committed", committedAt: marker.lastModified };
  }
  const quiet = new Date(lastWrite.getTime() + rule.quietSeconds * 1000);
  if (now < quiet) return { state: "PENDING", reason: "writing", recheckAt: quiet };
  return { state: "COMPLETE", reason: "quiet", committedAt: lastWrite };
}
