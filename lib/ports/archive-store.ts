import type { ChecksumAlgorithm, ColdState, ObjectChecksum } from "../domain/archive.ts";
import type { S3Location } from "../domain/checkpoint.ts";
import type { ObjectInfo, ObjectStore } from "./object-store.ts";

/** What archiving and restoring need to know about an object beyond `ObjectInfo`. */
export interface StoredObject extends ObjectInfo, ColdState {
  /** The checksum S3 stored with the object, when it has one (`ChecksumMode: ENABLED`). */
  checksum?: ObjectChecksum;
}

/** How a copy is written. */
export interface CopyOptions {
  storageClass: string;
  checksumAlgorithm: ChecksumAlgorithm;
  contentType?: string;
  /** User metadata (`x-amz-meta-*`) of the copy. */
  metadata?: Record<string, string>;
}

/** What a copy did: how it was made, and the checksum S3 computed for the copy, if any. */
export interface CopyResult {
  copiedWith: "CopyObject" | "UploadPartCopy";
  parts: number;
  checksum?: ObjectChecksum;
  /**
   * The copy's ETag as S3 answered the copy (unquoted). Equal to a single-part source's MD5 ETag
   * when S3 wrote the same bytes (not under SSE-KMS, nor after a copy in parts), which confirms a
   * copy without a HEAD of it.
   */
  etag?: string;
}

/**
 * Object storage as archiving and restoring need it, on top of `ObjectStore`: checksums and
 * storage classes on HEAD, server-side copies (in parts above the single-copy limit), a streamed
 * SHA-256 for servers that keep no checksums, and S3 restore requests for cold storage classes.
 */
export interface ArchiveStore extends ObjectStore {
  /** Undefined when the object does not exist. */
  describe(location: S3Location): Promise<StoredObject | undefined>;
  /**
   * Copies `source` (as just described, so a changed source fails the copy instead of being
   * copied) to `destination`, server-side.
   */
  copy(source: StoredObject, destination: S3Location, options: CopyOptions): Promise<CopyResult>;
  /** SHA-256 of the object's content (base64), read as a stream. */
  digest(location: S3Location): Promise<string>;
  /**
   * Asks S3 to make a cold object readable for `days`; `in-progress` when a request is already
   * running (S3's `RestoreAlreadyInProgress`).
   */
  requestRestore(
    object: StoredObject,
    options: { days: number; tier: RestoreTier },
  ): Promise<"requested" | "in-progress">;
}

/** S3 Glacier retrieval tiers: faster costs more; DEEP_ARCHIVE has no Expedited. */
export type RestoreTier = "Expedited" | "Standard" | "Bulk";
