import { manifestKey } from "./archive.ts";
import { classifyKey, type FileSource } from "./file-source.ts";
import { prefixSegments, s3Key } from "./s3-key.ts";

/**
 * A checkpoint another tool writes is a set of objects: every object under a directory prefix
 * (`runs/exp7/checkpoint-1200/`), or one object (`lightning/run/epoch=3-step=1200.ckpt`). Pruning,
 * archiving and restoring act on the whole set, so this module says which objects form a set,
 * which sets and prefixes simsnap may act on at all, and where a set's archive copy lives. Pure:
 * listing, copying and deleting belong to the use cases in `lib/usecases/files/`.
 */

/**
 * The files simsnap may delete, copy from or restore into: the checkpoints of its configured
 * sources, in the bucket those sources are read from. Everything else under the same bucket
 * belongs to the tools that wrote it.
 */
export interface FileOwnership {
  bucket: string;
  sources: readonly FileSource[];
}

/** One checkpoint of a files source, by its checkpoint key (see `SourceKeyMatch.checkpointKey`). */
export interface ObjectSetRef {
  bucket: string;
  /** A directory checkpoint's prefix, ending in `/`, or a single-object checkpoint's key. */
  key: string;
}

/**
 * The source `set` is a whole checkpoint of, or why simsnap will not act on it. A set must be
 * exactly a checkpoint key as discovery computes it (`classifyKey`): strictly inside a source's
 * prefix, matching its layout, with no temporary, empty, `.` or `..` segment. A shorter prefix
 * (`runs/exp7/`, a whole run) or a directory key without its `/` (`checkpoint-12` would also
 * list `checkpoint-120/`) names more than one checkpoint and is refused, since deleting it would
 * delete checkpoints retention decided to keep.
 */
export function objectSetSource(
  set: ObjectSetRef,
  owned: FileOwnership,
): { source: FileSource } | { refusal: string } {
  const where = `s3://${set.bucket}/${set.key}`;
  if (set.bucket !== owned.bucket) {
    return { refusal: `${where} is outside the files bucket ${owned.bucket}` };
  }
  const source = owned.sources.find((s) => set.key.startsWith(`${s.prefix}/`));
  if (source === undefined) {
    const prefixes = owned.sources.map((s) => `s3://${owned.bucket}/${s.prefix}/`).join(", ");
    return {
      refusal: `${where} is outside the files sources simsnap owns (${prefixes || "none"})`,
    };
  }
  if (classifyKey(source, set.key)?.checkpointKey !== set.key) {
    return {
      refusal:
        `${where} is not one checkpoint of the source ${source.prefix} (layout ` +
        `${source.layout.pattern}): simsnap acts on whole checkpoints only`,
    };
  }
  return { source };
}

/** Where an object falls relative to a set. */
export type Membership =
  { kind: "member"; relativeKey: string } | { kind: "left-alone"; reason: string };

const badSegment = (segments: readonly string[]): string | undefined =>
  segments.find((s) => s === "" || s === "." || s === "..");

/**
 * Whether the listed object `key` belongs to the set `setKey`, and its key relative to the set:
 * the path below a directory set's prefix (`""` for the directory's own placeholder object), or
 * the file name of a single-object set, so a restore puts it under the chosen prefix by that name.
 * Undefined for an object outside the set (a listing of `a.ckpt` also shows `a.ckpt.bak`). An
 * object under a directory set with an empty, `.` or `..` segment is `left-alone`: tools mapping
 * keys to paths would resolve it elsewhere, so, as in discovery, simsnap never touches it.
 */
export function membership(setKey: string, key: string): Membership | undefined {
  if (!setKey.endsWith("/")) {
    return key === setKey
      ? { kind: "member", relativeKey: setKey.slice(setKey.lastIndexOf("/") + 1) }
      : undefined;
  }
  if (!key.startsWith(setKey)) return undefined;
  const relativeKey = key.slice(setKey.length);
  if (relativeKey === "") return { kind: "member", relativeKey };
  const named = (relativeKey.endsWith("/") ? relativeKey.slice(0, -1) : relativeKey).split("/");
  const bad = badSegment(named);
  return bad === undefined
    ? { kind: "member", relativeKey }
    : {
        kind: "left-alone",
        reason: `has ${bad === "" ? "an empty" : `a "${bad}"`} segment, which simsnap never touches`,
      };
}

/**
 * A key relative to a set that names an object of it: a placeholder (`""`, `sub/`) or a path
 * with no empty, `.` or `..` segment and no leading `/`. A manifest's keys are checked with it,
 * so an edited manifest cannot steer a restore outside the chosen prefix.
 */
