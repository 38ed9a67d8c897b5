import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { httpApi, route } from "../../../lib/http/router.ts";
import { sentPathRefusal } from "../../../lib/http/sent-path.ts";

/**
 * What API Gateway's HTTP API (payload 2.0) handed Lambda as `rawPath` for each path sent, from
 * live captures (us-west-2, July 2026) published with hotsock/voker's ingress probe
 * (vokerhttp/testdata/ingress-paths.json); `%25` alone was refused by the gateway (no event).
 * The local stack and Lambda function URLs hand the path over as sent.
 */
const HTTP_API_CAPTURES: { sent: string; rawPath: string; same: boolean }[] = [
  { sent: "/capture/plain", rawPath: "/capture/plain", same: true },
  { sent: "/capture/space%20value", rawPath: "/capture/space value", same: true },
  { sent: "/capture/hash%23value", rawPath: "/capture/hash#value", same: true },
  {
    sent: "/capture/unicode-%CE%BB-%E4%B8%96%E7%95%8C",
    rawPath: "/capture/unicode-λ-世界",
    same: true,
  },
  // Cut at the decoded "?": the rest of the path is gone.
  { sent: "/capture/question%3Fvalue", rawPath: "/capture/question", same: false },
  // A decoded "/" is a segment boundary.
  { sent: "/capture/slash%2Fvalue", rawPath: "/capture/slash/value", same: false },
  // Decoded twice.
  { sent: "/capture/literal%252Fvalue", rawPath: "/capture/literal/value", same: false },
  { sent: "/capture/literal%253Fvalue", rawPath: "/capture/literal?value", same: false },
  { sent: "/capture/literal%2525value", rawPath: "/capture/literal%value", same: false },
];

describe("sentPathRefusal", () => {
  it.each(HTTP_API_CAPTURES)(
    "behind HTTP API, $sent arriving as $rawPath is routed only when it reads the same",
    ({ sent, rawPath, same }) => {
      const refusal = sentPathRefusal(rawPath, sent);
      if (same) expect(refusal).toBeUndefined();
      else expect(refusal).toMatch(/^The request path reached simsnap as .* not routed/);
    },
  );

  it.each(HTTP_API_CAPTURES)(
    "behind the local stack or a function URL, $sent arrives as sent and is routed",
    ({ sent }) => {
      expect(sentPathRefusal(sent, sent)).toBeUndefined();
    },
  );

  it("routes as before without the header (a caller that does not send it)", () => {
    expect(sentPathRefusal("/capture/question", undefined)).toBeUndefined();
  });

  it("refuses a header that is no encoded path", () => {
    expect(sentPathRefusal("/a b", "/a b")).toMatch(/^x-simsnap-path must be the request path/);
    expect(sentPathRefusal("/a", "a")).toMatch(/^x-simsnap-path must be/);
  });
});

describe("the router with x-simsnap-path", () => {
  const seen: string[] = [];
  const api = httpApi([
    route({
      method: "DELETE",
      path: "/things/{id}",
      operationId: "deleteThing",
      summary: "test",
      responses: { 204: { description: "gone", body: z.unknown() } },
      handle: async ({ params }) => {
        seen.push((params as { id: string }).id);
        return { status: 204 };
      },
    }),
  ]);
  const event = (rawPath: string, sent?: string) =>
    ({
      version: "2.0",
      rawPath,
      headers: sent === undefined ? {} : { "x-simsnap-path": sent },
      isBase64Encoded: false,
      requestContext: { requestId: "r-1", http: { method: "DELETE", path: rawPath } },
    }) as unknown as APIGatewayProxyEventV2;

  it("refuses a path the gateway cut at a decoded ?, with 400 PathAltered, and runs nothing", async () => {
    const result = await api(event("/things/thing-1", "/things/thing-1%3Fv2"));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      error: { code: "PathAltered", details: [{ path: "x-simsnap-path" }] },
    });
    expect(seen).toEqual([]);
  });

  it("routes a decoded name that reads as sent, and an encoded one", async () => {
    await api(event("/things/My Thing", "/things/My%20Thing"));
    await api(event("/things/My%20Thing", "/things/My%20Thing"));
    expect(seen).toEqual(["My Thing", "My Thing"]);
  });
});
