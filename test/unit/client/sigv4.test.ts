import { describe, expect, it } from "vitest";
import { sigV4Fetch } from "../../../packages/client/src/sigv4.ts";

describe("sigV4Fetch", () => {
  it("signs each request for execute-api in the region, covering query and body", async () => {
    const sent: { url: string; headers: Record<string, string>; body?: unknown }[] = [];
    const signed = sigV4Fetch({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        sent.push({
          url: String(input),
          headers: Object.fromEntries(new Headers(init?.headers).entries()),
          body: init?.body,
        });
        return new Response("{}");
      }) as typeof fetch,
    });

    await signed("https://abc.execute-api.eu-west-1.amazonaws.com/checkpoints?limit=5", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: '{"name":"n"}',
    });

    const [request] = sent;
    expect(request?.url).toBe(
      "https://abc.execute-api.eu-west-1.amazonaws.com/checkpoints?limit=5",
    );
    expect(request?.body).toBe('{"name":"n"}');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers).not.toHaveProperty("host");
    await expect(
      signed("https://x/y", { method: "POST", body: new Uint8Array([1]) }),
    ).rejects.toThrow("string bodies only");
  });
});
