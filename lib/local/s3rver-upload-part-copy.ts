import type { Readable } from "node:stream";
import type S3rver from "s3rver";
import {
  addS3rverMiddleware,
  firstValue,
  S3Error,
  type S3rverContext,
  type S3rverMiddleware,
} from "./s3rver-middleware.ts";

/** The parts of s3rver's file store this extension uses. */
interface PartsStore {
  getObject(
    bucket: string,
    key: string,
    range: { start: number; end: number },
  ): Promise<{ content?: Readable; range?: unknown; size: number } | null>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: string,
    content: Readable,
  ): Promise<{ md5: string }>;
}

const header = (ctx: S3rverContext<PartsStore>, name: string): string | undefined =>
  firstValue(ctx.headers[name]);

/** `/bucket/key…` of a path-style request, decoded. */
function bucketAndKey(path: string): [string, string] {
  const [bucket = "", ...key] = path.replace(/^\//, "").split("/");
  return [decodeURIComponent(bucket), key.map(decodeURIComponent).join("/")];
}

/**
 * UploadPartCopy for s3rver, which answers it with NotImplemented although it has multipart
 * uploads: the part is read from the source's byte range with s3rver's own store and stored as
 * an uploaded part, so CompleteMultipartUpload assembles it like any other. This lets the archive
 * adapter run its real multipart-copy requests locally instead of a local-only code path. Call it
 * before `run()`, which composes the middleware.
 */
export function supportUploadPartCopy(server: S3rver): void {
  const uploadPartCopy: S3rverMiddleware<PartsStore> = async (ctx, next) => {
    const source = header(ctx, "x-amz-copy-source");
    const uploadId = ctx.query.uploadId;
    const partNumber = ctx.query.partNumber;
    if (
      ctx.method !== "PUT" ||
      source === undefined ||
      typeof uploadId !== "string" ||
      typeof partNumber !== "string"
    ) {
      return next();
    }
    const [bucket] = bucketAndKey(ctx.path);
    const [sourceBucket, sourceKey] = bucketAndKey(source.split("?")[0] ?? "");
    const rangeHeader = header(ctx, "x-amz-copy-source-range");
    const range = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader ?? "");
    if (!range) {
      throw new S3Error(
        "InvalidArgument",
        "The x-amz-copy-source-range value must be bytes=first-last",
        {
          ArgumentName: "x-amz-copy-source-range",
          ArgumentValue: rangeHeader ?? "",
        },
      );
    }
    const object = await ctx.store.getObject(sourceBucket, sourceKey, {
      start: Number(range[1]),
      end: Number(range[2]),
    });
    if (!object)
      throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: sourceKey });
    if (!object.content) {
      throw new S3Error("InvalidRange", "The requested range is not satisfiable", {
        RangeRequested: rangeHeader,
        ActualObjectSize: object.size,
      });
    }
    const { md5 } = await ctx.store.putPart(bucket, uploadId, partNumber, object.content);
    ctx.body = {
      CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(md5) },
    };
  };
  addS3rverMiddleware(server, uploadPartCopy);
}
