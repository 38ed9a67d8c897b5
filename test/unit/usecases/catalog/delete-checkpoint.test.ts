import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import {
  AppError,
  ConflictError,
  IllegalTransitionError,
  NotFoundError,
} from "../../../../lib/domain/errors.ts";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

async function seeded(...records: Checkpoint[]) {
  const world = apiWorld();
  for (const record of records) {
    await world.checkpoints.create(record);
    if (record.location) await world.objects.put(record.location, "zip");
  }
  return world;
}

describe("deleteCheckpoint", () => {
  it("removes the file, then marks the checkpoint DELETED and says so on the bus", async () => {
    const record = checkpoint({ id: "c1" });
    const world = await seeded(record);

    const deleted = await deleteCheckpoint("c1", { force: false }, world);

    expect(deleted).toMatchObject({ state: "DELETED", version: 2 });
    expect(await world.objects.head(record.location!)).toBeUndefined();
    expect(await world.checkpoints.get("c1")).toEqual(deleted);
    expect(world.events.events).toMatchObject([
      { detailType: "Checkpoint Deleted", detail: { checkpoint: { id: "c1", state: "DELETED" } } },
    ]);
    expect(() =>
      EVENT_DETAIL_SCHEMAS["Checkpoint Deleted"].parse(world.events.events[0]?.detail),
    ).not.toThrow();
  });

  it("answers a repeated delete with the DELETED checkpoint, touching nothing", async () => {
    const world = await seeded(checkpoint({ id: "c1" }));
    const first = await deleteCheckpoint("c1", { force: false }, world);
    const again = await deleteCheckpoint("c1", { force: false }, world);
    expect(again).toEqual(first);
    expect(world.objects.deleteCalls).toHaveLength(1);
    expect(world.events.events).toHaveLength(1);
  });

  it.each(["PENDING", "FAILED"] as const)("refuses a %s checkpoint (409)", async (state) => {
    const world = await seeded(checkpoint({ id: "c1", state, location: undefined }));
    const attempt = deleteCheckpoint("c1", { force: true }, world);
    await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
    await expect(attempt).rejects.toThrow(`is ${state}; only COMPLETE checkpoints can be deleted`);
  });

  it("deletes a favorite only when forced", async () => {
    const world = await seeded(checkpoint({ id: "fav", favorite: true }));
    await expect(deleteCheckpoint("fav", { force: false }, world)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(world.objects.deleteCalls).toEqual([]);
    expect((await deleteCheckpoint("fav", { force: true }, world)).state).toBe("DELETED");
  });

  it("keeps the checkpoint COMPLETE when its file cannot be deleted", async () => {
    const record = checkpoint({ id: "c1" });
    const world = await seeded(record);
    world.objects.failingDeletes.add(record.location!.key);

    const attempt = deleteCheckpoint("c1", { force: false }, world);
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toThrow("AccessDenied");
    expect((await world.checkpoints.get("c1"))?.state).toBe("COMPLETE");
  });

  it("marks the record DELETED even when it was edited while its file was being deleted", async () => {
    const record = checkpoint({ id: "c1" });
    const world = await seeded(record);
    const realDelete = world.objects.deleteMany.bind(world.objects);
    world.objects.deleteMany = async (bucket, keys) => {
      const current = await world.checkpoints.get("c1");
      if (!current) throw new Error("missing");
      await world.checkpoints.save({ ...current, favorite: true, version: current.version + 1 });
      return realDelete(bucket, keys);
    };

    const deleted = await deleteCheckpoint("c1", { force: false }, world);
    expect(deleted).toMatchObject({ state: "DELETED", favorite: true, version: 3 });
  });

  it("refuses an unknown id (404)", async () => {
    await expect(deleteCheckpoint("nope", { force: false }, apiWorld())).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
