import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  RestoreObjectCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import {
  checkCopyTuning,
  copyChecksumAlgorithm,
  DEFAULT_COPY_TUNING,
  isMultipartCopy,
  planCopyParts,
  type CopyTuning,
} from "../../domain/archive.ts";
import type { S3Location } from "../../domain/checkpoint.ts";
import type {
  ArchiveStore,
  CopyOptions,
  CopyResult,
  RestoreTier,
  StoredObject,
} from "../../ports/archive-store.ts";
import { checksumOf, S3ObjectStore, type S3ObjectStoreOptions } from "./object-store.ts";

/** Options of `S3ArchiveStore`. */
export interface S3ArchiveStoreOptions extends S3ObjectStoreOptions {
  /** When copies go multipart and how large their parts are (checked against S3's limits). */
  copy?: CopyTuning;
  /** UploadPartCopy requests in flight at once for one copy. */
  partConcurrency?: number;
}

/** `x-amz-copy-source`: bucket and key, the key URL-encoded segment by segment. */
const copySource = (location: S3Location): string =>
  `${location.bucket}/${location.key.split("/").map(encodeURIComponent).join("/")}`;

/** S3 reports a pending restore as `ongoing-request="true"`, a finished one with `"false"`. */
function restoreState(header: string | undefined): StoredObject["restore"] {
  if (!header) return undefined;
  return { ongoing: /ongoing-request\s*=\s*"true"/i.test(header) };
}

const isNotFound = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === "NotFound" ||
    error.name === "NoSuchKey" ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

/**
 * `ArchiveStore` on S3 (and on s3rver in local mode, which keeps no checksums: callers then
 * compare streamed SHA-256 digests). Copies are server-side: CopyObject up to the threshold,
 * UploadPartCopy above it, with the source's ETag as a precondition of every request so a file
 * replaced mid-copy fails the copy instead of producing a mix of two versions.
 */
export class S3ArchiveStore extends S3ObjectStore implements ArchiveStore {
  private readonly tuning: CopyTuning;
  private readonly partConcurrency: number;

  constructor(
    private readonly s3: S3Client,
    options: S3ArchiveStoreOptions = {},
  ) {
    super(s3, options);
    this.tuning = checkCopyTuning(options.copy ?? DEFAULT_COPY_TUNING);
    this.partConcurrency = Math.max(1, options.partConcurrency ?? 8);
  }

