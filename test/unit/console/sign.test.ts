import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { signRequest } from "../../../console/src/sign.ts";

const credentials = {
  region: "eu-west-1",
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "token",
};
const now = new Date("2026-12-01T12:00:00Z");

describe("signRequest (the console's SigV4 in the browser)", () => {
  it("signs what the browser sends: the URL's host, path and query, the body, a session token", async () => {
    const url =
      "https://abc123.execute-api.eu-west-1.amazonaws.com/checkpoints?simulation=My%20Sim&limit=5";
    const body = '{"favorite":true}';
    const headers = await signRequest(
      { method: "PATCH", url, headers: { "content-type": "application/json" }, body },
      credentials,
      now,
    );
    // The browser sets Host itself and refuses a script's; it is signed, not sent.
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain("host");
    expect(headers["x-amz-security-token"]).toBe("token");

    const expected = await new SignatureV4({
      service: "execute-api",
      region: "eu-west-1",
      sha256: Sha256,
      credentials,
    }).sign(
      new HttpRequest({
        method: "PATCH",
        protocol: "https:",
        hostname: "abc123.execute-api.eu-west-1.amazonaws.com",
        path: "/checkpoints",
        query: { simulation: "My Sim", limit: "5" },
        headers: {
          "content-type": "application/json",
          host: "abc123.execute-api.eu-west-1.amazonaws.com",
        },
        body,
      }),
      { signingDate: now },
    );
    expect(headers.authorization).toBe(expected.headers.authorization);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261201\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
  });

  it("signs a port other than the scheme's as part of the host", async () => {
    const headers = await signRequest(
      { method: "GET", url: "http://127.0.0.1:8080/simulations", headers: {} },
      { ...credentials, sessionToken: undefined },
      now,
    );
    const expected = await new SignatureV4({
      service: "execute-api",
      region: "eu-west-1",
      sha256: Sha256,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
      },
    }).sign(
      new HttpRequest({
        method: "GET",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 8080,
        path: "/simulations",
        headers: { host: "127.0.0.1:8080" },
      }),
      { signingDate: now },
    );
    expect(headers.authorization).toBe(expected.headers.authorization);
    expect(headers["x-amz-security-token"]).toBeUndefined();
  });
});
