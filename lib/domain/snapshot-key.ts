import { SimulationNameSchema } from "./names.ts";

/**
 * SimSpace Weaver names each snapshot file `prefix/snapshot/<simulation>-YYMMdd-HHmm-ss.zip`
 * (UTC). Matching an S3 object to the job that asked for it relies on this exact rule, so it lives
 * in one place with its parser.
 */
const KEY_PATTERN = /^(?:(.*)\/)?snapshot\/(.+)-(\d{2})(\d{2})(\d{2})-(\d{2})(\d{2})-(\d{2})\.zip$/;

const pad = (n: number): string => String(n).padStart(2, "0");

/** Removes leading and trailing slashes so that `a/b/`, `/a/b` and `a/b` name the same prefix. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/^\/+|\/+$/g, "");

/** The folder under which the provider writes a simulation's snapshot files. */
export function snapshotFolder(prefix: string): string {
  const clean = normalizePrefix(prefix);
  return clean === "" ? "snapshot/" : `${clean}/snapshot/`;
}

/** The key the provider writes for a snapshot of `simulation` taken at `time` (to the second). */
export function snapshotKey(prefix: string, simulation: string, time: Date): string {
  const stamp =
    `${pad(time.getUTCFullYear() % 100)}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}` +
    `-${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}-${pad(time.getUTCSeconds())}`;
  return `${snapshotFolder(prefix)}${simulation}-${stamp}.zip`;
}

/** What a snapshot key says about its file. */
export interface ParsedSnapshotKey {
  prefix: string;
  simulation: string;
  time: Date;
}

/**
 * Reads a snapshot key back; `undefined` for any other object (a manifest, a report, a foreign
 * file), so callers can ignore what is not a snapshot without guessing.
 */
export function parseSnapshotKey(key: string): ParsedSnapshotKey | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, prefix = "", simulation = "", yy, mo, dd, hh, mi, ss] = match;
  if (!SimulationNameSchema.safeParse(simulation).success) return undefined;
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
  return valid ? { prefix, simulation, time } : undefined;
}
