import type { S3Location } from "../../domain/checkpoint.ts";
import { backoffSeconds } from "../../domain/backoff.ts";
import { ConflictError, RetryLaterError } from "../../domain/errors.ts";
import {
  objectSetArchiveKey,
  objectSetArchivePrefix,
  objectSetManifestKey,
  objectSetSource,
  type FileOwnership,
  type ObjectSetRef,
} from "../../domain/object-set.ts";
import {
  ObjectSetManifestSchema,
  type ObjectSetEntry,
  type ObjectSetManifest,
} from "../../domain/object-set-manifest.ts";
import { parseInput } from "../../domain/validation.ts";
import type { ArchiveStore } from "../../ports/archive-store.ts";
import type { Clock } from "../../ports/messaging.ts";
import { SIMSNAP_VERSION } from "../../version.ts";
import { requireArchiveSettings, type ArchiveSettings } from "../archive/archive-checkpoint.ts";
import { copyVerified } from "../archive/verified-copy.ts";
import { forEachLimited } from "../for-each-limited.ts";
import { listObjectSet, type SetMember } from "./object-set-listing.ts";

/** What archiving a set needs; `archive` as for single snapshot files. */
export interface ArchiveObjectSetDeps {
  storage: ArchiveStore;
  archive: ArchiveSettings | undefined;
  owned: FileOwnership;
  clock: Clock;
}

/** One COMPLETE checkpoint of a files source, as the catalog knows it. */
export interface ArchiveObjectSetRequest extends ObjectSetRef {
  checkpointId: string;
  createdAt: string;
  completedAt?: string;
  /**
   * What discovery cataloged as COMPLETE, when known: a set listed otherwise now was rewritten or
   * partly deleted since, and is not the checkpoint the catalog describes.
   */
  expected?: { objects: number; bytes: number };
  /** The delivery count, for the backoff of a failed verification. */
  attempt?: number;
}

/** What one run did. */
export type ArchiveObjectSetResult =
  | { outcome: "refused"; reason: string }
  | {
      outcome: "archived";
      archive: { bucket: string; prefix: string; storageClass: string };
      manifest: S3Location;
      /** The manifest as written. */
      written: ObjectSetManifest;
      objects: number;
      bytes: number;
      /** Objects copied by this run; the others were already in the archive, verified. */
      copied: number;
    };

/** Copies in flight at once for one set: enough to hide request latency, few enough for S3. */
const COPY_CONCURRENCY = 8;

/**
 * Archives one COMPLETE checkpoint another tool wrote: copies every object of the set (see
 * `listObjectSet`) to `files/<source prefix>/<checkpoint path>/<checkpoint id>/` in the archive
 * bucket, proves each copy equals its source as single snapshot files are (`copyVerified`: S3
 * checksums, or streamed SHA-256 digests), then writes the manifest beside the folder, last, so a
 * manifest means a whole archive. Idempotent: a copy already there and verified is not copied
 * again. A set whose commit marker is missing is refused (PENDING, or a prune under way); a set
 * that differs from what was cataloged, or changes while it is archived (an object's size or ETag
 * differs from the listing, an object appears or goes), fails with a `ConflictError` naming the
 * objects, and no manifest is written.
 */