  async describe(location: S3Location): Promise<StoredObject | undefined> {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          ChecksumMode: "ENABLED",
        }),
      );
      const described: StoredObject = {
        bucket: location.bucket,
        key: location.key,
        size: head.ContentLength ?? 0,
        etag: head.ETag?.replace(/^"(.*)"$/, "$1"),
        lastModified: head.LastModified,
        storageClass: head.StorageClass ?? "STANDARD",
        checksum: checksumOf(head),
        restore: restoreState(head.Restore),
      };
      if (head.ArchiveStatus !== undefined) described.archiveStatus = head.ArchiveStatus;
      return described;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async copy(
    source: StoredObject,
    destination: S3Location,
    options: CopyOptions,
  ): Promise<CopyResult> {
    const multipart = isMultipartCopy(source.size, this.tuning);
    const chosen: CopyOptions = {
      ...options,
      checksumAlgorithm: copyChecksumAlgorithm(
        source.checksum,
        multipart,
        options.checksumAlgorithm,
      ),
    };
    return multipart
      ? this.copyInParts(source, destination, chosen)
      : this.copyWhole(source, destination, chosen);
  }

  private async copyWhole(
    source: StoredObject,
    destination: S3Location,
    options: CopyOptions,
  ): Promise<CopyResult> {
    const result = await this.s3.send(
      new CopyObjectCommand({
        Bucket: destination.bucket,
        Key: destination.key,
        CopySource: copySource(source),
        CopySourceIfMatch: source.etag && `"${source.etag}"`,
        // REPLACE, so the storage class, type and metadata given here apply (s3rver, like S3 for
        // metadata, otherwise keeps the source's).
        MetadataDirective: "REPLACE",
        // The copy gets no tags: copying the source's would also need s3:GetObjectTagging.
        TaggingDirective: "REPLACE",
        StorageClass: options.storageClass as StorageClass,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ChecksumAlgorithm: options.checksumAlgorithm,
      }),
    );
    return {
      copiedWith: "CopyObject",
      parts: 1,
      checksum: checksumOf(result.CopyObjectResult),
      etag: result.CopyObjectResult?.ETag?.replace(/^"(.*)"$/, "$1"),
    };
  }

  private async copyInParts(
    source: StoredObject,
    destination: S3Location,
    options: CopyOptions,
  ): Promise<CopyResult> {
    const parts = planCopyParts(source.size, this.tuning.partBytes);
    // A full-object checksum survives a multipart copy only for the CRC algorithms.
    const checksumType = options.checksumAlgorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE";
    const upload = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: destination.bucket,
        Key: destination.key,
        StorageClass: options.storageClass as StorageClass,
        ContentType: options.contentType,
        Metadata: options.metadata,
        ChecksumAlgorithm: options.checksumAlgorithm,
        ChecksumType: checksumType,
      }),
    );
    const uploadId = upload.UploadId;
    if (!uploadId) throw new Error(`S3 returned no UploadId for ${destination.key}`);
    try {
      const completed: CompletedPart[] = new Array(parts.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(this.partConcurrency, parts.length) }, async () => {
          while (next < parts.length) {
            const index = next++;
            const part = parts[index];
            if (!part) continue;
            const result = await this.s3.send(
              new UploadPartCopyCommand({
                Bucket: destination.bucket,
                Key: destination.key,
                UploadId: uploadId,
                PartNumber: part.partNumber,
                CopySource: copySource(source),
                CopySourceIfMatch: source.etag && `"${source.etag}"`,
                CopySourceRange: `bytes=${part.first}-${part.last}`,
              }),
            );
            const copied = result.CopyPartResult;
            completed[index] = {
              PartNumber: part.partNumber,
              ETag: copied?.ETag,
              ChecksumCRC64NVME: copied?.ChecksumCRC64NVME,
              ChecksumSHA256: copied?.ChecksumSHA256,
            };
          }
        }),
      );
      const done = await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: destination.bucket,
          Key: destination.key,
          UploadId: uploadId,
          ChecksumType: checksumType,
          MultipartUpload: { Parts: completed },
        }),
      );
      return { copiedWith: "UploadPartCopy", parts: parts.length, checksum: checksumOf(done) };
    } catch (error) {
      // Best effort: the bucket's lifecycle rule aborts what this leaves behind.
      await this.s3
        .send(
          new AbortMultipartUploadCommand({
            Bucket: destination.bucket,
            Key: destination.key,
            UploadId: uploadId,
          }),
        )
        .catch(() => undefined);
      throw error;
    }
  }

  async digest(location: S3Location): Promise<string> {
    const object = await this.s3.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    const hash = createHash("sha256");
    for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
    return hash.digest("base64");
  }

  /**
   * An object in an Intelligent-Tiering archive tier moves back to the frequent tier for good,
   * so S3 refuses `Days` for it; a Glacier object gets a temporary copy for `days`.
   */
  async requestRestore(
    object: StoredObject,
    options: { days: number; tier: RestoreTier },
  ): Promise<"requested" | "in-progress"> {
    const tiering = object.archiveStatus !== undefined;
    try {
      await this.s3.send(
        new RestoreObjectCommand({
          Bucket: object.bucket,
          Key: object.key,
          RestoreRequest: tiering
            ? {}
            : { Days: options.days, GlacierJobParameters: { Tier: options.tier } },
        }),
      );
      return "requested";
    } catch (error) {
      if (error instanceof Error && error.name === "RestoreAlreadyInProgress") return "in-progress";
      throw error;
    }
  }
}
