import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type S3rver from "s3rver";

/** The parts of s3rver's Koa context and file store this extension uses. */
interface S3rverContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  store: {
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
  };
}
type Middleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

const require = createRequire(import.meta.url);
const S3Error = require("s3rver/lib/models/error") as new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error;

const header = (ctx: S3rverContext, name: string): string | undefined => {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

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
  const app = server as unknown as { middleware: Middleware[] };
  const uploadPartCopy: Middleware = async (ctx, next) => {
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
  // Before the router (the last middleware), after the XML encoder that serializes `ctx.body`.
  app.middleware.splice(app.middleware.length - 1, 0, uploadPartCopy);
}
