import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/purge-trash.ts";
import { scheduleInput, topology } from "../../lib/topology.ts";
import tick from "../events/scheduler/purge-trash-daily.json" with { type: "json" };
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
  ({ handler } = await import("../../functions/purge-trash.ts"));
});
afterAll(() => env?.close());

describe("functions/purge-trash", () => {
  it("is invoked with the input of the purge-trash-daily schedule", () => {
    const spec = topology.schedules.find((s) => s.name === "purge-trash-daily")!;
    expect(tick).toEqual(scheduleInput(spec, tick.scheduledTime));
  });

  it("removes the trashed files past their purgeAfter and keeps the others, logging with the request id", async () => {
    const keys: Record<string, string> = {};
    for (const [id, purgeAfter] of [
      ["due", "2026-11-01T00:00:00.000Z"],
      ["kept", "2099-01-01T00:00:00.000Z"],
    ] as const) {
      const key = `simsnap/trash/${id}/v1/traffic-sim-261101-1000-00.zip`;
      await env.putObject(key, "zip");
      await env.catalog.create({
        ...checkpoint({ id, simulation: "traffic-sim" }),
        state: "DELETED",
        trash: { bucket: FUNCTION_ENV_NAMES.bucket, key },
        purgeAfter,
      });
      keys[id] = key;
    }

    const { result, lines, context } = await invoke(handler, tick);

    expect(result).toEqual({ schedule: tick.schedule, purged: 1, failed: 0, orphans: 0 });
    expect(await env.objectExists(keys.due!)).toBe(false);
    expect(await env.objectExists(keys.kept!)).toBe(true);
    expect(await env.catalog.get("due")).toMatchObject({ state: "DELETED" });
    expect((await env.catalog.get("due"))?.purgedAt).toBeDefined();
    expect(lines).toEqual([
      expect.objectContaining({
        message: "Trash purge run",
        purged: 1,
        function_request_id: context.awsRequestId,
      }),
    ]);
  });
});
