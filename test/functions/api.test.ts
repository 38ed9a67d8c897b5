import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/api.ts";
import { DynamoDbRetentionBaseStore } from "../../lib/adapters/dynamodb/retention-base-store.ts";
import { RetentionPolicySchema } from "../../lib/domain/retention.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import sample from "../events/apigateway/get-checkpoint.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import {
  FUNCTION_ENV_NAMES,
  invoke,
  startFunctionEnv,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  process.env.SIMSNAP_RETENTION = JSON.stringify({ default: { keepLast: 2 } });
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

  it("answers a prune dry run measured against the simulation's last approved run", async () => {
    // Two checkpoints a run approved, then three completed within one debounce window.
    for (const [i, hour] of [8, 9, 10, 10.3, 10.6].entries()) {
      const at = new Date(Date.UTC(2026, 10, 23, 0, hour * 60)).toISOString();
      const done = new Date(Date.parse(at) + 60_000).toISOString();
      await env.catalog.create(
        checkpoint({
          id: `guarded-${i}`,
          simulation: "guarded-sim",
          createdAt: at,
          completedAt: done,
          location: {
            bucket: FUNCTION_ENV_NAMES.bucket,
            key: snapshotKey("simsnap", "guarded-sim", new Date(at)),
          },
        }),
      );
    }
    const dryRun = async () => {
      const body = JSON.stringify({ simulation: "guarded-sim", dryRun: true });
      const post = {
        ...request,
        rawPath: "/prune",
        body,
        headers: { ...request.headers, "content-type": "application/json" },
        requestContext: {
          ...request.requestContext,
          http: { ...request.requestContext.http, method: "POST", path: "/prune" },
        },
      };
      const { result } = await invoke(handler, post);
      expect(result?.statusCode).toBe(200);
      return JSON.parse(result!.body!).plans[0];
    };
    expect((await dryRun()).refused).toMatch(/remove 3 of 5 COMPLETE .* \(60%\)/);

    await new DynamoDbRetentionBaseStore(env.aws.doc, FUNCTION_ENV_NAMES.table).put({
      scope: "checkpoints",
      simulation: "guarded-sim",
      runId: "earlier",
      at: "2026-11-23T09:02:00.000Z",
      newest: "2026-11-23T09:00:00.000Z",
      policy: RetentionPolicySchema.parse({ keepLast: 2 }),
    });
    expect(await dryRun()).toMatchObject({ refused: null, remove: [{}, {}, {}] });
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
