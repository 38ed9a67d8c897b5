import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/plan-snapshots.ts";
import tick from "../events/scheduler/tick.json" with { type: "json" };
import { invoke, startFunctionEnv, type FunctionEnv } from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv({ simulator: true });
  ({ handler } = await import("../../functions/plan-snapshots.ts"));
});
afterAll(() => env?.close());

describe("functions/plan-snapshots", () => {
  it("sends one snapshot request per running simulation the tick selects", async () => {
    env.simulator!.createSimulation("traffic-sim");
    env.simulator!.createSimulation("ocean-sim");
    env.simulator!.createSimulation("idle-sim", { status: "STOPPED" });

    const { result, lines, context } = await invoke(handler, tick);

    expect(result).toEqual({ requested: ["ocean-sim", "traffic-sim"], cycled: [], skipped: [] });
    expect(await env.received("snapshot-requests")).toEqual(
      ["ocean-sim", "traffic-sim"].map((simulation) =>
        expect.objectContaining({ simulation, trigger: "schedule", schedule: tick.schedule }),
      ),
    );
    expect(lines).toEqual([
      expect.objectContaining({
        message: "Snapshots planned",
        schedule: tick.schedule,
        simulations: ["ocean-sim", "traffic-sim"],
        function_request_id: context.awsRequestId,
        cold_start: expect.any(Boolean),
      }),
    ]);
  });

  it("refuses an input that is not a schedule tick, naming the field", async () => {
    const { error } = await invoke(handler, { ...tick, scheduledTime: "yesterday" });

    expect(error).toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/^Invalid schedule tick: scheduledTime: /),
    });
    expect(await env.received("snapshot-requests")).toEqual([]);
  });
});
