import { needsThaw, type ChecksumAlgorithm } from "../../domain/archive.ts";
import type { S3Location } from "../../domain/checkpoint.ts";
import { RetryLaterError } from "../../domain/errors.ts";
import {
  objectSetArchiveKey,
  objectSetArchivePrefix,
  restoreTargetRefusal,
  targetPrefixOf,
  type FileOwnership,
} from "../../domain/object-set.ts";
import { ObjectSetManifestSchema, type ObjectSetEntry } from "../../domain/object-set-manifest.ts";
import { parseInput } from "../../domain/validation.ts";
import type { ArchiveStore, RestoreTier, StoredObject } from "../../ports/archive-store.ts";
import { forEachLimited } from "../for-each-limited.ts";

/** What restoring a set needs. */
export interface RestoreObjectSetDeps {
  storage: ArchiveStore;
  /** Where a set may be restored to: inside a source's prefix (see `restoreTargetRefusal`). */
  owned: FileOwnership;
  /** The only bucket an archive is read from; a manifest naming another is refused. */
  archiveBucket: string | undefined;
  /** The checksum S3 is asked to compute on each restored copy. */
  checksumAlgorithm: ChecksumAlgorithm;
  /** How an archive in a cold storage class is made readable. */
  thaw: { days: number; tier: RestoreTier };
  /** When a restored copy does not match, how long before trying again. */
  retrySeconds: number;
}

/** A restore of one archived set: its manifest (as read from the archive) and where to. */
export interface RestoreObjectSetRequest {
  /** Checked against `ObjectSetManifestSchema`: it is read from a bucket, so it is input. */
  manifest: unknown;
  /** Under this prefix, in the files bucket; `restored/exp7` and `restored/exp7/` are one. */
  targetPrefix: string;
}

/** What one run did. */
export type RestoreObjectSetResult =
  | { outcome: "refused"; reason: string }
  /** Some archived objects are cold: restore requests are made; run again once they are ready. */
  | { outcome: "thawing"; waiting: number; requested: number }
  | {
      outcome: "restored";
      /** `s3://bucket/prefix/`, what a training tool is pointed at to resume. */
      uri: string;
      target: { bucket: string; prefix: string };
      objects: number;
      bytes: number;
      /** Objects copied by this run; the others were already there and matched the manifest. */
      copied: number;
    };

/** Archive objects described, and copies made, at once for one set. */
const CONCURRENCY = 8;

/**
 * Why `object` does not hold what `entry` records, or undefined when it does: the size, then the
 * checksum, compared with S3's own full-object checksum of the same algorithm when the object has
 * one (no byte read, the AWS case), else with a SHA-256 streamed from it. A manifest checksum of
 * another algorithm cannot be recomputed by reading, so an object without it is not proven.
 */
async function manifestMismatch(
  storage: Pick<ArchiveStore, "digest">,
  object: StoredObject,
  entry: ObjectSetEntry,
): Promise<string | undefined> {
  const where = `s3://${object.bucket}/${object.key}`;
  if (object.size !== entry.size) {
    return `${where} is ${object.size} bytes, the manifest says ${entry.size}`;
  }
  const { algorithm, value } = entry.checksum;
  if (object.checksum?.type === "FULL_OBJECT" && object.checksum.algorithm === algorithm) {
    return object.checksum.value === value
      ? undefined
      : `${where} has ${algorithm} ${object.checksum.value}, the manifest says ${value}`;
  }
  if (algorithm === "SHA256") {
    const actual = await storage.digest(object);
    return actual === value
      ? undefined
      : `${where} has SHA-256 ${actual}, the manifest says ${value}`;
  }
  return `${where} carries no ${algorithm} checksum to compare with the manifest's`;
}

