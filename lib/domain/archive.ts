import * as z from "zod";
import type { Checkpoint, S3Location } from "./checkpoint.ts";
import { ValidationError } from "./errors.ts";
import { s3Key } from "./s3-key.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * The storage classes an archive copy may be written in. S3 has more (REDUCED_REDUNDANCY,
 * OUTPOSTS, EXPRESS_ONEZONE, SNOW), none of which suits a long-term copy in a regional bucket, so
 * they are refused when the setting is read rather than by S3 at the first archive.
 */
export const ArchiveStorageClassSchema = lazySchema(() =>
  z.enum(
    [
      "STANDARD",
      "STANDARD_IA",
      "ONEZONE_IA",
      "INTELLIGENT_TIERING",
      "GLACIER_IR",
      "GLACIER",
      "DEEP_ARCHIVE",
    ],
    {
      error:
        "must be one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, " +
        "GLACIER, DEEP_ARCHIVE",
    },
  ),
);
/** A storage class an archive copy may be written in. */
export type ArchiveStorageClass = z.infer<typeof ArchiveStorageClassSchema>;

/**
 * Classes whose objects cannot be read until an S3 restore request has made a temporary copy;
 * a restore from such an archive has to ask for one and wait (minutes to two days).
 */
const COLD_CLASSES: ReadonlySet<string> = new Set(["GLACIER", "DEEP_ARCHIVE"]);

/**
 * The checksum algorithms S3 computes server-side. CRC64NVME is S3's default for new objects and
 * the one that stays a full-object checksum through a multipart copy; SHA-256 is the choice of
 * users whose compliance rules name it.
 */
export const ChecksumAlgorithmSchema = lazySchema(() =>
  z.enum(["CRC64NVME", "SHA256"], {
    error: "must be CRC64NVME or SHA256",
  }),
);
/** A checksum algorithm simsnap asks S3 to compute for archive copies. */
export type ChecksumAlgorithm = z.infer<typeof ChecksumAlgorithmSchema>;

/**
 * A checksum as S3 reports it (base64 value). Only `FULL_OBJECT` checksums of two objects can be
 * compared: a `COMPOSITE` one is a checksum of part checksums and depends on the part sizes.
 */
export interface ObjectChecksum {
  algorithm: "CRC64NVME" | "CRC32" | "CRC32C" | "SHA1" | "SHA256";
  value: string;
  type: "FULL_OBJECT" | "COMPOSITE";
}

/** S3's own limits on copies, which every copy plan must respect. */
export const S3_COPY_LIMITS = {
  /** Largest object one CopyObject request may copy. */
  maxSingleCopyBytes: 5 * 1024 ** 3,
  minPartBytes: 5 * 1024 ** 2,
  maxPartBytes: 5 * 1024 ** 3,
  maxParts: 10_000,
  maxObjectBytes: 5 * 1024 ** 4,
} as const;

/** How large objects are copied: above `thresholdBytes`, in parts of at least `partBytes`. */
export interface CopyTuning {
  thresholdBytes: number;
  partBytes: number;
}

/** S3's single-copy limit as the threshold, and 512 MiB parts (a 5 GiB object in 10 parts). */
export const DEFAULT_COPY_TUNING: CopyTuning = {
  thresholdBytes: S3_COPY_LIMITS.maxSingleCopyBytes,
  partBytes: 512 * 1024 ** 2,
};

/**
 * Checks copy tuning against S3's limits, so a mistaken setting fails when it is read instead of
 * as an `EntityTooSmall` half-way through a multi-gigabyte copy.
 */
