import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { z } from "zod";
import { NotFoundError, ValidationError } from "../domain/errors.ts";
import { knownFieldsOnly } from "../domain/known-fields.ts";
import { parseInput } from "../domain/validation.ts";
import { logger } from "../observability/logger.ts";
import { errorResponse, jsonResponse, toHttpError, type HttpErrorResponse } from "./responses.ts";
import { readSegment, SENT_PATH_HEADER, sentPathRefusal } from "./sent-path.ts";

/** The methods the API serves. */
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** What a route answers: a status, a JSON body and extra headers. */
export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a route handler receives: every part of the request, already validated. */
export interface RouteInput<P, Q, B, H> {
  params: P;
  query: Q;
  body: B;
  headers: H;
  correlationId: string;
}

const NoQuery = knownFieldsOnly({}, "is not a query parameter of this route");
type Anything = z.ZodUnknown;

/**
 * One success answer of a route, as the OpenAPI document states it: the schema of its body is
 * what clients can rely on, so it is declared beside the handler that sends it.
 */
export interface ResponseSpec {
  description: string;
  body: z.ZodType;
  /** Headers the answer sets besides `X-Correlation-Id` (name as sent → what it carries). */
  headers?: Record<string, string>;
}

/**
 * What a route promises, apart from its handler: the schemas of its inputs, its success answers
 * and its refusals. The OpenAPI document is generated from it (see `openApiDocument`), so the
 * document can only say what the route validates and answers.
 */
export interface RouteContract<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  H extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** A path template such as `/checkpoints/{id}`; each `{name}` is one path segment. */
  path: string;
  /** Names the operation in the OpenAPI document and in clients generated from it. */
  operationId: string;
  /** One line saying what the route does. */
  summary: string;
  params?: P;
  /** Without a schema the route takes no query parameters at all. */
  query?: Q;
  /** Without a schema the body is ignored. */
  body?: B;
  /** Header names are lower case; headers not in the schema are ignored. */
  headers?: H;
  /** Every success status the handler answers, with its body. */
  responses: Record<number, ResponseSpec>;
  /**
   * The refusals its use case raises besides 400 (which every route may answer), each with when;
   * all of them carry the error body.
   */
  errors?: Record<number, string>;
}

/** One route: its contract and its handler. */
export interface RouteSpec<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  H extends z.ZodType,
> extends RouteContract<P, Q, B, H> {
  handle(
    input: RouteInput<z.output<P>, z.output<Q>, z.output<B>, z.output<H>>,
  ): Promise<HttpResult>;
}

/** A route ready for the router; build one with `route`. */
export interface Route {
  method: HttpMethod;
  path: string;
  /** What the route promises; `query` is always set (no schema means no parameters). */
  contract: RouteContract;
  match(path: string): Record<string, string> | undefined;
  run(request: ParsedRequest, params: Record<string, string>): Promise<HttpResult>;
}

interface ParsedRequest {
  query: Record<string, string>;
  rawBody: string | undefined;
  headers: Record<string, string>;
  correlationId: string;
}

