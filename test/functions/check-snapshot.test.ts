import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/check-snapshot.ts";
import sample from "../events/sqs/status-check.json" with { type: "json" };
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
  env = await startFunctionEnv({ simulator: true });
  ({ handler } = await import("../../functions/check-snapshot.ts"));
});
afterAll(() => env?.close());

const check = JSON.parse(sample.Records[0]!.body) as {
  jobId: string;
  check: number;
  dueAt: string;
};

describe("functions/check-snapshot", () => {
  it("fails the job of a simulation the provider no longer has", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await env.catalog.create(
      checkpoint({
        id: "cp-checked",
        simulation: "traffic-sim",
        state: "PENDING",
        completedAt: undefined,
        location: undefined,
        size: undefined,
        jobId: check.jobId,
      }),
    );
    await env.jobs.create(
      job({
        id: check.jobId,
        simulation: "traffic-sim",
        checkpointId: "cp-checked",
        requestedAt: "2026-11-23T10:00:01.000Z",
        nextCheckAt: check.dueAt,
        checks: check.check,
        deadline: future,
      }),
    );

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(await env.jobs.get(check.jobId)).toMatchObject({
      status: "FAILED",
      error: { code: "SimulationEnded" },
    });
    expect(await env.catalog.get("cp-checked")).toMatchObject({ state: "FAILED" });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Failed"]);
    expect(lines).toEqual([rejectionLine("status check", context)]);
  });
});
