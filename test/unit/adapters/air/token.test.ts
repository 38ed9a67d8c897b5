import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AirClient } from "../../../../lib/adapters/air/client.ts";
import {
  envToken,
  secretsManagerToken,
  tokenFromSecret,
} from "../../../../lib/adapters/air/token.ts";
import {
  startAirServer,
  type AirRequestRecord,
  type AirServer,
} from "../../../../lib/local/air/server.ts";
import { startHttpStub, type HttpStub } from "../../../support/http-stub.ts";

/**
 * The token sources, against Secrets Manager's JSON protocol on a loopback stub (the SDK's own
 * client, signing and parsing as in Lambda) and the local Air server for the 401 refresh.
 */

let secretValue: string | undefined;
let failNext = false;
let stub: HttpStub;
let air: AirServer;
const airRequests: AirRequestRecord[] = [];

beforeAll(async () => {
  stub = await startHttpStub((request) => {
    if (request.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
      return { status: 400, json: { __type: "UnknownOperationException" } };
    }
    if (failNext) {
      failNext = false;
      return { status: 500, json: { __type: "InternalServiceError", message: "try again" } };
    }
    const { SecretId } = request.body as { SecretId: string };
    return {
      headers: { "content-type": "application/x-amz-json-1.1" },
      text: JSON.stringify({
        ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SecretId}-AbCdEf`,
        Name: SecretId,
        SecretString: secretValue,
      }),
    };
  });
  air = await startAirServer({
    tokens: { fresh: ["air:simulation_read"] },
    simulations: [{ name: "lab" }],
    onRequest: (record) => airRequests.push(record),
  });
});
afterAll(async () => {
  await stub?.close();
  await air?.close();
});
beforeEach(() => {
  stub.requests.length = 0;
  airRequests.length = 0;
  secretValue = "first";
});

const secrets = () =>
  new SecretsManagerClient({
    endpoint: stub.url,
    region: "eu-west-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });

describe("secretsManagerToken", () => {
  it("reads the secret once per cold start, however many calls ask at once", async () => {
    const token = secretsManagerToken("air/token", secrets());
    expect(await Promise.all([token(), token(), token()])).toEqual(["first", "first", "first"]);
    secretValue = "second";
    expect(await token()).toBe("first");
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]?.body).toEqual({ SecretId: "air/token" });
  });

  it("reads the secret again when asked to refresh (after a 401)", async () => {
    const token = secretsManagerToken("air/token", secrets());
    expect(await token()).toBe("first");
    secretValue = "rotated";
    expect(await token({ refresh: true })).toBe("rotated");
    expect(await token()).toBe("rotated");
    expect(stub.requests).toHaveLength(2);
  });

  it("does not keep a failed read: the next call reads again", async () => {
    const token = secretsManagerToken("air/token", secrets());
    failNext = true;
    await expect(token()).rejects.toThrow(/try again/);
    expect(await token()).toBe("first");
  });

  it("takes the secret's text, or the token field of a JSON secret; an empty one is none", () => {
    expect(tokenFromSecret(" abc \n")).toBe("abc");
    expect(tokenFromSecret('{"token": "xyz"}')).toBe("xyz");
    expect(tokenFromSecret('{"token": ""}')).toBeUndefined();
    expect(tokenFromSecret("")).toBeUndefined();
    expect(tokenFromSecret(undefined)).toBeUndefined();
  });
});

describe("the Air client's token after a 401", () => {
  it("asks its source once more and retries with a rotated token", async () => {
    const token = secretsManagerToken("air/token", secrets());
    secretValue = "stale";
    const client = new AirClient({ endpoint: air.baseUrl, token });
    expect(await token()).toBe("stale");
    secretValue = "fresh";

    const simulations = await client.listSimulations();

    expect(simulations.map((s) => s.name)).toEqual(["lab"]);
    expect(airRequests.map((r) => r.status)).toEqual([401, 200]);
    expect(stub.requests).toHaveLength(2);
  });

  it("does not retry when the source has nothing newer, and says where the token comes from", async () => {
    process.env.TOKEN_UNDER_TEST = "revoked";
    const client = new AirClient({
      endpoint: air.baseUrl,
      token: envToken("TOKEN_UNDER_TEST"),
      tokenSource: "the TOKEN_UNDER_TEST environment variable",
    });

    await expect(client.listSimulations()).rejects.toMatchObject({
      code: "Unauthorized",
      status: 401,
      message: expect.stringMatching(
        /TOKEN_UNDER_TEST environment variable is missing, malformed, expired or revoked/,
      ) as unknown,
    });
    expect(airRequests.map((r) => r.status)).toEqual([401]);
  });
});
