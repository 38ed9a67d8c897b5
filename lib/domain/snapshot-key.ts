import { SimSpaceWeaverNameSchema } from "./names.ts";
import { hasDotSegment, prefixSegments, s3Key } from "./s3-key.ts";

/**
 * SimSpace Weaver names each snapshot file `prefix/snapshot/<simulation>-YYMMdd-HHmm-ss.zip`
 * (UTC). Matching an S3 object to the job that asked for it relies on this exact rule, so it lives
 * in one place with its parser.
 */
const FILE_PATTERN = /^(.+)-(\d{2})(\d{2})(\d{2})-(\d{2})(\d{2})-(\d{2})\.zip$/;

const pad = (n: number): string => String(n).padStart(2, "0");

/** Removes leading and trailing slashes so that `a/b/`, `/a/b` and `a/b` name the same prefix. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/^\/+|\/+$/g, "");

/** The folder under which the provider writes a simulation's snapshot files. */
export function snapshotFolder(prefix: string): string {
  return `${s3Key(...prefixSegments(prefix), "snapshot")}/`;
}

/** The key the provider writes for a snapshot of `simulation` taken at `time` (to the second). */
export function snapshotKey(prefix: string, simulation: string, time: Date): string {
  const stamp =
    `${pad(time.getUTCFullYear() % 100)}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}` +
    `-${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}-${pad(time.getUTCSeconds())}`;
  return s3Key(...prefixSegments(prefix), "snapshot", `${simulation}-${stamp}.zip`);
}

/**
 * The prefixes simsnap owns: the configured destination prefix and those the config adopts
 * explicitly (`destination.adoptPrefixes`), normalized and without repeats. Only snapshot files
 * under these are cataloged, pruned, deleted, archived or restored from, so that files another
 * tool writes to the same bucket are never touched.
 */
export function ownedPrefixes(destination: string, adopted: readonly string[] = []): string[] {
  return [...new Set([destination, ...adopted].map(normalizePrefix))];
}

/** The snapshot files simsnap may touch: those under its owned prefixes in its snapshot bucket. */
export interface SnapshotOwnership {
  bucket: string;
  /** See `ownedPrefixes`. */
  prefixes: readonly string[];
}

/** What a snapshot key says about its file. */
export interface ParsedSnapshotKey {
  prefix: string;
  simulation: string;
  time: Date;
}

/**
 * Reads a snapshot key back when it lies in the snapshot folder of one of the `owned` prefixes;
 * `undefined` for any other object (a manifest, a report, a restored copy, a file under a prefix
 * simsnap does not own), so callers ignore what is not one of their snapshots without guessing.
 */
export function parseSnapshotKey(
  key: string,
  owned: readonly string[],
): ParsedSnapshotKey | undefined {
  for (const prefix of owned) {
    const folder = snapshotFolder(prefix);
    if (!key.startsWith(folder)) continue;
    const file = parseFileName(key.slice(folder.length));
    if (file) return { prefix: normalizePrefix(prefix), ...file };
  }
  return undefined;
}

function parseFileName(name: string): Omit<ParsedSnapshotKey, "prefix"> | undefined {
  const match = FILE_PATTERN.exec(name);
  if (!match) return undefined;
  const [, simulation = "", yy, mo, dd, hh, mi, ss] = match;
  // Only SimSpace Weaver writes these files, and only under its own names: a file named for
  // anything else (`My First Simulation-…`, another tool's upload) is not a snapshot of ours.
  if (!SimSpaceWeaverNameSchema.safeParse(simulation).success) return undefined;
  const [year, month, day, hour, minute, second] = [yy, mo, dd, hh, mi, ss].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = new Date(Date.UTC(2000 + year, month - 1, day, hour, minute, second));
  const valid =
    time.getUTCMonth() === month - 1 &&
    time.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  return valid ? { simulation, time } : undefined;
}

/** The parsed snapshot when `location` is one simsnap owns (its bucket, an owned prefix). */
export function parseOwnedSnapshot(
  location: { bucket: string; key: string },
  owned: SnapshotOwnership,
): ParsedSnapshotKey | undefined {
  return location.bucket === owned.bucket
    ? parseSnapshotKey(location.key, owned.prefixes)
    : undefined;
}

/**
 * Why simsnap will not delete or copy from `location`, or undefined when it owns it: a key in the
 * snapshot folder of an owned prefix, in the snapshot bucket, with no `.`, `..` or empty segment
 * (which a tool mapping keys to paths would resolve outside the folder). The file name itself is
 * not checked: IAM scopes deletes to these folders, and this is the same line held in code.
 * Checked by every use case that deletes or copies a cataloged file, so a checkpoint cataloged
 * from a foreign prefix by an older version is skipped or refused, never acted on.
 */
export function ownershipRefusal(
  location: { bucket: string; key: string },
  owned: SnapshotOwnership,
): string | undefined {
  const folders = owned.prefixes.map(snapshotFolder);
  const inFolder =
    location.bucket === owned.bucket &&
    folders.some((folder) => location.key.startsWith(folder)) &&
    !hasDotSegment(location.key) &&
    !location.key.split("/").includes("");
  if (inFolder) return undefined;
  const where = folders.map((folder) => `s3://${owned.bucket}/${folder}`).join(", ");
  return (
    `s3://${location.bucket}/${location.key} is outside the snapshot folders simsnap owns ` +
    `(${where}); adopt its prefix with destination.adoptPrefixes to manage it`
  );
}