const summary = (problems: readonly string[]): string =>
  `${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; and ${problems.length - 5} more` : ""}`;

/**
 * Restores an archived checkpoint another tool wrote under a chosen prefix, so the tool resumes
 * from it, and returns the prefix's S3 URI. Nothing is copied until the archive is shown to agree
 * with its manifest (every object there, of its size and checksum, in the folder the manifest's
 * own checkpoint id and key give, so an edited manifest cannot point elsewhere in the archive
 * bucket) and the target is shown to be
 * free (inside an owned source, outside any other checkpoint, holding nothing but objects of this
 * manifest that match it: a re-run after a crash skips those). Cold archive objects get S3
 * restore requests first (`thawing`: run again later). Every copy is checked against the
 * manifest, a copy that does not match is deleted again, and the commit marker is copied last, so
 * discovery never sees a restored set as whole before it is.
 */
export async function restoreObjectSet(
  request: RestoreObjectSetRequest,
  deps: RestoreObjectSetDeps,
): Promise<RestoreObjectSetResult> {
  const manifest = parseInput(ObjectSetManifestSchema, request.manifest, "object-set manifest");
  const refuse = (reason: string): RestoreObjectSetResult => ({ outcome: "refused", reason });
  if (deps.archiveBucket === undefined || manifest.archive.bucket !== deps.archiveBucket) {
    return refuse(
      `the manifest's archive s3://${manifest.archive.bucket}/${manifest.archive.prefix} is not in ` +
        `the archive bucket ${deps.archiveBucket ?? "(none configured)"}`,
    );
  }
  const archivePrefix = objectSetArchivePrefix(
    manifest.source,
    manifest.source.key,
    manifest.checkpointId,
  );
  if (manifest.archive.prefix !== archivePrefix) {
    return refuse(
      `the manifest's archive prefix ${manifest.archive.prefix} is not where checkpoint ` +
        `${manifest.checkpointId} of s3://${manifest.source.bucket}/${manifest.source.key} is archived (${archivePrefix})`,
    );
  }
  const prefix = targetPrefixOf(request.targetPrefix);
  const target = { bucket: deps.owned.bucket, prefix: prefix ?? "" };
  const targetRefusal =
    prefix === undefined
      ? "a restore needs a target prefix, not the bucket's root"
      : restoreTargetRefusal(target, deps.owned);
  if (targetRefusal !== undefined) return refuse(targetRefusal);

  const archived = new Map<string, StoredObject>();
  const missing: string[] = [];
  await forEachLimited(manifest.objects, CONCURRENCY, async (entry) => {
    const location = {
      bucket: manifest.archive.bucket,
      key: objectSetArchiveKey(manifest.archive.prefix, entry.key),
    };
    const object = await deps.storage.describe(location);
    if (object === undefined) missing.push(`s3://${location.bucket}/${location.key} is missing`);
    else if (object.size !== entry.size) {
      missing.push(
        `s3://${location.bucket}/${location.key} is ${object.size} bytes, the manifest says ${entry.size}`,
      );
    } else archived.set(entry.key, object);
  });
  const disagree = (problems: string[]) =>
    refuse(
      `the archive of checkpoint ${manifest.checkpointId} disagrees with its manifest: ${summary(problems)}`,
    );
  if (missing.length > 0) return disagree(missing);

  const cold = [...archived.values()].filter(needsThaw);
  if (cold.length > 0) {
    let requested = 0;
    for (const object of cold.filter((o) => !o.restore?.ongoing)) {
      if ((await deps.storage.requestRestore(object, deps.thaw)) === "requested") requested++;
    }
    return { outcome: "thawing", waiting: cold.length, requested };
  }
  const byKey = new Map(manifest.objects.map((entry) => [entry.key, entry]));
  const archiveOf = (entry: ObjectSetEntry): StoredObject =>
    archived.get(entry.key) as StoredObject;
  const mismatches: string[] = [];
  await forEachLimited(manifest.objects, CONCURRENCY, async (entry) => {
    const problem = await manifestMismatch(deps.storage, archiveOf(entry), entry);
    if (problem !== undefined) mismatches.push(problem);
  });
  if (mismatches.length > 0) return disagree(mismatches);

  const listed: ObjectSetEntry[] = [];
  const foreign: string[] = [];
  for await (const object of deps.storage.list(target.bucket, target.prefix)) {
    const entry = byKey.get(object.key.slice(target.prefix.length));
    if (entry !== undefined) listed.push(entry);
    else foreign.push(object.key);
  }
  const uri = `s3://${target.bucket}/${target.prefix}`;
  if (foreign.length > 0) {
    return refuse(
      `${uri} already holds ${foreign.length} object(s) that are not part of checkpoint ` +
        `${manifest.checkpointId} (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}); choose an empty prefix`,
    );
  }
  const present = new Set<string>();
  const overwrites: string[] = [];
  await forEachLimited(listed, CONCURRENCY, async (entry) => {
    const existing = await deps.storage.describe({
      bucket: target.bucket,
      key: target.prefix + entry.key,
    });
    if (existing === undefined) return;
    const problem = await manifestMismatch(deps.storage, existing, entry);
    if (problem === undefined) present.add(entry.key);
    else overwrites.push(problem);
  });
  if (overwrites.length > 0) {
    return refuse(
      `${uri} already holds other versions of this checkpoint's objects: ${summary(overwrites)}`,
    );
  }

  let copied = 0;
  const restore = async (entry: ObjectSetEntry): Promise<void> => {
    if (present.has(entry.key)) return;
    const destination: S3Location = { bucket: target.bucket, key: target.prefix + entry.key };
    const result = await deps.storage.copy(archiveOf(entry), destination, {
      storageClass: "STANDARD",
      checksumAlgorithm: deps.checksumAlgorithm,
      metadata: { "simsnap-checkpoint-id": manifest.checkpointId },
    });
    const written = await deps.storage.describe(destination);
    const problem = written
      ? await manifestMismatch(
          deps.storage,
          { ...written, checksum: written.checksum ?? result.checksum },
          entry,
        )
      : `the copy s3://${destination.bucket}/${destination.key} is not there`;
    if (problem !== undefined) {
      await deps.storage.deleteMany(destination.bucket, [destination.key]);
      throw new RetryLaterError(
        `A restored object does not match the manifest: ${problem}`,
        deps.retrySeconds,
      );
    }
    copied++;
  };
  const marker = manifest.source.marker;
  await forEachLimited(
    manifest.objects.filter((entry) => entry.key !== marker),
    CONCURRENCY,
    restore,
  );
  const markerEntry = marker === undefined ? undefined : byKey.get(marker);
  if (markerEntry !== undefined) await restore(markerEntry);
  return {
    outcome: "restored",
    uri,
    target,
    objects: manifest.totals.objects,
    bytes: manifest.totals.bytes,
    copied,
  };
}
