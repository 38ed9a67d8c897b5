import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/sync-checkpoints.ts";
import { loadSimulationCheckpoints } from "../../lib/usecases/catalog/list-checkpoints.ts";
import { scheduleInput, topology } from "../../lib/topology.ts";
import tick from "../events/scheduler/sync-checkpoints.json" with { type: "json" };
import {
  FUNCTION_ENV_AIR_TOKEN,
  invoke,
  startFunctionEnv,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv({
    air: {
      simulations: [
        {
          name: "air-lab",
          checkpoints: [
            { name: "monday", created: new Date("2026-11-23T09:00:00Z") },
            { name: "tuesday", favorite: true, created: new Date("2026-11-24T09:00:00Z") },
          ],
        },
      ],
    },
  });
  ({ handler } = await import("../../functions/sync-checkpoints.ts"));
});
afterAll(() => env?.close());

const catalogOf = () => loadSimulationCheckpoints(env.catalog, "air-lab");

describe("functions/sync-checkpoints", () => {
  it("is invoked with the input of the sync-checkpoints schedule", () => {
    const spec = topology.schedules.find((s) => s.name === "sync-checkpoints")!;
    expect(tick).toEqual(scheduleInput(spec, tick.scheduledTime));
  });

  it("mirrors NVIDIA Air's checkpoints into the catalog, logging the sync with the request id", async () => {
    const { result, lines, context } = await invoke(handler, tick);

    expect(result).toEqual({ simulations: 1, changed: 2 });
    const records = await catalogOf();
    expect(
      records.map((c) => [c.name, c.provider, c.state, c.trigger, c.favorite, c.location]),
    ).toEqual([
      ["monday", "air", "COMPLETE", "discovered", false, undefined],
      ["tuesday", "air", "COMPLETE", "discovered", true, undefined],
    ]);
    expect(env.events.map((e) => e["detail-type"])).toEqual([
      "Checkpoint Completed",
      "Checkpoint Completed",
    ]);
    expect(lines.map((l) => [l.message, l.function_request_id])).toEqual([
      ["Checkpoints synced", context.awsRequestId],
      ["Platform checkpoints synced", context.awsRequestId],
    ]);

    // A second tick finds nothing to do.
    expect((await invoke(handler, tick)).result).toEqual({ simulations: 1, changed: 0 });
  });

  it("marks a checkpoint NVIDIA Air deleted on its own DELETED, with the reason", async () => {
    const monday = (await catalogOf()).find((c) => c.name === "monday");
    env.air?.deleteCheckpointByAir(monday?.platformId ?? "");
    env.events.length = 0;

    const { result } = await invoke(handler, tick);

    expect(result).toEqual({ simulations: 1, changed: 1 });
    const deleted = await env.catalog.get(monday?.id ?? "");
    expect(deleted?.state).toBe("DELETED");
    expect(deleted?.error?.message).toMatch(/air/i);
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Deleted"]);
  });

  it("fails the tick with Air's clear refusal when the token is revoked, changing nothing", async () => {
    const before = await catalogOf();
    process.env.AIR_API_TOKEN = "revoked";
    try {
      const { error, lines } = await invoke(handler, tick);
      expect((error as Error).message).toMatch(
        /NVIDIA Air rejected the token .*AIR_API_TOKEN environment variable/,
      );
      expect(lines.some((l) => l.level === "ERROR")).toBe(false);
    } finally {
      process.env.AIR_API_TOKEN = FUNCTION_ENV_AIR_TOKEN;
    }
    expect(await catalogOf()).toEqual(before);
  });
});
