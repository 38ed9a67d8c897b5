import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveEndpoint, unreachableError } from "../../../cli/endpoint.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { cliHint, writeEndpointFile } from "../../../lib/local/endpoint-file.ts";
import { SimsnapConnectionError } from "../../../packages/client/src/errors.ts";

function projectWithStack(endpoint?: string): string {
  const cwd = mkdtempSync(join(tmpdir(), "simsnap-endpoint-"));
  mkdirSync(join(cwd, ".simsnap"));
  if (endpoint !== undefined) {
    writeEndpointFile(join(cwd, ".simsnap"), {
      endpoint,
      pid: 4242,
      startedAt: "2026-12-01T10:00:00.000Z",
    });
  }
  return cwd;
}

const refused = () =>
  new SimsnapConnectionError("Cannot reach the simsnap API", {
    cause: Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    }),
  });

describe("where the CLI finds the API", () => {
  it("takes --endpoint, then $SIMSNAP_ENDPOINT, then the local stack's file, then the default", () => {
    const cwd = projectWithStack("http://127.0.0.1:40123");
    const env = { SIMSNAP_ENDPOINT: "http://api.example:1" };
    expect(resolveEndpoint("http://flag:2", env, cwd).endpoint).toBe("http://flag:2");
    expect(resolveEndpoint(undefined, env, cwd).endpoint).toBe("http://api.example:1");
    expect(resolveEndpoint(undefined, {}, cwd)).toMatchObject({
      endpoint: "http://127.0.0.1:40123",
      source: { kind: "file", record: { pid: 4242 } },
    });
    expect(resolveEndpoint(undefined, {}, projectWithStack())).toMatchObject({
      endpoint: "http://127.0.0.1:8080",
      source: { kind: "default" },
    });
  });

  it("refuses a broken endpoint file or variable instead of guessing another stack", () => {
    const cwd = projectWithStack();
    writeFileSync(join(cwd, ".simsnap", "api-endpoint.json"), '{"endpoint":"nowhere"}');
    expect(() => resolveEndpoint(undefined, {}, cwd)).toThrow(ValidationError);
    expect(() => resolveEndpoint(undefined, {}, cwd)).toThrow(
      /api-endpoint.json is not a local stack's endpoint file: endpoint: must be a URL/,
    );
    expect(() => resolveEndpoint(undefined, { SIMSNAP_ENDPOINT: "8080" }, cwd)).toThrow(
      "$SIMSNAP_ENDPOINT: must be a URL such as http://127.0.0.1:8080",
    );
  });

  it("says, when the API cannot be reached, how to start it or where the endpoint came from", () => {
    const stale = projectWithStack("http://127.0.0.1:40123");
    const cases = [
      [
        resolveEndpoint(undefined, {}, projectWithStack()),
        /no local stack is running here \(no .*api-endpoint.json\); start one with npm start/,
      ],
      [
        resolveEndpoint(undefined, {}, stale),
        /comes from .*api-endpoint.json, written by a local stack \(pid 4242, started 2026-12-01T10:00:00.000Z\) that is not answering; start it again with npm start/,
      ],
      [
        resolveEndpoint(undefined, { SIMSNAP_ENDPOINT: "http://x:1" }, stale),
        /comes from \$SIMSNAP_ENDPOINT/,
      ],
      [resolveEndpoint("http://x:1", {}, stale), /check --endpoint/],
    ] as const;
    for (const [resolved, advice] of cases) {
      const message = unreachableError(refused(), resolved).message;
      expect(message).toMatch(
        new RegExp(`^cannot reach the simsnap API at ${resolved.endpoint} \\(ECONNREFUSED\\): `),
      );
      expect(message).toMatch(advice);
    }
  });
});

describe("the local stack's hint", () => {
  const base = { endpoint: "http://127.0.0.1:40123", defaultDataDir: "/repo/.simsnap" };
  it("is the bare command when the CLI finds the stack by itself, else names --endpoint", () => {
    expect(cliHint({ ...base, dataDir: "/repo/.simsnap", env: {} })).toBe(
      "npm run --silent simsnap -- checkpoints list",
    );
    expect(cliHint({ ...base, dataDir: "/tmp/other", env: {} })).toBe(
      "npm run --silent simsnap -- checkpoints list --endpoint http://127.0.0.1:40123",
    );
    expect(
      cliHint({ ...base, dataDir: "/repo/.simsnap", env: { SIMSNAP_ENDPOINT: "http://x:1" } }),
    ).toBe("npm run --silent simsnap -- checkpoints list --endpoint http://127.0.0.1:40123");
  });
});
