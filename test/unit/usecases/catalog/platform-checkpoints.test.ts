import { describe, expect, it } from "vitest";
import {
  ConcurrentModificationError,
  ConflictError,
  ProviderError,
} from "../../../../lib/domain/errors.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { listSimulations } from "../../../../lib/usecases/catalog/list-simulations.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
import { updateCheckpoint } from "../../../../lib/usecases/catalog/update-checkpoint.ts";
import { syncPlatformCheckpoints } from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

/** One checkpoint on the platform, mirrored into the catalog; answers its platform id. */
async function mirrored(world: PlatformWorld, favorite = false): Promise<string> {
  const { id } = world.platform.seed("air-sim", { name: "nightly", favorite });
  await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
  world.events.events.splice(0);
  world.clock.advance(60_000);
  return id;
}

describe("deleteCheckpoint, for a checkpoint a platform holds", () => {
  it("deletes it on the platform, not in S3, and marks it DELETED once the platform confirms", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);

    const deleted = await deleteCheckpoint(idOf(platformId), { force: false }, world);

    expect(deleted).toMatchObject({ state: "DELETED", platformId });
    expect(deleted.error).toBeUndefined();
    expect(world.platform.held.get(platformId)?.state).toBe("DELETED");
    expect(world.objects.deleteCalls).toEqual([]);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Deleted"]);
    documented(world.events.events);

    // A retried DELETE answers the same record and calls nothing.
    const calls = world.platform.calls.length;
    expect(await deleteCheckpoint(idOf(platformId), { force: false }, world)).toEqual(deleted);
    expect(world.platform.calls).toHaveLength(calls);
  });

  it("guards a favorite on either side, unless forced", async () => {
    const world = platformWorld();
    const favorite = await mirrored(world, true);
    const unmirrored = world.platform.seed("air-sim").id;
    await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
    world.platform.editOnPlatform(unmirrored, { favorite: true });

    for (const id of [favorite, unmirrored]) {
      await expect(deleteCheckpoint(idOf(id), { force: false }, world)).rejects.toBeInstanceOf(
        ConflictError,
      );
    }
    expect(world.platform.calls.filter((c) => c.startsWith("delete:"))).toEqual([]);
    expect(await deleteCheckpoint(idOf(favorite), { force: true }, world)).toMatchObject({
      state: "DELETED",
    });
  });

  it("records the platform's own delete with its reason, and keeps the record when the platform refuses", async () => {
    const world = platformWorld();
    const evicted = await mirrored(world);
    world.platform.deleteItself(evicted);

    expect(await deleteCheckpoint(idOf(evicted), { force: false }, world)).toMatchObject({
      state: "DELETED",
      error: { code: "DeletedByPlatform" },
    });

    const kept = await mirrored(world);
    world.platform.failNext(
      "delete",
      new ProviderError("Forbidden", "the token lacks simulation_edit", { status: 403 }),
    );
    await expect(deleteCheckpoint(idOf(kept), { force: false }, world)).rejects.toThrow(
      "simulation_edit",
    );
    expect(await world.checkpoints.get(idOf(kept))).toMatchObject({ state: "COMPLETE" });
  });
});

describe("updateCheckpoint, for a checkpoint a platform holds", () => {
  it("PATCHes the name and favorite to the platform first, then saves them", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);

    const updated = await updateCheckpoint(
      idOf(platformId),
      { name: "before the upgrade", favorite: true, description: "keep" },
      {},
      world,
    );

    expect(updated).toMatchObject({
      name: "before the upgrade",
      favorite: true,
      description: "keep",
    });
    expect(world.platform.held.get(platformId)).toMatchObject({
      name: "before the upgrade",
      favorite: true,
    });
    expect(world.platform.calls.filter((c) => c.startsWith("update:"))).toEqual([
      `update:${platformId}`,
    ]);
    // The mirror then finds both sides agreeing.
    const synced = await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
    expect([synced.updated, synced.pushed]).toEqual([[], []]);
  });

  it("changes nothing when the platform refuses, and tells the platform nothing of simsnap's own fields", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);
    world.platform.failNext(
      "update",
      new ProviderError("ValidationException", "name is too long", { status: 400 }),
    );

    await expect(
      updateCheckpoint(idOf(platformId), { name: "x".repeat(200) }, {}, world),
    ).rejects.toThrow("too long");
    expect(await world.checkpoints.get(idOf(platformId))).toMatchObject({ name: "nightly" });

    await updateCheckpoint(
      idOf(platformId),
      { description: "simsnap only", tags: ["a"] },
      {},
      world,
    );
    expect(world.platform.calls.filter((c) => c.startsWith("update:"))).toHaveLength(1);
  });

  it("checks If-Match before it PATCHes anything", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);

    await expect(
      updateCheckpoint(idOf(platformId), { favorite: true }, { expectedVersion: 7 }, world),
    ).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(world.platform.calls.filter((c) => c.startsWith("update:"))).toEqual([]);
  });
});

describe("listSimulations, across platforms", () => {
  it("lists every platform's simulations with the provider each belongs to", async () => {
    const world = platformWorld({ "air-sim": "STOPPED" });
    await mirrored(world);

    const overview = await listSimulations(world);

    expect(overview.map((s) => [s.name, s.provider, s.status, s.checkpoints.COMPLETE])).toEqual([
      ["air-sim", "platform", "STOPPED", 1],
      ["sim-a", "fake", "STARTED", 0],
    ]);
  });
});
