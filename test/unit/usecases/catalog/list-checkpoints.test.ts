import { describe, expect, it } from "vitest";
import { CheckpointQuerySchema } from "../../../../lib/domain/checkpoint-query.ts";
import { NotFoundError } from "../../../../lib/domain/errors.ts";
import { parseInput } from "../../../../lib/domain/validation.ts";
import {
  getCheckpoint,
  listCheckpoints,
} from "../../../../lib/usecases/catalog/list-checkpoints.ts";
import { checkpoint, minutesIn } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

const query = (input: Record<string, string>) =>
  parseInput(CheckpointQuerySchema, input, "query string");

describe("listCheckpoints", () => {
  it("lists across every simulation of the catalog, or one simulation's only", async () => {
    const world = apiWorld();
    for (let i = 0; i < 1_205; i++) {
      await world.checkpoints.create(
        checkpoint({
          id: `c${String(i).padStart(4, "0")}`,
          simulation: i % 3 === 0 ? "sim-b" : "sim-a",
          createdAt: minutesIn(i),
        }),
      );
    }
    const everything = await listCheckpoints(
      query({ limit: "1000", ordering: "createdAt" }),
      world,
    );
    expect(everything.items).toHaveLength(1000);
    expect(everything.items[0]?.id).toBe("c0000");
    const rest = await listCheckpoints(
      query({ limit: "1000", ordering: "createdAt", cursor: everything.nextCursor as string }),
      world,
    );
    expect(rest.items).toHaveLength(205);
    expect(rest.nextCursor).toBeUndefined();

    const onlyB = await listCheckpoints(query({ simulation: "sim-b", limit: "1000" }), world);
    expect(onlyB.items).toHaveLength(402);
    expect(onlyB.items.every((c) => c.simulation === "sim-b")).toBe(true);
  });

  it("finds one checkpoint, and names a missing one", async () => {
    const world = apiWorld();
    await world.checkpoints.create(checkpoint({ id: "c1" }));
    expect((await getCheckpoint("c1", world)).id).toBe("c1");
    await expect(getCheckpoint("nope", world)).rejects.toThrow(NotFoundError);
    await expect(getCheckpoint("nope", world)).rejects.toThrow("Checkpoint nope does not exist");
  });
});
