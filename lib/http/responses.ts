import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import * as z from "zod";
import { isAppError, ProviderError, RetryLaterError, ValidationError } from "../domain/errors.ts";

/** One field and the rule it broke, as `details` lists them. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The body of every error response: `{"error":{"code","message","details"}}`. A schema so the
 * OpenAPI document states the one error shape every status shares.
 */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
    correlationId: z.string().optional(),
  }),
});
/** The body of every error response. */
export type ErrorBody = z.output<typeof ErrorBodySchema>;

/** What the API answers for an error, and whether it is worth a log line at error level. */
export interface HttpErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** A 5xx: logged with its stack, shown to the caller only as a generic message. */
  internal: boolean;
}

/** The provider's answers that concern the caller's request rather than simsnap's own state. */
const CALLER_PROVIDER_STATUSES: ReadonlySet<number> = new Set([400, 404, 409]);

/** An error response built from its parts; the router's own 404/405 answers use it too. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  details: ErrorDetail[] = [],
  headers: Record<string, string> = {},
): HttpErrorResponse {
  return { status, body: { error: { code, message, details } }, headers, internal: status >= 500 };
}

/**
 * The one place that decides what a caller sees for an error. Validation, not-found and conflict
 * errors keep their status and message (they are about the request); the provider's own 400, 404
 * and 409 answers pass through with its code and message unless they are retryable (a throttle);
 * its refusal of simsnap's credentials (401, 403) is a 500 with its code and message, which names
 * the fix and which no client retries; everything else is a 5xx with a generic
 * message naming the correlation id, so internals never leak and the log line can be found.
 */
export function toHttpError(error: unknown, correlationId: string): HttpErrorResponse {
  if (error instanceof ProviderError) {
    // A throttle comes as a 400 ThrottlingException: it is the provider's state, not the caller's
    // mistake, so it is answered like the provider's own 5xx.
    if (CALLER_PROVIDER_STATUSES.has(error.status) && !error.retryable) {
      return errorResponse(error.status, error.code, error.message);
    }
    if (error.status === 401 || error.status === 403) {
      // The platform refused simsnap's own credentials (an expired token, a missing scope): not
      // the caller's 401, but said plainly, since the message names what an operator must fix.
      // A 500, not a 502: a gateway fault is worth retrying, and clients retry 502s, but this
      // refusal stays until the operator acts, so every retry would only be refused again.
      return errorResponse(500, error.code, error.message);
    }
    return internal(502, "ProviderUnavailable", correlationId);
  }
  if (isAppError(error) && error.status >= 400 && error.status < 500) {
    const details = error instanceof ValidationError ? [...error.details] : [];
    return errorResponse(error.status, error.code, error.message, details);
  }
  if (error instanceof RetryLaterError) {
    return {
      ...internal(503, error.code, correlationId),
      headers: { "retry-after": String(error.delaySeconds) },
    };
  }
  return internal(500, "InternalError", correlationId);
}

function internal(status: number, code: string, correlationId: string): HttpErrorResponse {
  const response = errorResponse(
    status,
    code,
    `The request could not be completed; quote correlation id ${correlationId} when reporting it`,
  );
  response.body.error.correlationId = correlationId;
  return response;
}

/** A JSON response; every body simsnap sends is JSON, errors included. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}
