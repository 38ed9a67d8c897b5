import { createRequire } from "node:module";
import type S3rver from "s3rver";

const require = createRequire(import.meta.url);

/**
 * s3rver's own S3 error: thrown from an added handler, s3rver answers it with S3's XML error
 * response (code, message and the detail fields), so SDK clients see what S3 would send.
 */
export const S3Error = require("s3rver/lib/models/error") as new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error;

/** The parts of s3rver's Koa context an added handler reads, and of its file store, `Store`. */
export interface S3rverContext<Store> {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  store: Store;
}

/** A request handler in s3rver's Koa chain, using the parts of its file store `Store` names. */
export type S3rverMiddleware<Store> = (
  ctx: S3rverContext<Store>,
  next: () => Promise<void>,
) => Promise<void>;

/**
 * A header or query value as Koa parses it: the first one when the name repeats, which is how S3
 * reads a repeated parameter.
 */
export const firstValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/**
 * Adds a request s3rver answers with NotImplemented. It goes before the router (the last
 * middleware), after the XML encoder that serializes `ctx.body`; call it before `run()`, which
 * composes the middleware.
 */
export function addS3rverMiddleware<Store>(
  server: S3rver,
  middleware: S3rverMiddleware<Store>,
): void {
  const app = server as unknown as { middleware: unknown[] };
  app.middleware.splice(app.middleware.length - 1, 0, middleware);
}
