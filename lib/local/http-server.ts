import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";

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
 * Serves an HTTP API handler on loopback, the way API Gateway would invoke it: each request
 * becomes a payload 2.0 event, the handler's result becomes the response. A handler that throws
 * is answered like API Gateway answers a failed integration (502), and reported to `onError`.
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
      try {
        const body = await readBody(request);
        if (body === undefined) {
          writeResult(response, {
            statusCode: 413,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "Request Entity Too Large" }),
          });
          return;
        }
        const event = toApiGatewayEvent(request, body);
        writeResult(
          response,
          await options.handler(event, lambdaContext(event.requestContext.requestId)),
        );
      } catch (error) {
        options.onError?.(error);
        if (!response.headersSent) {
          writeResult(response, {
            statusCode: 502,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "Internal Server Error" }),
          });
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
