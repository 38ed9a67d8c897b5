import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/restore-checkpoint.ts";
import sample from "../events/sqs/restore-step.json" with { type: "json" };
import { job } from "../support/checkpoint-factory.ts";
import {
  INVALID_MESSAGE_ID,
  invoke,
  rejectionLine,
  startFunctionEnv,
  withInvalidRecord,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv({ simulator: true });
  ({ handler } = await import("../../functions/restore-checkpoint.ts"));
});
afterAll(() => env?.close());

const step = JSON.parse(sample.Records[0]!.body) as { jobId: string; dueAt: string };

describe("functions/restore-checkpoint", () => {
  it("fails a restore job whose deadline passed while its step waited", async () => {
    await env.jobs.create(
      job({
        id: step.jobId,
        kind: "restore",
        simulation: "traffic-sim",
        checkpointId: "cp-hourly-1015",
        startTime: "2026-11-23T12:00:00.000Z",
        nextCheckAt: step.dueAt,
        deadline: "2026-11-25T12:00:00.000Z",
        restore: { target: "traffic-sim-restored", clientToken: "token-4711", phase: "thawing" },
      }),
    );

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(await env.jobs.get(step.jobId)).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Restore Failed"]);
    expect(lines).toEqual([rejectionLine("restore step", context)]);
  });
});
