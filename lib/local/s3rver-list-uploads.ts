import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type S3rver from "s3rver";
import {
  addS3rverMiddleware,
  firstValue,
  S3Error,
  type S3rverContext,
  type S3rverMiddleware,
} from "./s3rver-middleware.ts";

/** The parts of s3rver's file store this extension uses. */
interface UploadsStore {
  getBucket(bucket: string): Promise<object | null>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

const require = createRequire(import.meta.url);
const { DUMMY_ACCOUNT } = require("s3rver/lib/models/account") as {
  DUMMY_ACCOUNT: { id: string | number; displayName: string };
};

/** S3's largest (and default) page of ListMultipartUploads. */
const MAX_UPLOADS = 1000;

/** An upload in progress as s3rver keeps it: a directory named by its id, holding its key. */
interface StoredUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

const queryText = (ctx: S3rverContext<UploadsStore>, name: string): string | undefined =>
  firstValue(ctx.query[name]);

/** S3's order for keys: by UTF-8 bytes. */
const byKey = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The uploads s3rver has in progress in `bucket`: one directory per upload under its store's
 * `uploads` resource, holding the key in a file written at initiation (whose time is therefore the
 * initiation time). CompleteMultipartUpload removes the directory.
 */
async function storedUploads(
  ctx: S3rverContext<UploadsStore>,
  bucket: string,
): Promise<StoredUpload[]> {
  const directory = ctx.store.getResourcePath(bucket, undefined, "uploads");
  let ids: string[];
  try {
    ids = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const uploads = await Promise.all(
    ids.map(async (uploadId): Promise<StoredUpload | undefined> => {
      const keyFile = join(directory, uploadId, "key");
      try {
        const [key, info] = await Promise.all([readFile(keyFile, "utf8"), stat(keyFile)]);
        return { key, uploadId, initiated: info.mtime };
      } catch (error) {
        // Completed while being listed: no longer in progress.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    }),
  );
  return uploads
    .filter((upload) => upload !== undefined)
    .sort(
      (a, b) =>
        byKey(a.key, b.key) ||
        a.initiated.getTime() - b.initiated.getTime() ||
        byKey(a.uploadId, b.uploadId),
    );
}

/** `max-uploads` as S3 reads it: a whole number from 0, capped at 1,000 (the default). */
function maxUploadsOf(ctx: S3rverContext<UploadsStore>): number {
  const text = queryText(ctx, "max-uploads");
  if (text === undefined) return MAX_UPLOADS;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new S3Error(
      "InvalidArgument",
      "Provided max-uploads not an integer or within integer range",
      {
        ArgumentName: "max-uploads",
        ArgumentValue: text,
      },
    );
  }
  return Math.min(value, MAX_UPLOADS);
}

/**
 * ListMultipartUploads for s3rver, which answers `GET /<bucket>?uploads` with NotImplemented
 * although it keeps multipart uploads: the uploads in progress, as S3 lists them. Uploads are
 * ordered by key, then by initiation; `prefix` filters; `delimiter` rolls keys up into
 * `CommonPrefixes` (each counting toward `max-uploads`, as in S3); `key-marker` resumes after a
 * key, and with `upload-id-marker` after that upload of the key; a truncated page names both next
 * markers; `encoding-type=url` encodes the keys. Discovery lists uploads to keep a checkpoint whose
 * large file is still uploading PENDING, and this lets the local stack and the adapter's tests run
 * the real request. Call it before `run()`, which composes the middleware.
 */
export function supportListMultipartUploads(server: S3rver): void {
  const listUploads: S3rverMiddleware<UploadsStore> = async (ctx, next) => {
    const [bucket = "", ...rest] = ctx.path.replace(/^\//, "").split("/");
    if (ctx.method !== "GET" || !("uploads" in ctx.query) || rest.some((s) => s !== "")) {
      return next();
    }
    const bucketName = decodeURIComponent(bucket);
    if ((await ctx.store.getBucket(bucketName)) === null) {
      throw new S3Error("NoSuchBucket", "The specified bucket does not exist", {
        BucketName: bucketName,
      });
    }
    const prefix = queryText(ctx, "prefix") ?? "";
    const delimiter = queryText(ctx, "delimiter") ?? "";
    const keyMarker = queryText(ctx, "key-marker") ?? "";
    const uploadIdMarker = keyMarker === "" ? "" : (queryText(ctx, "upload-id-marker") ?? "");
    const encodingType = queryText(ctx, "encoding-type");
    if (encodingType !== undefined && encodingType !== "url") {
      throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
        ArgumentName: "encoding-type",
        ArgumentValue: encodingType,
      });
    }
    const maxUploads = maxUploadsOf(ctx);
    const encode = (text: string): string =>
      encodingType === "url" ? encodeURIComponent(text).replace(/%2F/g, "/") : text;

    const all = (await storedUploads(ctx, bucketName)).filter((u) => u.key.startsWith(prefix));
    // After the markers: later keys, and with an upload id marker the key's later uploads too
    // (in listing order when the marker is one of them, else by id, as S3 documents it).
    const markerAt = all.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
    const candidates =
      uploadIdMarker !== "" && markerAt >= 0
        ? all.slice(markerAt + 1)
        : all.filter((u) => {
            const order = byKey(u.key, keyMarker);
            if (keyMarker === "" || order > 0) return true;
            return order === 0 && uploadIdMarker !== "" && byKey(u.uploadId, uploadIdMarker) > 0;
          });

    const uploads: StoredUpload[] = [];
    const commonPrefixes: string[] = [];
    let truncated = false;
    let last: { key: string; uploadId: string } | undefined;
    for (const upload of candidates) {
      const cut = delimiter === "" ? -1 : upload.key.indexOf(delimiter, prefix.length);
      const rolledUp = cut < 0 ? undefined : upload.key.slice(0, cut + delimiter.length);
      if (rolledUp !== undefined && commonPrefixes.includes(rolledUp)) continue;
      if (uploads.length + commonPrefixes.length >= maxUploads) {
        truncated = true;
        break;
      }
      if (rolledUp !== undefined) {
        commonPrefixes.push(rolledUp);
        // S3 resumes a rolled-up page after the common prefix's last key.
        const lastOfPrefix = candidates.filter((u) => u.key.startsWith(rolledUp)).at(-1);
        last = lastOfPrefix && { key: lastOfPrefix.key, uploadId: lastOfPrefix.uploadId };
      } else {
        uploads.push(upload);
        last = { key: upload.key, uploadId: upload.uploadId };
      }
    }
    const owner = { ID: String(DUMMY_ACCOUNT.id), DisplayName: DUMMY_ACCOUNT.displayName };
    ctx.body = {
      ListMultipartUploadsResult: {
        "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
        Bucket: bucketName,
        KeyMarker: encode(keyMarker),
        UploadIdMarker: uploadIdMarker,
        ...(truncated && last
          ? { NextKeyMarker: encode(last.key), NextUploadIdMarker: last.uploadId }
          : {}),
        ...(delimiter === "" ? {} : { Delimiter: encode(delimiter) }),
        Prefix: encode(prefix),
        MaxUploads: maxUploads,
        ...(encodingType === undefined ? {} : { EncodingType: encodingType }),
        IsTruncated: truncated,
        Upload: uploads.map((upload) => ({
          Key: encode(upload.key),
          UploadId: upload.uploadId,
          Initiator: owner,
          Owner: owner,
          StorageClass: "STANDARD",
          Initiated: upload.initiated.toISOString(),
        })),
        CommonPrefixes: commonPrefixes.map((p) => ({ Prefix: encode(p) })),
      },
    };
  };
  addS3rverMiddleware(server, listUploads);
}
