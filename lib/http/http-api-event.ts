import * as z from "zod";

/**
 * The fields of API Gateway's HTTP API event (payload format 2.0) that the router reads; the
 * others pass through untouched. Parsed at the edge so that an integration sending another shape
 * (payload format 1.0, a REST API's event) fails at once, naming the field, rather than as a
 * `TypeError` inside a route. API Gateway writes these fields itself, so no caller can fail them.
 */
export const HttpApiEventSchema = z.looseObject({
  version: z.literal("2.0"),
  rawPath: z.string().startsWith("/"),
  headers: z.record(z.string(), z.string()),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean(),
  requestContext: z.looseObject({
    requestId: z.string().min(1),
    http: z.looseObject({ method: z.string().min(1), path: z.string() }),
  }),
});
/** An HTTP API event as far as simsnap reads it. */
export type HttpApiEvent = z.infer<typeof HttpApiEventSchema>;
