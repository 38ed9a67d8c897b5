import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/purge-trash.ts";
import { AirClient } from "../../lib/adapters/air/client.ts";
import { heldCheckpointId } from "../../lib/domain/platform-checkpoint.ts";
import tick from "../events/scheduler/purge-trash-daily.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import {
  FUNCTION_ENV_AIR_TOKEN,
  invoke,
  startFunctionEnv,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  // An NVIDIA Air simulation with two checkpoints, both trashed by simsnap (kept on Air).
  env = await startFunctionEnv({
    air: {
      simulations: [
        {
          name: "air-lab",
          checkpoints: [
            { name: "monday", created: new Date("2026-11-23T09:00:00Z") },
            { name: "tuesday", created: new Date("2026-11-24T09:00:00Z") },
          ],
        },
      ],
    },
  });
  ({ handler } = await import("../../functions/purge-trash.ts"));
});
afterAll(() => env?.close());

describe("functions/purge-trash on NVIDIA Air (the local Air server)", () => {
  it("deletes on Air a trashed checkpoint past its purgeAfter, and only then clears the mark", async () => {
    const server = env.air!;
    const air = new AirClient({ endpoint: server.baseUrl, token: () => FUNCTION_ENV_AIR_TOKEN });
    const simulation = server.simulations().find((s) => s.name === "air-lab")!;
    const held = await air.listCheckpoints({ simulation: simulation.id, ordering: "created" });
    const ids: string[] = [];
    for (const [index, purgeAfter] of [
      "2026-11-30T00:00:00.000Z",
      "2099-01-01T00:00:00.000Z",
    ].entries()) {
      const one = held[index]!;
      const id = heldCheckpointId("air", one.id);
      await env.catalog.create({
        ...checkpoint({
          id,
          simulation: "air-lab",
          provider: "air",
          platformId: one.id,
          location: undefined,
          size: undefined,
        }),
        state: "DELETED",
        trashOnPlatform: true,
        purgeAfter,
      });
      ids.push(id);
    }

    const { result } = await invoke(handler, tick);

    expect(result).toMatchObject({ purged: 1, failed: 0 });
    expect((await air.getCheckpoint(held[0]!.id)).state).toBe("DELETED");
    expect((await air.getCheckpoint(held[1]!.id)).state).toBe("COMPLETE");
    const purged = await env.catalog.get(ids[0]!);
    expect(purged?.purgedAt).toBeDefined();
    expect(purged?.trashOnPlatform).toBeUndefined();
    expect(await env.catalog.get(ids[1]!)).toMatchObject({ trashOnPlatform: true });
    expect((await env.catalog.get(ids[1]!))?.purgedAt).toBeUndefined();
  });
});
