import type { ObjectChecksum } from "../domain/archive.ts";
import type { S3Location } from "../domain/checkpoint.ts";

/** What simsnap needs to know about a stored object. */
export interface ObjectInfo extends S3Location {
  size: number;
  etag?: string;
  lastModified?: Date;
  /**
   * The checksum S3 stored with the object, when `head` got one (listings and events carry none),
   * so a checkpoint records what its file's content was when it became COMPLETE.
   */
  checksum?: ObjectChecksum;
}

/** The object storage holding snapshot files, reports and archives. */
export interface ObjectStore {
  /** Undefined when the object does not exist; asks S3 for the object's checksum too. */
  head(location: S3Location): Promise<ObjectInfo | undefined>;
  /**
   * The objects under `prefix` in S3's key order, every page, read lazily. `startAfter` resumes a
   * listing after that key (S3's `StartAfter`), so a scan bounded per run goes on where the last
   * run stopped instead of re-reading every page before it.
   */
  list(bucket: string, prefix: string, options?: ListObjectsOptions): AsyncIterable<ObjectInfo>;
  /**
   * The multipart uploads in progress under `prefix`, every page, in S3's order (key, then
   * initiation). A large object another tool is still uploading is invisible to `list` until its
   * upload completes, so only this tells a half-written checkpoint from a whole one.
   */
  listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo>;
  put(location: S3Location, body: string | Uint8Array, contentType?: string): Promise<void>;
  /**
   * The object's content as UTF-8 text, read with a cap so a small sidecar another tool writes
   * (a `trainer_state.json` grows with a run) can never make a function buffer an unbounded body.
   * Undefined when the object does not exist or is larger than `maxBytes`: a reader of optional
   * metadata treats both as "no value".
   */
  getText(location: S3Location, maxBytes: number): Promise<string | undefined>;
  /**
   * Deletes up to 1,000 keys of one bucket in one request (S3's DeleteObjects limit) and reports
   * per key, so a caller can act only on what is really gone. A key that did not exist counts as
   * deleted, as S3 reports it.
   */
  deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult>;
}

/** How a listing starts. */
export interface ListObjectsOptions {
  /** List only keys after this one (in S3's order, UTF-8 bytes); it need not exist. */
  startAfter?: string;
}

/** A multipart upload in progress, as ListMultipartUploads reports it. */
export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** The outcome of one `deleteMany`, key by key. */
export interface DeleteManyResult {
  deleted: string[];
  failed: { key: string; code: string; message: string }[];
}

/** S3's limit on keys per DeleteObjects request. */
export const MAX_DELETE_KEYS = 1000;
