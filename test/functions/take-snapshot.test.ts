import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/take-snapshot.ts";
import { snapshotIdsFor } from "../../lib/usecases/snapshot/take-snapshot.ts";
import sample from "../events/sqs/snapshot-request.json" with { type: "json" };
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
  ({ handler } = await import("../../functions/take-snapshot.ts"));
});
afterAll(() => env?.close());

const request = JSON.parse(sample.Records[0]!.body) as { requestId: string; simulation: string };

describe("functions/take-snapshot", () => {
  it("records the checkpoint and its job and asks the provider for the snapshot", async () => {
    env.simulator!.createSimulation(request.simulation);

    const { result, lines, context } = await invoke(handler, withInvalidRecord(sample) as SQSEvent);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    const { checkpointId, jobId } = snapshotIdsFor(request.requestId);
    expect(await env.catalog.get(checkpointId)).toMatchObject({
      state: "PENDING",
      simulation: request.simulation,
      trigger: "schedule",
      jobId,
    });
    expect(await env.jobs.get(jobId)).toMatchObject({
      status: "RUNNING",
      requestedAt: expect.any(String),
      nextCheckAt: expect.any(String),
    });
    expect(env.simulator!.simulation(request.simulation)?.status).toBe("SNAPSHOT_IN_PROGRESS");
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Snapshot Requested"]);
    expect(lines).toEqual([rejectionLine("snapshot request", context)]);
  });
});
