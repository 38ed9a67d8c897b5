import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { errorResponse, jsonResponse } from "../http/responses.ts";

/** An HTTP API (payload 2.0) handler, as the API function exports it. */
export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** A running local API server. */
export interface LocalHttpServer {
  endpoint: string;
  close(): Promise<void>;
}

/** API Gateway refuses bodies above 10 MB; the local server does the same. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const TEXT_TYPES = /^(application\/(json|.*\+json|x-www-form-urlencoded)|text\/)/i;

/**
 * Translates a Node request into the event API Gateway's HTTP API sends (payload format 2.0):
 * lower-case headers with repeated values comma-joined, cookies split out, query parameters
 * decoded and repeated ones comma-joined, non-text bodies base64-encoded.
 */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  now: Date = new Date(),
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const cookies = request.headers.cookie?.split(/;\s*/).filter((c) => c !== "");
  const text = TEXT_TYPES.test(headers["content-type"] ?? "application/json");
  const method = (request.method ?? "GET").toUpperCase();
  const requestId = randomUUID();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0
      ? { body: text ? body.toString("utf8") : body.toString("base64"), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

/** Writes a handler's result back the way API Gateway does (base64 bodies decoded, cookies set). */
export function writeResult(
  response: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies && result.cookies.length > 0) headers["set-cookie"] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  headers["content-length"] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

const lambdaContext = (requestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: "api",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:api",
  memoryLimitInMB: "512",
  awsRequestId: requestId,
  logGroupName: "/aws/lambda/api",
  logStreamName: "local",
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * The local server's own answers (a body too large, a handler that threw) in the API's error
 * shape `{"error":{"code","message","details"}}`, so clients read one shape whatever answered;
 * only the status is API Gateway's.
 */
function ownError(status: number, code: string, message: string, correlationId?: string) {
  const { body } = errorResponse(status, code, message);
  if (correlationId !== undefined) body.error.correlationId = correlationId;
  return jsonResponse(status, body);
}

/**
 * Serves an HTTP API handler on loopback, the way API Gateway would invoke it: each request
 * becomes a payload 2.0 event, the handler's result becomes the response. A handler that throws
 * is answered with the status API Gateway gives a failed integration (502), and reported to
 * `onError`; that answer and the 413 for a body over 10 MB use the API's error shape.
 */
export async function serveHttpApi(options: {
  handler: HttpApiHandler;
  port: number;
  host?: string;
  onError?: (error: unknown) => void;
}): Promise<LocalHttpServer> {
  const host = options.host ?? "127.0.0.1";
  const server: Server = createServer((request, response) => {
    void (async () => {
      let requestId: string | undefined;
      try {
        const body = await readBody(request);
        if (body === undefined) {
          writeResult(
            response,
            ownError(
              413,
              "PayloadTooLarge",
              `The request body is larger than the ${MAX_BODY_BYTES / 1024 / 1024} MB the API accepts`,
            ),
          );
          return;
        }
        const event = toApiGatewayEvent(request, body);
        requestId = event.requestContext.requestId;
        writeResult(response, await options.handler(event, lambdaContext(requestId)));
      } catch (error) {
        options.onError?.(error);
        if (!response.headersSent) {
          writeResult(
            response,
            ownError(
              502,
              "BadGateway",
              requestId === undefined
                ? "The request could not be read"
                : `The API function failed; quote correlation id ${requestId} when reporting it`,
              requestId,
            ),
          );
        } else {
          response.destroy();
        }
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
