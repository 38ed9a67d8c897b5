import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LambdaUserCheck } from "../../../../lib/adapters/user-check/lambda.ts";
import { ProviderError } from "../../../../lib/domain/errors.ts";

const ARN = "arn:aws:lambda:us-east-1:123456789012:function:restore-check";
const input = {
  jobId: "job-1",
  checkpointId: "cp-1",
  simulation: "ocean",
  provider: "simspaceweaver",
  throwaway: "simsnap-verify-0123456789abcdef",
};

/** How the stub Lambda endpoint answers the next invoke, and what it was sent. */
let answer: (request: IncomingMessage) => {
  status: number;
  body: string;
  headers?: Record<string, string>;
} = () => ({ status: 200, body: "{}" });
const seen: { url?: string; authorization?: string; invocationType?: string; body: string }[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      seen.push({
        url: request.url,
        authorization: request.headers.authorization,
        invocationType: request.headers["x-amz-invocation-type"] as string,
        body,
      });
      const reply = answer(request);
      if (reply.status === 0) return; // never answers
      response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const check = () =>
  new LambdaUserCheck(ARN, {
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
  });

describe("LambdaUserCheck", () => {
  it("invokes the function synchronously, signed for Lambda, and takes its answer", async () => {
    answer = () => ({ status: 200, body: '{"status":"PASSED","detail":"tick 57 resumed"}' });
    expect(await check().run(input, 5_000)).toEqual({
      status: "PASSED",
      detail: "tick 57 resumed",
    });
    const request = seen.at(-1);
    expect(request?.url).toBe(`/2015-03-31/functions/${encodeURIComponent(ARN)}/invocations`);
    expect(request?.authorization).toMatch(
      /Credential=AKID\/\d{8}\/us-east-1\/lambda\/aws4_request/,
    );
    expect(request?.invocationType).toBe("RequestResponse");
    expect(JSON.parse(request?.body ?? "")).toEqual(input);
  });

  it("fails on the function's own error, on an answer of another shape, and on no answer in time", async () => {
    answer = () => ({
      status: 200,
      body: '{"errorMessage":"boom"}',
      headers: { "x-amz-function-error": "Unhandled" },
    });
    expect(await check().run(input, 5_000)).toMatchObject({
      status: "FAILED",
      detail: expect.stringContaining("the function failed (Unhandled)"),
    });
    answer = () => ({ status: 200, body: '"ok"' });
    expect((await check().run(input, 5_000)).detail).toMatch(/^answered "ok", not \{"status"/);
    answer = () => ({ status: 0, body: "" });
    expect(await check().run(input, 200)).toEqual({
      status: "FAILED",
      detail: "gave no answer within 0.2 s",
    });
  });

  it("throws throttling as retryable (no verdict on it), and fails on a refused invoke", async () => {
    answer = () => ({ status: 429, body: '{"message":"Rate exceeded"}' });
    const error = await check()
      .run(input, 5_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).retryable).toBe(true);
    answer = () => ({ status: 403, body: '{"message":"not authorized"}' });
    expect((await check().run(input, 5_000)).detail).toMatch(/^could not be invoked \(403\)/);
  });
});
