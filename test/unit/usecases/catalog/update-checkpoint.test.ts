import { describe, expect, it } from "vitest";
import {
  ConcurrentModificationError,
  IllegalTransitionError,
  NotFoundError,
} from "../../../../lib/domain/errors.ts";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { updateCheckpoint } from "../../../../lib/usecases/catalog/update-checkpoint.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

async function seeded(record: Checkpoint) {
  const world = apiWorld();
  await world.checkpoints.create(record);
  return world;
}

describe("updateCheckpoint", () => {
  it("saves the change as the next version", async () => {
    const world = await seeded(checkpoint({ id: "c1", name: "old" }));
    const updated = await updateCheckpoint("c1", { name: "new", favorite: true }, {}, world);

    expect(updated).toMatchObject({ name: "new", favorite: true, version: 2 });
    expect(await world.checkpoints.get("c1")).toEqual(updated);
  });

  it("applies the change only to the expected version when one is given", async () => {
    const world = await seeded(checkpoint({ id: "c1" }));
    await updateCheckpoint("c1", { name: "first" }, { expectedVersion: 1 }, world);

    const stale = updateCheckpoint("c1", { name: "second" }, { expectedVersion: 1 }, world);
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
    await expect(stale).rejects.toThrow("is at version 2, not 1");
    expect((await world.checkpoints.get("c1"))?.name).toBe("first");
  });

  it("re-applies the change on top of what simsnap wrote meanwhile", async () => {
    const world = await seeded(checkpoint({ id: "c1", state: "PENDING", location: undefined }));
    const realSave = world.checkpoints.save.bind(world.checkpoints);
    let raced = false;
    world.checkpoints.save = async (next) => {
      if (!raced) {
        raced = true;
        const current = await world.checkpoints.get("c1");
        if (!current) throw new Error("missing");
        await realSave({ ...current, state: "COMPLETE", version: current.version + 1 });
      }
      return realSave(next);
    };

    const updated = await updateCheckpoint("c1", { tags: ["keep"] }, {}, world);
    expect(updated).toMatchObject({ state: "COMPLETE", tags: ["keep"], version: 3 });
  });

  it("writes nothing for a change that changes nothing", async () => {
    const world = await seeded(checkpoint({ id: "c1", name: "same" }));
    expect(await updateCheckpoint("c1", { name: "same" }, {}, world)).toMatchObject({ version: 1 });
  });

  it("refuses a missing checkpoint (404) and a DELETED one (409)", async () => {
    const world = await seeded(checkpoint({ id: "gone", state: "DELETED" }));
    await expect(updateCheckpoint("nope", { name: "x" }, {}, world)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(updateCheckpoint("gone", { name: "x" }, {}, world)).rejects.toBeInstanceOf(
      IllegalTransitionError,
    );
  });
});
