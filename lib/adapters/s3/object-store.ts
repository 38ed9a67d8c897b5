import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectChecksum } from "../../domain/archive.ts";
import type { S3Location } from "../../domain/checkpoint.ts";
import { ValidationError } from "../../domain/errors.ts";
import {
  MAX_DELETE_KEYS,
  type DeleteManyResult,
  type ListObjectsOptions,
  type ObjectInfo,
  type ObjectStore,
  type UploadInfo,
} from "../../ports/object-store.ts";

/** Options of `S3ObjectStore`. */
export interface S3ObjectStoreOptions {
  /**
   * Keys per ListObjectsV2 page and uploads per ListMultipartUploads page (1–1000, S3's default
   * 1000); small pages exercise pagination.
   */
  pageSize?: number;
}

/**
 * S3 reports ETags quoted (`"abc"`), S3 event notifications unquoted. Unquoting here makes a file
 * found by a listing or a HEAD compare equal to the same file announced by an event.
 */
const unquote = (etag: string | undefined): string | undefined => etag?.replace(/^"(.*)"$/, "$1");

const isNotFound = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === "NotFound" ||
    error.name === "NoSuchKey" ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

/** The checksum fields S3 returns on HEAD, CopyObject, UploadPartCopy and multipart completion. */
interface ChecksumFields {
  ChecksumCRC64NVME?: string;
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumSHA1?: string;
  ChecksumSHA256?: string;
  ChecksumType?: string;
}

const CHECKSUM_FIELDS = [
  ["CRC64NVME", "ChecksumCRC64NVME"],
  ["SHA256", "ChecksumSHA256"],
  ["CRC32C", "ChecksumCRC32C"],
  ["CRC32", "ChecksumCRC32"],
  ["SHA1", "ChecksumSHA1"],
] as const;

/**
 * Reads the checksum out of an S3 response (a HEAD with `ChecksumMode: ENABLED`, a copy's result).
 * A value with a `-N` suffix is a checksum of N part checksums, whatever `ChecksumType` says
 * (older responses omit it), so it is marked COMPOSITE.
 */
export function checksumOf(fields: ChecksumFields | undefined): ObjectChecksum | undefined {
  if (!fields) return undefined;
  for (const [algorithm, field] of CHECKSUM_FIELDS) {
    const value = fields[field];
    if (value === undefined || value === "") continue;
    const composite = fields.ChecksumType === "COMPOSITE" || /-\d+$/.test(value);
    return { algorithm, value, type: composite ? "COMPOSITE" : "FULL_OBJECT" };
  }
  return undefined;
}

/** The object store on S3 (or any S3-compatible server such as s3rver in local mode). */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly options: S3ObjectStoreOptions = {},
  ) {}

  /**
   * Undefined when the object is missing, so "not there yet" is a value, not an exception. Asks
   * for the checksum (`ChecksumMode: ENABLED`, free on a HEAD of an SSE-S3 object) so that a
   * confirmed snapshot file is recorded with it; servers that keep none (s3rver) return none.
   */
  async head(location: S3Location): Promise<ObjectInfo | undefined> {
    try {
      const result = await this.client.send(
        new HeadObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          ChecksumMode: "ENABLED",
        }),
      );
      const info: ObjectInfo = {
        bucket: location.bucket,
        key: location.key,
        size: result.ContentLength ?? 0,
        etag: unquote(result.ETag),
        lastModified: result.LastModified,
      };
      const checksum = checksumOf(result);
      if (checksum) info.checksum = checksum;
      return info;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Follows continuation tokens lazily, so a caller that stops early reads no further pages.
   * `startAfter` goes on the first request only: S3 ignores it once a continuation token is sent.
   */
  async *list(
    bucket: string,
    prefix: string,
    options: ListObjectsOptions = {},
  ): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
          StartAfter: token === undefined ? options.startAfter : undefined,
          MaxKeys: this.options.pageSize,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          bucket,
          key: object.Key,
          size: object.Size ?? 0,
          etag: unquote(object.ETag),
          lastModified: object.LastModified,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Follows both markers (`NextKeyMarker`, `NextUploadIdMarker`) lazily: S3 pages uploads by key
   * and upload id together, since one key may have several uploads in progress. An upload S3
   * lists without its initiation time (none does) counts as started now, the cautious reading.
   */
  async *listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
          MaxUploads: this.options.pageSize,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        yield {
          key: upload.Key,
          uploadId: upload.UploadId,
          initiated: upload.Initiated ?? new Date(),
        };
      }
      const more = page.IsTruncated === true && page.NextKeyMarker !== undefined;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  async put(location: S3Location, body: string | Uint8Array, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        Body: body,
        ContentType: contentType,
      }),
    );
  }

  /**
   * One GetObject whose body is read only when S3's `Content-Length` is within the cap; a larger
   * body is dropped unread (its stream destroyed), so the cap bounds memory, not just the result.
   * Not a `Range` request: S3 answers a range on an empty object with 416, and s3rver never
   * answers it at all, while an empty sidecar is a normal (if useless) file.
   */
  async getText(location: S3Location, maxBytes: number): Promise<string | undefined> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new ValidationError(`getText needs a cap of 0 or more bytes, got ${maxBytes}`, [
        { path: "maxBytes", message: "must be a whole number of bytes, 0 or more" },
      ]);
    }
    let result;
    try {
      result = await this.client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const body = result.Body;
    if (body === undefined) return "";
    if ((result.ContentLength ?? 0) > maxBytes) {
      if ("destroy" in body && typeof body.destroy === "function") body.destroy();
      return undefined;
    }
    const bytes = await body.transformToByteArray();
    return bytes.byteLength > maxBytes ? undefined : new TextDecoder().decode(bytes);
  }

  /** One DeleteObjects request in quiet mode: S3 then lists only the keys it failed to delete. */
  async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    if (keys.length === 0) return { deleted: [], failed: [] };
    if (keys.length > MAX_DELETE_KEYS) {
      throw new ValidationError(
        `deleteMany takes at most ${MAX_DELETE_KEYS} keys, got ${keys.length}`,
        [{ path: "keys", message: `at most ${MAX_DELETE_KEYS} keys per request` }],
      );
    }
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (result.Errors ?? []).map((error) => ({
      key: error.Key ?? "",
      code: error.Code ?? "Unknown",
      message: error.Message ?? "",
    }));
    const failedKeys = new Set(failed.map((f) => f.key));
    return { deleted: keys.filter((key) => !failedKeys.has(key)), failed };
  }
}