export function isSafeRelativeKey(relativeKey: string): boolean {
  if (relativeKey === "") return true;
  const named = relativeKey.endsWith("/") ? relativeKey.slice(0, -1) : relativeKey;
  return badSegment(named.split("/")) === undefined;
}

/**
 * Where a set's archive copy lives: `files/<source prefix>/<checkpoint path>/<checkpoint id>/`,
 * each segment spelt by `s3Key`. Stable, so a retry finds what it copied; browsable by the
 * tool's own names; and the checkpoint id keeps two checkpoints cataloged at one key (a tool
 * rewriting a checkpoint in place) from sharing one copy. `files/` sets these apart from
 * simsnap's own snapshot archives (`<simulation>/<yyyy>/<mm>/<file>`, always four segments; a
 * set's objects lie at least five deep).
 */
export function objectSetArchivePrefix(
  source: Pick<FileSource, "prefix">,
  setKey: string,
  checkpointId: string,
): string {
  const path = prefixSegments(setKey.slice(source.prefix.length + 1));
  return `${s3Key("files", ...prefixSegments(source.prefix), ...path, checkpointId)}/`;
}

/**
 * The archive key of one object of a set: its relative key under the archive prefix, spelt
 * segment by segment (a placeholder `""` becomes `!empty`, so no archive key ends in `/`).
 */
export const objectSetArchiveKey = (archivePrefix: string, relativeKey: string): string =>
  archivePrefix + s3Key(...relativeKey.split("/"));

/** The manifest sits beside the set's archive folder: `…/<checkpoint id>.manifest.json`. */
export const objectSetManifestKey = (archivePrefix: string): string =>
  manifestKey(archivePrefix.slice(0, -1));

/**
 * The archive folder a set's manifest key describes (`objectSetManifestKey` backwards), or
 * undefined for a key no set's manifest has: archive retention lists and deletes under it, so a
 * catalog record must not steer it at the bucket's root or at snapshot archives.
 */
export function objectSetArchivePrefixOf(manifest: string): string | undefined {
  const suffix = ".manifest.json";
  if (!manifest.startsWith("files/") || !manifest.endsWith(suffix)) return undefined;
  const folder = manifest.slice(0, -suffix.length);
  const segments = folder.split("/");
  // files/<source prefix>/<checkpoint path>/<checkpoint id>: four segments at least.
  return segments.length < 4 || segments.includes("") ? undefined : `${folder}/`;
}

/**
 * A restore target as a prefix: leading and trailing `/` trimmed, then one `/` appended, so
 * `restored/exp7` cannot turn `model.bin` into `restored/exp7model.bin`. Undefined for an empty
 * prefix (the bucket's root, which no source owns).
 */
export function targetPrefixOf(text: string): string | undefined {
  const trimmed = text.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? undefined : `${trimmed}/`;
}

/**
 * Why simsnap will not restore a set under `prefix` (as `targetPrefixOf` gives it), or undefined
 * when it may: strictly inside a source's prefix in the files bucket, with no empty, `.` or `..`
 * segment, and not inside another checkpoint's directory (the restored objects would become part
 * of that checkpoint, and be deleted with it). The prefix of a checkpoint itself is allowed: that
 * is how a pruned checkpoint is put back where the tool will find it.
 */
export function restoreTargetRefusal(
  target: { bucket: string; prefix: string },
  owned: FileOwnership,
): string | undefined {
  const where = `s3://${target.bucket}/${target.prefix}`;
  if (target.bucket !== owned.bucket) return `${where} is outside the files bucket ${owned.bucket}`;
  if (!target.prefix.endsWith("/") || badSegment(target.prefix.slice(0, -1).split("/"))) {
    return `${where} is not a prefix of "/"-separated segments without empty, "." or ".." ones`;
  }
  const source = owned.sources.find(
    (s) => target.prefix.startsWith(`${s.prefix}/`) && target.prefix !== `${s.prefix}/`,
  );
  if (source === undefined) {
    const prefixes = owned.sources.map((s) => `s3://${owned.bucket}/${s.prefix}/`).join(", ");
    return `${where} is not strictly inside a files source simsnap owns (${prefixes || "none"})`;
  }
  const inside = classifyKey(source, target.prefix)?.checkpointKey;
  if (inside !== undefined && inside !== target.prefix) {
    return `${where} is inside the checkpoint s3://${owned.bucket}/${inside}; restore beside it`;
  }
  return undefined;
}
