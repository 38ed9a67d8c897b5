import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/sweep-jobs.ts";
import { scheduleInput, topology } from "../../lib/topology.ts";
import tick from "../events/scheduler/sweep-jobs.json" with { type: "json" };
import { checkpoint, job } from "../support/checkpoint-factory.ts";
import { invoke, startFunctionEnv, type FunctionEnv } from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/sweep-jobs.ts"));
});
afterAll(() => env?.close());

describe("functions/sweep-jobs", () => {
  it("is invoked with the input of the sweep-jobs schedule", () => {
    const spec = topology.schedules.find((s) => s.name === "sweep-jobs")!;
    expect(tick).toEqual(scheduleInput(spec, tick.scheduledTime));
  });

  it("fails an open job past its deadline, logging each sweep with the request id", async () => {
    await env.catalog.create(
      checkpoint({
        id: "cp-forgotten",
        simulation: "traffic-sim",
        state: "PENDING",
        completedAt: undefined,
        location: undefined,
        size: undefined,
        jobId: "job-forgotten",
      }),
    );
    await env.jobs.create(
      job({
        id: "job-forgotten",
        simulation: "traffic-sim",
        checkpointId: "cp-forgotten",
        startTime: "2026-11-23T09:00:00.000Z",
        requestedAt: "2026-11-23T09:00:01.000Z",
        nextCheckAt: "2026-11-23T09:01:00.000Z",
        deadline: "2026-11-23T10:00:00.000Z",
      }),
    );

    const { result, lines, context } = await invoke(handler, tick);

    expect(result).toEqual({ examined: 1, swept: 1 });
    expect(await env.jobs.get("job-forgotten")).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
    expect(await env.catalog.get("cp-forgotten")).toMatchObject({ state: "FAILED" });
    expect(lines.map((l) => [l.message, l.function_request_id])).toEqual([
      ["Job swept", context.awsRequestId],
      ["Jobs swept", context.awsRequestId],
    ]);
  });
});
