import * as z from "zod";
import type { S3Location } from "./checkpoint.ts";
import { prefixSegments, s3Key } from "./s3-key.ts";
import type { ParsedSnapshotKey } from "./snapshot-key.ts";

/**
 * What the reconciling scan of the snapshot folders waits for on top of the snapshot deadline
 * before it takes a file nobody cataloged for left behind: one period of the sweeper (5 minutes),
 * which fails a job left open past its deadline, plus the status-check step's grace (its queue's
 * visibility timeout and its consumer's timeout, 210 s), rounded up to ten minutes.
 */
export const RECONCILE_MARGIN_SECONDS = 600;

/**
 * How old a snapshot file must be before the scan catalogs it when no S3 event did: the snapshot
 * deadline plus `marginSeconds`. A job whose CreateSnapshot window can hold a file's stamp made
 * its call within seconds of that stamp, so by then every such job has bound its own file (its
 * status checks list the folder until the deadline) or has been failed past its deadline: the
 * one binding decision the scan's way through complete-snapshot can still make is `discovered`,
 * and it can never hand a file to a job, let alone to a neighbour of the job that made it. The
 * S3 event of a file, retries included, is long over by then, so the scan does not race it.
 */
export const reconcileGraceSeconds = (timing: {
  deadlineSeconds: number;
  marginSeconds: number;
}): number => timing.deadlineSeconds + timing.marginSeconds;

/**
 * When a file was last something a job or an event could still act on: the later of its stamp
 * (the CreateSnapshot call) and its write to S3 (a large snapshot is uploaded for minutes after
 * the call, and its event fires only then). A listing without a write time counts as written now,
 * so such a file waits rather than being judged early.
 */
function settledSince(
  file: { lastModified?: Date },
  parsed: Pick<ParsedSnapshotKey, "time">,
  now: Date,
): Date {
  const written = file.lastModified ?? now;
  return written > parsed.time ? written : parsed.time;
}

/** Whether a file is old enough for the scan (see `reconcileGraceSeconds`). */
export const isLeftBehind = (
  file: { lastModified?: Date },
  parsed: Pick<ParsedSnapshotKey, "time">,
  now: Date,
  graceSeconds: number,
): boolean => now.getTime() - settledSince(file, parsed, now).getTime() >= graceSeconds * 1000;

/**
 * Where a bounded scan goes on at its next run: after `startAfter` in the snapshot folder of
 * `prefix`. The empty object starts at the first owned prefix's first key.
 */
export const ReconcileCursorSchema = z.union([
  z.strictObject({ prefix: z.string(), startAfter: z.string().min(1) }),
  z.strictObject({}),
]);
/** See `ReconcileCursorSchema`. */
export type ReconcileCursor = z.infer<typeof ReconcileCursorSchema>;

/**
 * The scan's cursor object, beside the prune reports under the destination prefix's `reports/`
 * (the one folder simsnap writes its own records to): never under a snapshot folder, so the scan
 * never lists it, and written with the grant the reports already have.
 */
export const reconcileCursorLocation = (destination: {
  bucket: string;
  prefix: string;
}): S3Location => ({
  bucket: destination.bucket,
  key: s3Key(
    ...prefixSegments(destination.prefix),
    "reports",
    "reconcile-snapshots",
    "cursor.json",
  ),
});
