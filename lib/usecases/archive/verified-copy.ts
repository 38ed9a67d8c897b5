import { comparableChecksums } from "../../domain/archive.ts";
import type { S3Location } from "../../domain/checkpoint.ts";
import type {
  ArchiveStore,
  CopyOptions,
  CopyResult,
  StoredObject,
} from "../../ports/archive-store.ts";

/** Whether a copy equals its source, how that was established, and the checksum it rests on. */
export interface Verification {
  match: boolean;
  verification: "s3-checksum" | "sha256-stream";
  algorithm: string;
  /** The source's checksum (base64). */
  value: string;
  /** What differed, for the error message. */
  detail?: string;
}

/**
 * Compares a copy with its source. Sizes first; then S3's own full-object checksums when both
 * objects carry one of the same algorithm (no data read: the AWS case); otherwise SHA-256 digests
 * of both streamed contents (servers without checksums, such as s3rver, or checksums that cannot
 * be compared, such as a composite one).
 */
export async function verifyCopy(
  storage: Pick<ArchiveStore, "digest">,
  source: StoredObject,
  copy: StoredObject,
): Promise<Verification> {
  if (comparableChecksums(source.checksum, copy.checksum) && copy.checksum) {
    const match = source.size === copy.size && source.checksum.value === copy.checksum.value;
    return {
      match,
      verification: "s3-checksum",
      algorithm: source.checksum.algorithm,
      value: source.checksum.value,
      detail: match
        ? undefined
        : `${source.checksum.algorithm} ${copy.checksum.value} (${copy.size} bytes) ≠ source ` +
          `${source.checksum.value} (${source.size} bytes)`,
    };
  }
  const [expected, actual] = await Promise.all([storage.digest(source), storage.digest(copy)]);
  const match = source.size === copy.size && expected === actual;
  return {
    match,
    verification: "sha256-stream",
    algorithm: "SHA256",
    value: expected,
    detail: match
      ? undefined
      : `SHA-256 ${actual} (${copy.size} bytes) ≠ source ${expected} (${source.size} bytes)`,
  };
}

/** What `copyVerified` did. */
export interface VerifiedCopy {
  /** False when an identical copy was already there (a retry or a duplicate delivery). */
  copied: boolean;
  copy?: StoredObject;
  result?: CopyResult;
  verification: Verification;
}

/**
 * Copies `source` to `destination` unless an identical copy is already there, then verifies the
 * copy it made. A mismatch is returned, not thrown: the caller decides how to retry, and must not
 * treat the copy as made.
 */
export async function copyVerified(
  storage: ArchiveStore,
  source: StoredObject,
  destination: S3Location,
  options: CopyOptions,
): Promise<VerifiedCopy> {
  const existing = await storage.describe(destination);
  if (existing && existing.size === source.size) {
    const verification = await verifyCopy(storage, source, existing);
    if (verification.match) return { copied: false, copy: existing, verification };
  }
  const result = await storage.copy(source, destination, options);
  const written = await storage.describe(destination);
  if (!written) {
    return {
      copied: true,
      result,
      verification: {
        match: false,
        verification: "sha256-stream",
        algorithm: "SHA256",
        value: "",
        detail: `the copy s3://${destination.bucket}/${destination.key} is not there`,
      },
    };
  }
  // The checksum S3 computed while copying, when HEAD does not report one.
  const copy: StoredObject = { ...written, checksum: written.checksum ?? result.checksum };
  return { copied: true, copy, result, verification: await verifyCopy(storage, source, copy) };
}