export async function archiveObjectSet(
  request: ArchiveObjectSetRequest,
  deps: ArchiveObjectSetDeps,
): Promise<ArchiveObjectSetResult> {
  const settings = requireArchiveSettings(deps.archive);
  const owner = objectSetSource(request, deps.owned);
  if ("refusal" in owner) return { outcome: "refused", reason: owner.refusal };
  const { source } = owner;
  const set = { bucket: request.bucket, key: request.key };
  const where = `s3://${set.bucket}/${set.key}`;
  const { members } = await listObjectSet(deps.storage, set);
  if (members.length === 0) return { outcome: "refused", reason: `${where} holds no objects` };
  const marker =
    source.commit.kind === "marker" && set.key.endsWith("/") ? source.commit.marker : undefined;
  if (marker !== undefined && !members.some((m) => m.relativeKey === marker)) {
    return {
      outcome: "refused",
      reason: `${where} has no commit marker ${marker}: it is not whole (PENDING, or being deleted)`,
    };
  }

  const listed = { objects: members.length, bytes: members.reduce((sum, m) => sum + m.size, 0) };
  const { expected } = request;
  if (expected && (expected.objects !== listed.objects || expected.bytes !== listed.bytes)) {
    throw new ConflictError(
      `${where} changed since it was cataloged: ${listed.objects} objects, ${listed.bytes} bytes ` +
        `now, ${expected.objects} objects, ${expected.bytes} bytes then`,
    );
  }

  const prefix = objectSetArchivePrefix(source, set.key, request.checkpointId);
  const retryDelay = backoffSeconds((request.attempt ?? 1) - 1, {
    baseSeconds: settings.retrySeconds,
    maxSeconds: 900,
  });
  const entries: ObjectSetEntry[] = new Array(members.length);
  let copied = 0;
  await forEachLimited([...members.entries()], COPY_CONCURRENCY, async ([index, member]) => {
    const current = await deps.storage.describe(member);
    if (current === undefined || current.size !== member.size || current.etag !== member.etag) {
      throw new ConflictError(
        `${where} changed while it was archived: s3://${member.bucket}/${member.key} is ` +
          (current ? `${current.size} bytes, ETag ${current.etag}` : "gone") +
          `, listed as ${member.size} bytes, ETag ${member.etag}`,
      );
    }
    const destination = {
      bucket: settings.bucket,
      key: objectSetArchiveKey(prefix, member.relativeKey),
    };
    const copy = await copyVerified(deps.storage, current, destination, {
      storageClass: settings.storageClass,
      checksumAlgorithm: settings.checksumAlgorithm,
      metadata: { "simsnap-checkpoint-id": request.checkpointId },
    });
    if (!copy.verification.match) {
      throw new RetryLaterError(
        `Archive copy s3://${destination.bucket}/${destination.key} does not match its source: ${copy.verification.detail}`,
        retryDelay,
      );
    }
    if (copy.copied) copied++;
    entries[index] = {
      key: member.relativeKey,
      size: current.size,
      etag: current.etag,
      lastModified: current.lastModified?.toISOString(),
      checksum: {
        algorithm: copy.verification.algorithm as ObjectSetEntry["checksum"]["algorithm"],
        value: copy.verification.value,
        verification: copy.verification.verification,
      },
    };
  });
  const change = setChange(members, (await listObjectSet(deps.storage, set)).members);
  if (change !== undefined) {
    throw new ConflictError(`${where} changed while it was archived: ${change}`);
  }

  const bytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  const written = parseInput(
    ObjectSetManifestSchema,
    {
      manifestVersion: "1",
      kind: "object-set",
      simsnapVersion: SIMSNAP_VERSION,
      checkpointId: request.checkpointId,
      source: {
        bucket: set.bucket,
        prefix: source.prefix,
        key: set.key,
        layout: source.layout.kind,
        marker,
      },
      archive: { bucket: settings.bucket, prefix, storageClass: settings.storageClass },
      objects: entries,
      totals: { objects: entries.length, bytes },
      times: {
        checkpointCreatedAt: request.createdAt,
        checkpointCompletedAt: request.completedAt,
        archivedAt: deps.clock.now().toISOString(),
      },
    },
    "object-set manifest",
  );
  const manifest = { bucket: settings.bucket, key: objectSetManifestKey(prefix) };
  await deps.storage.put(manifest, JSON.stringify(written, null, 2), "application/json");
  return {
    outcome: "archived",
    archive: { bucket: settings.bucket, prefix, storageClass: settings.storageClass },
    manifest,
    written,
    objects: entries.length,
    bytes,
    copied,
  };
}

/** How a second listing differs from the first (a few keys of each kind), or undefined. */
function setChange(before: readonly SetMember[], after: readonly SetMember[]): string | undefined {
  const first = new Map(before.map((m) => [m.key, m]));
  const second = new Map(after.map((m) => [m.key, m]));
  const added = after.filter((m) => !first.has(m.key)).map((m) => m.key);
  const removed = before.filter((m) => !second.has(m.key)).map((m) => m.key);
  const changed = after
    .filter((m) => {
      const was = first.get(m.key);
      return was !== undefined && (was.size !== m.size || was.etag !== m.etag);
    })
    .map((m) => m.key);
  const parts = (
    [
      ["appeared", added],
      ["went", removed],
      ["changed", changed],
    ] as const
  )
    .filter(([, keys]) => keys.length > 0)
    .map(
      ([what, keys]) =>
        `${keys.length} ${what} (${keys.slice(0, 3).join(", ")}${keys.length > 3 ? ", …" : ""})`,
    );
  return parts.length > 0 ? parts.join("; ") : undefined;
}
