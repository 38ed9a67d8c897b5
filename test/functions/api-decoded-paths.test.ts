import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/api.ts";
import cutAtQuestionMark from "../events/apigateway/delete-checkpoint-cut-at-question-mark.json" with { type: "json" };
import decodedName from "../events/apigateway/stop-simulation-decoded-name.json" with { type: "json" };
import decodedSlash from "../events/apigateway/undelete-decoded-slash.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import { invoke, startFunctionEnv, type FunctionEnv } from "../support/function-env.ts";

// HTTP API events as API Gateway hands them over, path already decoded (see the samples and
// lib/http/sent-path.ts); each carries the path the simsnap client sent in x-simsnap-path.
let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/api.ts"));
  await env.catalog.create(checkpoint({ id: "cp-hourly-1015", simulation: "traffic-sim" }));
});
afterAll(() => env?.close());

const asEvent = (sample: unknown) => sample as APIGatewayProxyEventV2;
const bodyOf = (result: { body?: string } | undefined) => JSON.parse(result?.body ?? "null");

describe("functions/api behind an HTTP API that decodes paths", () => {
  it("refuses a DELETE whose path was cut at a decoded ?, leaving the checkpoint it would have hit", async () => {
    const before = await env.catalog.get("cp-hourly-1015");

    const { result } = await invoke(handler, asEvent(cutAtQuestionMark));

    expect(result?.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({
      error: {
        code: "PathAltered",
        message: expect.stringContaining('as "/checkpoints/cp-hourly-1015"'),
      },
    });
    expect(await env.catalog.get("cp-hourly-1015")).toEqual(before);
  });

  it("refuses a POST whose encoded / became a segment boundary (another route)", async () => {
    const before = await env.catalog.get("cp-hourly-1015");

    const { result } = await invoke(handler, asEvent(decodedSlash));

    expect(result?.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { code: "PathAltered" } });
    expect(await env.catalog.get("cp-hourly-1015")).toEqual(before);
  });

  it("routes a decoded name that reads as sent (a stop of My First Simulation)", async () => {
    const { result } = await invoke(handler, asEvent(decodedName));

    // No platform here knows it: the answer names the whole name, so it was routed as sent.
    expect(result?.statusCode).toBe(404);
    expect(bodyOf(result)).toMatchObject({
      error: { message: "Simulation My First Simulation does not exist" },
    });
  });
});