export function checkCopyTuning(tuning: CopyTuning): CopyTuning {
  const { minPartBytes, maxPartBytes, maxSingleCopyBytes } = S3_COPY_LIMITS;
  const issues: { path: string; message: string }[] = [];
  if (!Number.isInteger(tuning.partBytes) || tuning.partBytes < minPartBytes) {
    issues.push({ path: "partBytes", message: `must be an integer of at least ${minPartBytes}` });
  } else if (tuning.partBytes > maxPartBytes) {
    issues.push({ path: "partBytes", message: `must be at most ${maxPartBytes}` });
  }
  if (
    !Number.isInteger(tuning.thresholdBytes) ||
    tuning.thresholdBytes < 0 ||
    tuning.thresholdBytes > maxSingleCopyBytes
  ) {
    issues.push({
      path: "thresholdBytes",
      message: `must be an integer from 0 to ${maxSingleCopyBytes} (CopyObject's limit)`,
    });
  }
  if (issues.length > 0) {
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new ValidationError(`Invalid copy tuning: ${summary}`, issues);
  }
  return tuning;
}

/** One part of a multipart copy: an inclusive byte range, as `x-amz-copy-source-range` takes it. */
export interface CopyPart {
  partNumber: number;
  first: number;
  last: number;
}

/**
 * The parts of a multipart copy of `size` bytes: equal parts of `partBytes`, grown when that would
 * need more than 10,000 parts, the last one taking the rest. Pure, so the plan for any size can be
 * checked without copying anything.
 */
export function planCopyParts(size: number, partBytes: number): CopyPart[] {
  if (!Number.isInteger(size) || size <= 0 || size > S3_COPY_LIMITS.maxObjectBytes) {
    throw new ValidationError(
      `Cannot copy ${size} bytes in parts: S3 objects hold 1 byte to 5 TiB`,
      [{ path: "size", message: "must be from 1 byte to 5 TiB" }],
    );
  }
  const needed = Math.ceil(size / S3_COPY_LIMITS.maxParts);
  const partSize = Math.max(partBytes, needed);
  const parts: CopyPart[] = [];
  for (let first = 0, partNumber = 1; first < size; first += partSize, partNumber++) {
    parts.push({ partNumber, first, last: Math.min(size, first + partSize) - 1 });
  }
  return parts;
}

/** True when an object of `size` bytes is copied in parts under `tuning`. */
export const isMultipartCopy = (size: number, tuning: CopyTuning): boolean =>
  size > tuning.thresholdBytes;

/**
 * The algorithm to ask S3 for on a copy: the source's own full-object algorithm when the copy can
 * carry it as a full-object checksum too (a single copy, or a CRC in parts), so that source and
 * copy compare without reading a byte; otherwise the configured one for a single copy, and
 * CRC64NVME for a copy in parts (a SHA-256 of parts is only a checksum of part checksums).
 */
export function copyChecksumAlgorithm(
  source: ObjectChecksum | undefined,
  multipart: boolean,
  preferred: ChecksumAlgorithm,
): ChecksumAlgorithm {
  if (source?.type === "FULL_OBJECT") {
    if (source.algorithm === "CRC64NVME") return "CRC64NVME";
    if (source.algorithm === "SHA256" && !multipart) return "SHA256";
  }
  return multipart ? "CRC64NVME" : preferred;
}

/** Two checksums that S3 computed over the whole content with the same algorithm. */
export const comparableChecksums = (
  a: ObjectChecksum | undefined,
  b: ObjectChecksum | undefined,
): a is ObjectChecksum =>
  a !== undefined &&
  b !== undefined &&
  a.type === "FULL_OBJECT" &&
  b.type === "FULL_OBJECT" &&
  a.algorithm === b.algorithm;

const pad = (n: number): string => String(n).padStart(2, "0");

/** The file name of a checkpoint's snapshot (the last segment of its key). */
export const snapshotFileName = (location: S3Location): string =>
  location.key.slice(location.key.lastIndexOf("/") + 1);

/**
 * Where a checkpoint's archive copy lives: `<simulation>/<yyyy>/<mm>/<file>`, by the month the
 * checkpoint was taken (UTC). Stable, so a retry or a duplicate finds the copy it made, and
 * browsable, so a person can find a month's archives without the catalog. Built by `s3Key`, so
 * a simulation named `.` or `..` gets a folder of its own inside the archive bucket.
 */
export function archiveKey(checkpoint: Pick<Checkpoint, "simulation" | "createdAt">, file: string) {
  const time = new Date(checkpoint.createdAt);
  return s3Key(
    checkpoint.simulation,
    String(time.getUTCFullYear()),
    pad(time.getUTCMonth() + 1),
    file,
  );
}

