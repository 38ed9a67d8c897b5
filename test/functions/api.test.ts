import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/api.ts";
import sample from "../events/apigateway/get-checkpoint.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import { invoke, startFunctionEnv, type FunctionEnv } from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/api.ts"));
});
afterAll(() => env?.close());

const request = sample as unknown as APIGatewayProxyEventV2;

describe("functions/api", () => {
  it("answers an HTTP API request with the checkpoint, logging with both request ids", async () => {
    await env.catalog.create(checkpoint({ id: "cp-hourly-1015", simulation: "traffic-sim" }));

    const { result, lines, context } = await invoke(handler, request);

    expect(result).toMatchObject({
      statusCode: 200,
      headers: expect.objectContaining({ "x-correlation-id": sample.requestContext.requestId }),
    });
    expect(JSON.parse(result!.body!)).toMatchObject({
      id: "cp-hourly-1015",
      simulation: "traffic-sim",
    });
    expect(lines).toEqual([
      expect.objectContaining({
        message: "Request",
        method: "GET",
        path: sample.rawPath,
        status: 200,
        correlationId: sample.requestContext.requestId,
        function_request_id: context.awsRequestId,
      }),
    ]);
  });

  it("refuses an event of another payload format at the edge, naming the field", async () => {
    const payload1 = { ...sample, version: "1.0", httpMethod: "GET", path: sample.rawPath };

    const { error } = await invoke(handler, payload1 as unknown as APIGatewayProxyEventV2);

    expect(error).toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/^Invalid HTTP API event: version: /),
    });
  });
});
