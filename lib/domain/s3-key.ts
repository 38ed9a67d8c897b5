import * as z from "zod";
import { ValidationError } from "./errors.ts";

/**
 * Every S3 key simsnap builds (snapshot folders, archive copies, restored files, prune reports)
 * is joined from segments here, because the segments come from names simsnap does not choose:
 * SimSpace Weaver allows simulations named `.` and `..`, and file names come from other keys. S3
 * itself treats a key as opaque text, but everything that maps keys onto a file system (s3rver in
 * the local stack, `aws s3 sync`, backup tools, folder views) resolves `.` and `..` and collapses
 * `//`: a key with such a segment could land outside its folder, or two names share one file.
 * So such segments get a spelling of their own, and the result can never start with `/`.
 *
 * The spelling uses `!` (one of S3's documented safe characters, and in no SimSpace Weaver name):
 * a segment `.` is `!dot`, `..` is `!dotdot`, an empty one `!empty`, and a `!` in any other
 * segment is doubled, so two different segments never share a spelling. Names simsnap meets in
 * practice (letters, digits, `_ . -`, `a..b`) are left exactly as they are.
 */
const SPECIAL: Readonly<Record<string, string>> = { "": "!empty", ".": "!dot", "..": "!dotdot" };

/**
 * One key segment, spelt safely (see above). A `/` inside a segment is refused rather than
 * encoded: segments are names and file names, none of which may contain one, so a `/` here is a
 * caller joining a path by hand, which is what this module exists to prevent.
 */
export function keySegment(text: string): string {
  if (text.includes("/")) {
    throw new ValidationError(`S3 key segment ${JSON.stringify(text)} must not contain "/"`, [
      { path: "segment", message: 'must not contain "/"' },
    ]);
  }
  return SPECIAL[text] ?? text.replaceAll("!", "!!");
}

/**
 * The segment `keySegment` spelt as `spelt` (its inverse), so a key built from a path can be read
 * back into that path: the trash keeps a set's objects under spelt keys and puts them back.
 */
export function segmentOfSpelling(spelt: string): string {
  const special = Object.entries(SPECIAL).find(([, spelling]) => spelling === spelt);
  return special ? special[0] : spelt.replaceAll("!!", "!");
}

/**
 * An S3 key from its segments, each spelt by `keySegment`: no `.`/`..` segment, no leading `/`.
 * No segments at all would be the empty key, which S3 refuses; it is refused here first.
 */
export function s3Key(...segments: string[]): string {
  if (segments.length === 0) {
    throw new ValidationError("An S3 key needs at least one segment", [
      { path: "segments", message: "must not be empty" },
    ]);
  }
  return segments.map(keySegment).join("/");
}

/**
 * The segments of a configured prefix (`a/b/`, `/a/b` and `a//b` all give `a`, `b`), to spread
 * into `s3Key`; an empty prefix has none, so its keys start at the bucket's root.
 */
export const prefixSegments = (prefix: string): string[] =>
  prefix.split("/").filter((segment) => segment !== "");

/**
 * True when a `/`-separated path has a `.` or `..` segment. Configured prefixes are checked with
 * it: the provider writes under the prefix as given, so one cannot be re-spelt, only refused.
 */
export const hasDotSegment = (path: string): boolean =>
  path.split("/").some((segment) => segment === "." || segment === "..");

/**
 * Key segments separated by `/`; the provider appends `snapshot/<name>-<time>.zip`. A `.` or `..`
 * segment is refused: the provider writes under the prefix as given, so it cannot be re-spelt
 * safely (see `s3Key`), and a tool mapping keys to paths would resolve it outside the prefix.
 * Here, not with the config file's schema, because every function checks its prefixes at init
 * (`SIMSNAP_SNAPSHOT_PREFIX`) and none needs the config file's schema for it (docs/scale.md).
 */
export const SnapshotPrefixSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
    'must be key segments separated by "/", with no leading or trailing "/"',
  )
  .refine((prefix) => !hasDotSegment(prefix), 'must not have a "." or ".." segment');
