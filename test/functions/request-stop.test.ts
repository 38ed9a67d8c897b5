import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/request-stop.ts";
import { finalSnapshotRequestId, stopJobId } from "../../lib/usecases/stop/request-stop.ts";
import sample from "../events/sqs/stop-request.json" with { type: "json" };
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
  ({ handler } = await import("../../functions/request-stop.ts"));
});
afterAll(() => env?.close());

const event = JSON.parse(sample.Records[0]!.body) as {
  detail: { simulation: string; requestId: string };
};

describe("functions/request-stop", () => {
  it("records a stop job and asks for the final snapshot", async () => {
    env.simulator!.createSimulation(event.detail.simulation);

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    const jobId = stopJobId(event.detail.requestId);
    expect(await env.jobs.get(jobId)).toMatchObject({
      kind: "stop",
      status: "RUNNING",
      simulation: event.detail.simulation,
      stop: { requestId: event.detail.requestId, reason: "end of study" },
    });
    expect(await env.received("snapshot-requests")).toEqual([
      expect.objectContaining({
        requestId: finalSnapshotRequestId(jobId),
        simulation: event.detail.simulation,
        trigger: "shutdown",
      }),
    ]);
    expect(lines).toEqual([rejectionLine("Simulation Stop Requested event", context)]);
  });
});