function compilePath(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1] as string);
      return "([^/]+)";
    })
    .join("/");
  const regex = new RegExp(`^${pattern}/?$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return undefined;
    const params: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      // Clients percent-encode names ("My%20First%20Simulation"); a path handed over already
      // decoded ("My First Simulation") reads the same (`readSegment`); whether it was decoded
      // into another path is told by the client's `x-simsnap-path` (`sentPathRefusal`).
      params[name] = readSegment(match[i + 1] as string);
    }
    return params;
  };
}

function parseBody(raw: string | undefined): unknown {
  if (raw === undefined || raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ValidationError(
      "Invalid request body: not JSON",
      [{ path: "(body)", message: "must be a JSON object" }],
      { cause: error },
    );
  }
}

/**
 * Declares a route. Path parameters, query string, body and headers each go through their zod
 * schema before the handler runs, so a handler only ever sees valid, typed input, and every
 * refusal is a 400 naming the field and the rule.
 */
export function route<
  P extends z.ZodType = z.ZodType<Record<string, string>>,
  Q extends z.ZodType = typeof NoQuery,
  B extends z.ZodType = Anything,
  H extends z.ZodType = Anything,
>(spec: RouteSpec<P, Q, B, H>): Route {
  const match = compilePath(spec.path);
  const contract: RouteContract = {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    params: spec.params,
    query: spec.query ?? NoQuery,
    body: spec.body,
    headers: spec.headers,
    responses: spec.responses,
    errors: spec.errors,
  };
  return {
    method: spec.method,
    path: spec.path,
    contract,
    match,
    async run(request, params) {
      const input = {
        params: spec.params ? parseInput(spec.params, params, "path") : params,
        query: parseInput(spec.query ?? NoQuery, request.query, "query string"),
        body: spec.body
          ? parseInput(spec.body, parseBody(request.rawBody), "request body")
          : undefined,
        headers: spec.headers ? parseInput(spec.headers, request.headers, "headers") : undefined,
        correlationId: request.correlationId,
      };
      return spec.handle(input as RouteInput<z.output<P>, z.output<Q>, z.output<B>, z.output<H>>);
    },
  };
}

/**
 * Files served as they are at GET paths no route claims: the web console's page, script and
 * styles (`consoleFiles`), which are no part of the JSON API and so have no route contract.
 * `undefined` means no such file (a 404 like any unknown path).
 */
export type StaticFiles = (
  path: string,
) => Promise<{ body: string; headers: Record<string, string> } | undefined>;

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

function correlationIdOf(event: APIGatewayProxyEventV2, headers: Record<string, string>): string {
  const given = headers["x-correlation-id"];
  return given !== undefined && CORRELATION_ID.test(given) ? given : event.requestContext.requestId;
}

function lowerCaseHeaders(event: APIGatewayProxyEventV2): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return headers;
}

function errorResult(response: HttpErrorResponse, correlationId: string) {
  return jsonResponse(response.status, response.body, {
    ...response.headers,
    "x-correlation-id": correlationId,
  });
}

/**
 * An API Gateway HTTP API (payload 2.0) handler serving `routes`. Every request gets a
 * correlation id (the caller's `X-Correlation-Id`, or API Gateway's request id) that is echoed in
 * the response and carried by every log line of the request; unknown paths are 404s and known
 * paths with another method 405s; errors are mapped to statuses in one place (`toHttpError`).
 * A GET no route claims may be one of `files` (the web console).
 */
export function httpApi(
  routes: readonly Route[],
  files?: StaticFiles,
): (
  event: APIGatewayProxyEventV2,
  context?: Context,
) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    const started = Date.now();
    const headers = lowerCaseHeaders(event);
    const correlationId = correlationIdOf(event, headers);
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    logger.appendKeys({ correlationId });
    let status = 500;
    try {
      // A path the gateway decoded into another one is refused, never routed (see sent-path.ts).
      const altered = sentPathRefusal(path, headers[SENT_PATH_HEADER]);
      if (altered) {
        status = 400;
        return errorResult(
          errorResponse(400, "PathAltered", altered, [
            { path: SENT_PATH_HEADER, message: "must read as the path that reached the API" },
          ]),
          correlationId,
        );
      }
      const candidates = routes
        .map((r) => ({ route: r, params: r.match(path) }))
        .filter((c) => c.params !== undefined);
      const found = candidates.find((c) => c.route.method === method);
      if (!found && candidates.length === 0 && method === "GET" && files) {
        const file = await files(path);
        if (file) {
          status = 200;
          return {
            statusCode: 200,
            headers: { ...file.headers, "x-correlation-id": correlationId },
            body: file.body,
          };
        }
      }
      if (!found) {
        if (candidates.length === 0) throw new NotFoundError(`No route for ${method} ${path}`);
        const allow = [...new Set(candidates.map((c) => c.route.method))].join(", ");
        const message = `${method} is not allowed on ${path}; use ${allow}`;
        status = 405;
        return errorResult(
          errorResponse(405, "MethodNotAllowed", message, [], { allow }),
          correlationId,
        );
      }
      const rawBody =
        event.body !== undefined && event.isBase64Encoded
          ? Buffer.from(event.body, "base64").toString("utf8")
          : event.body;
      const result = await found.route.run(
        {
          query: { ...event.queryStringParameters } as Record<string, string>,
          rawBody,
          headers,
          correlationId,
        },
        found.params as Record<string, string>,
      );
      status = result.status;
      return jsonResponse(result.status, result.body, {
        ...result.headers,
        "x-correlation-id": correlationId,
      });
    } catch (error) {
      const response = toHttpError(error, correlationId);
      status = response.status;
      if (response.internal) logger.error(`${method} ${path} failed`, error as Error);
      return errorResult(response, correlationId);
    } finally {
      logger.info("Request", { method, path, status, durationMs: Date.now() - started });
      logger.removeKeys(["correlationId"]);
    }
  };
}