/** The manifest sits beside the archive copy it describes. */
export const manifestKey = (archiveObjectKey: string): string =>
  `${archiveObjectKey}.manifest.json`;

/** How a copy was shown to equal its source. */
export const VerificationSchema = lazySchema(() => z.enum(["s3-checksum", "sha256-stream"]));

/**
 * The manifest written beside every archive copy: enough to check and restore the copy without
 * the catalog (the checkpoint record as it was, where the file came from, its checksum and how it
 * was verified, and which simsnap wrote it).
 */
export const ArchiveManifestSchema = lazySchema(() =>
  z.object({
    manifestVersion: z.literal("1"),
    simsnapVersion: z.string().min(1),
    checkpoint: z.record(z.string(), z.unknown()),
    source: z.object({
      bucket: z.string(),
      key: z.string(),
      size: z.number().int().nonnegative(),
      etag: z.string().optional(),
      lastModified: z.string().optional(),
    }),
    archive: z.object({
      bucket: z.string(),
      key: z.string(),
      storageClass: z.string(),
      size: z.number().int().nonnegative(),
      copiedWith: z.enum(["CopyObject", "UploadPartCopy"]).optional(),
      parts: z.number().int().positive().optional(),
    }),
    checksum: z.object({
      algorithm: z.string(),
      value: z.string(),
      verification: VerificationSchema,
    }),
    times: z.object({
      checkpointCreatedAt: z.string(),
      checkpointCompletedAt: z.string().optional(),
      archivedAt: z.string(),
    }),
  }),
);
/** The manifest written beside every archive copy. */
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;

/** Where and how a checkpoint is archived, as recorded on its catalog record. */
export type ArchiveRecord = NonNullable<Checkpoint["archive"]>;

/**
 * Records the archive copy on the checkpoint (any state: a checkpoint pruned from the hot bucket
 * while it was being archived keeps its archive, which is then its only copy), with the checksum
 * that was verified when the record had none.
 */
export function recordArchive(
  checkpoint: Checkpoint,
  archive: ArchiveRecord,
  checksum: string,
  now: Date,
): Checkpoint {
  return {
    ...checkpoint,
    archive,
    checksum: checkpoint.checksum ?? checksum,
    version: checkpoint.version + 1,
    modifiedAt: now.toISOString(),
  };
}

/** Removes the archive record once its copy is gone (archive retention). */
export function clearArchive(checkpoint: Checkpoint, now: Date): Checkpoint {
  return {
    ...checkpoint,
    archive: undefined,
    version: checkpoint.version + 1,
    modifiedAt: now.toISOString(),
  };
}

/** What S3 says about an object's readability (storage class and restore status). */
export interface ColdState {
  storageClass: string;
  archiveStatus?: string;
  restore?: { ongoing: boolean };
}

/**
 * True when the object cannot be read before an S3 restore request completes: GLACIER and
 * DEEP_ARCHIVE objects, and INTELLIGENT_TIERING objects moved to an archive access tier, unless
 * a restored copy is already available.
 */
export function needsThaw(state: ColdState): boolean {
  const cold = COLD_CLASSES.has(state.storageClass) || state.archiveStatus !== undefined;
  return cold && !(state.restore !== undefined && !state.restore.ongoing);
}

/**
 * What the archive queue carries: the `Checkpoint Completed` event as the bus rule delivers it,
 * or a bare `{ checkpointId }` (to archive one again by hand). Either names one checkpoint.
 */
export const ArchiveRequestSchema = lazySchema(() =>
  z.union([
    z
      .object({
        source: z.literal("simsnap"),
        "detail-type": z.literal("Checkpoint Completed"),
        detail: z.object({ checkpoint: z.object({ id: z.string().min(1) }) }),
      })
      .transform((event) => ({ checkpointId: event.detail.checkpoint.id })),
    z.object({ checkpointId: z.string().min(1) }),
  ]),
);
/** A request to archive one checkpoint. */
export type ArchiveRequest = z.output<typeof ArchiveRequestSchema>;
