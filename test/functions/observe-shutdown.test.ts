import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/observe-shutdown.ts";
import sample from "../events/sqs/simulation-shutdown.json" with { type: "json" };
import { checkpoint, job } from "../support/checkpoint-factory.ts";
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
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/observe-shutdown.ts"));
});
afterAll(() => env?.close());

describe("functions/observe-shutdown", () => {
  it("fails the open snapshot job of a simulation CloudTrail saw stopped", async () => {
    // Started before the StopSimulation call of the sample (2026-11-23T11:02:07Z).
    await env.catalog.create(
      checkpoint({
        id: "cp-cut-short",
        simulation: "traffic-sim",
        state: "PENDING",
        completedAt: undefined,
        location: undefined,
        size: undefined,
        jobId: "job-cut-short",
      }),
    );
    await env.jobs.create(
      job({
        id: "job-cut-short",
        simulation: "traffic-sim",
        checkpointId: "cp-cut-short",
        startTime: "2026-11-23T11:00:00.000Z",
        deadline: "2026-11-23T12:00:00.000Z",
      }),
    );

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(await env.jobs.get("job-cut-short")).toMatchObject({
      status: "FAILED",
      error: { code: "SimulationEnded" },
    });
    expect(await env.catalog.get("cp-cut-short")).toMatchObject({ state: "FAILED" });
    expect(lines).toEqual([
      rejectionLine("CloudTrail StopSimulation/DeleteSimulation event", context),
    ]);
  });
});
