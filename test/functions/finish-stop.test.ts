import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/finish-stop.ts";
import { STOP_STEPS } from "../../lib/domain/stop.ts";
import sample from "../events/sqs/final-snapshot.json" with { type: "json" };
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
  ({ handler } = await import("../../functions/finish-stop.ts"));
});
afterAll(() => env?.close());

const event = JSON.parse(sample.Records[0]!.body) as {
  detail: { checkpoint: { id: string; simulation: string } };
};

describe("functions/finish-stop", () => {
  it("stops the simulation once its final snapshot is COMPLETE, and ends the stop job", async () => {
    const { id: checkpointId, simulation } = event.detail.checkpoint;
    env.simulator!.createSimulation(simulation);
    const startTime = new Date(Date.now() - 60_000).toISOString();
    await env.jobs.create(
      job({
        id: "stop-job-4711",
        kind: "stop",
        simulation,
        checkpointId,
        startTime,
        deadline: new Date(Date.now() + 3_600_000).toISOString(),
        stop: { requestId: "ticket-4711", snapshot: true, force: false },
        steps: [{ name: STOP_STEPS.finalSnapshot, status: "RUNNING", startedAt: startTime }],
      }),
    );

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(await env.jobs.get("stop-job-4711")).toMatchObject({
      status: "SUCCEEDED",
      steps: [
        expect.objectContaining({ name: STOP_STEPS.finalSnapshot, status: "SUCCEEDED" }),
        expect.objectContaining({ name: STOP_STEPS.stopSimulation, status: "SUCCEEDED" }),
      ],
    });
    expect(env.simulator!.simulation(simulation)?.status).toMatch(/^STOPP(ING|ED)$/);
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Simulation Stopped"]);
    expect(lines).toEqual([rejectionLine("final snapshot event", context)]);
  });
});
