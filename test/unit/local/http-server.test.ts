import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { serveHttpApi, type LocalHttpServer } from "../../../lib/local/http-server.ts";

let server: LocalHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves a handler that answers with the event it received, so the translation can be read. */
async function echo(): Promise<string> {
  server = await serveHttpApi({
    port: 0,
    handler: async (event) => ({
      statusCode: 200,
      headers: { "content-type": "application/json", "x-answer": "yes" },
      cookies: ["a=1", "b=2"],
      body: JSON.stringify(event),
    }),
  });
  return server.endpoint;
}

describe("the local HTTP API server", () => {
  it("turns a request into a payload 2.0 event the way API Gateway does", async () => {
    const endpoint = await echo();
    const response = await fetch(`${endpoint}/checkpoints/a%20b?tag=x&tag=y&limit=5`, {
      method: "PATCH",
      headers: { "content-type": "application/json", "X-Custom": "v", cookie: "k=1; j=2" },
      body: JSON.stringify({ name: "n" }),
    });
    const event = (await response.json()) as APIGatewayProxyEventV2;

    expect(response.status).toBe(200);
    expect(response.headers.get("x-answer")).toBe("yes");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/checkpoints/a%20b",
      rawQueryString: "tag=x&tag=y&limit=5",
      queryStringParameters: { tag: "x,y", limit: "5" },
      cookies: ["k=1", "j=2"],
      headers: { "x-custom": "v", "content-type": "application/json" },
      requestContext: { http: { method: "PATCH", path: "/checkpoints/a%20b" }, stage: "$default" },
      body: '{"name":"n"}',
      isBase64Encoded: false,
    });
    expect(event.headers).not.toHaveProperty("cookie");
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("base64-encodes a body that is not text", async () => {
    const endpoint = await echo();
    const bytes = Buffer.from([0, 1, 2, 255]);
    const response = await fetch(`${endpoint}/upload`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    const event = (await response.json()) as APIGatewayProxyEventV2;
    expect(event).toMatchObject({ isBase64Encoded: true, body: bytes.toString("base64") });
    expect(event).not.toHaveProperty("queryStringParameters");
  });

  it("answers 502 like API Gateway when the handler throws, and reports the error", async () => {
    const errors: unknown[] = [];
    server = await serveHttpApi({
      port: 0,
      handler: async () => {
        throw new Error("boom");
      },
      onError: (error) => errors.push(error),
    });
    const response = await fetch(`${server.endpoint}/x`);
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: { correlationId: string } };
    expect(body).toEqual({
      error: {
        code: "BadGateway",
        message: `The API function failed; quote correlation id ${body.error.correlationId} when reporting it`,
        details: [],
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    expect(errors).toHaveLength(1);
  });

  it("answers a body over 10 MB with 413 in the API's error shape, without calling the handler", async () => {
    let called = false;
    server = await serveHttpApi({
      port: 0,
      handler: async () => {
        called = true;
        return { statusCode: 200 };
      },
    });
    const response = await fetch(`${server.endpoint}/checkpoints`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: {
        code: "PayloadTooLarge",
        message: "The request body is larger than the 10 MB the API accepts",
        details: [],
      },
    });
    expect(called).toBe(false);
  });
});
