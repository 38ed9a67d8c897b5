import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../../lib/domain/errors.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import { syncPlatformCheckpoints } from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

const run = (runId = "schedule/daily/2026-12-02T03:00:00.000Z") => ({
  runId,
  simulations: ["air-sim"],
  dryRun: false,
  force: false,
});

/** Four COMPLETE checkpoints on the platform, an hour apart, mirrored into the catalog. */
async function seeded(world: PlatformWorld): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(world.platform.seed("air-sim", { name: `hourly ${i}` }).id);
    world.clock.advance(3_600_000);
  }
  await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
  world.events.events.splice(0);
  return ids;
}

describe("prune, for checkpoints a platform holds", () => {
  it("deletes them on the platform, not in S3, and marks them DELETED once it confirms", async () => {
    const world = platformWorld();
    const ids = await seeded(world);

    const [result] = await prune(run(), world);

    expect(result).toMatchObject({ outcome: "pruned", failed: [] });
    expect(result?.removed.toSorted()).toEqual([idOf(ids[0]!), idOf(ids[1]!)].toSorted());
    expect(world.platform.calls.filter((c) => c.startsWith("delete:")).toSorted()).toEqual([
      `delete:${ids[0]}`,
      `delete:${ids[1]}`,
    ]);
    expect(world.objects.deleteCalls).toEqual([]);
    for (const id of ids.slice(0, 2)) {
      expect(world.platform.held.get(id)?.state).toBe("DELETED");
      const record = await world.checkpoints.get(idOf(id));
      expect(record).toMatchObject({ state: "DELETED" });
      expect(record?.error).toBeUndefined();
    }
    for (const id of ids.slice(2)) {
      expect(await world.checkpoints.get(idOf(id))).toMatchObject({ state: "COMPLETE" });
    }
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoints Pruned"]);
    documented(world.events.events);

    const [again] = await prune(run("manual/again"), world);
    expect(again?.removed).toEqual([]);
    expect(world.platform.calls.filter((c) => c.startsWith("delete:"))).toHaveLength(2);
  });

  it("keeps a checkpoint favorited on either side since planning, and records one the platform deleted itself", async () => {
    const world = platformWorld();
    const ids = await seeded(world);
    world.platform.editOnPlatform(ids[0]!, { favorite: true });
    world.platform.deleteItself(ids[1]!);

    const [result] = await prune(run(), world);

    expect(result?.removed).toEqual([idOf(ids[1]!)]);
    expect(world.platform.calls.filter((c) => c.startsWith("delete:"))).toEqual([]);
    expect(await world.checkpoints.get(idOf(ids[0]!))).toMatchObject({ state: "COMPLETE" });
    expect(await world.checkpoints.get(idOf(ids[1]!))).toMatchObject({
      state: "DELETED",
      error: { code: "DeletedByPlatform" },
    });
  });

  it("leaves a checkpoint COMPLETE when the platform fails or does not confirm the delete", async () => {
    const world = platformWorld();
    const ids = await seeded(world);
    const remove = world.platform.checkpoints.delete.bind(world.platform.checkpoints);
    world.platform.checkpoints.delete = async (id) => {
      if (id === ids[0]) {
        throw new ProviderError("Forbidden", "the token lacks simulation_edit", { status: 403 });
      }
      await remove(id);
    };
    const confirm = world.platform.checkpoints.get.bind(world.platform.checkpoints);
    let reads = 0;
    world.platform.checkpoints.get = async (id) => {
      const found = await confirm(id);
      // The second checkpoint's read-back after its delete still says COMPLETE.
      reads += id === ids[1] ? 1 : 0;
      return found && reads === 2 ? { ...found, state: "COMPLETE" } : found;
    };

    const [result] = await prune(run(), world);

    expect(result).toMatchObject({ outcome: "partial", removed: [] });
    expect(result?.failed.toSorted((a, b) => a.code.localeCompare(b.code))).toEqual([
      expect.objectContaining({ id: idOf(ids[1]!), code: "DeleteNotConfirmed" }),
      {
        id: idOf(ids[0]!),
        key: `platform:${ids[0]}`,
        code: "Forbidden",
        message: "the token lacks simulation_edit",
      },
    ]);
    for (const id of ids.slice(0, 2)) {
      expect(await world.checkpoints.get(idOf(id))).toMatchObject({ state: "COMPLETE" });
    }
  });

  it("does not hold platform checkpoints back for an archive copy they can never have", async () => {
    const world = { ...platformWorld(), archiveFirst: true };
    const ids = await seeded(world);

    const [result] = await prune(run(), world);

    expect(result?.awaitingArchive).toEqual([]);
    expect(result?.removed.toSorted()).toEqual([idOf(ids[0]!), idOf(ids[1]!)].toSorted());
  });
});
