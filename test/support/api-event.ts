import type { APIGatewayProxyEventV2 } from "aws-lambda";

/**
 * An API Gateway HTTP API event (payload 2.0) as API Gateway sends it for `method` and
 * `pathAndQuery`, so router tests go through the same parsing as the deployed function.
 */
export function apiEvent(
  method: string,
  pathAndQuery: string,
  options: { body?: unknown; headers?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const url = new URL(pathAndQuery, "http://api");
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, name) => (query[name] = value));
  const raw =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: options.headers ?? {},
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "1",
      apiId: "api",
      domainName: "api",
      domainPrefix: "api",
      http: { method, path: url.pathname, protocol: "HTTP/1.1", sourceIp: "::1", userAgent: "t" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
    },
    ...(raw === undefined
      ? { isBase64Encoded: false }
      : options.base64
        ? { body: Buffer.from(raw).toString("base64"), isBase64Encoded: true }
        : { body: raw, isBase64Encoded: false }),
  };
}
