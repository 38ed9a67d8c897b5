import { describe, expect, it } from "vitest";
import { markCheckpointDeleted } from "../../../../lib/domain/checkpoint.ts";
import {
  RetentionConfigSchema,
  type RetentionConfigInput,
} from "../../../../lib/domain/retention.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { pruneArchives } from "../../../../lib/usecases/retention/prune-archives.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";

/** Six archived checkpoints of one simulation, an hour apart; c-0 is the oldest. */
async function archivedWorld(policy: RetentionConfigInput) {
  const world = archiveWorld();
  for (let i = 0; i < 6; i++) {
    const createdAt = new Date(Date.UTC(2026, 10, 23, 4 + i)).toISOString();
    await completedCheckpoint(world, { id: `c-${i}`, createdAt });
    await archiveCheckpoint({ checkpointId: `c-${i}` }, world);
  }
  return { ...world, archiveRetention: RetentionConfigSchema.parse(policy) };
}

const archiveOf = async (world: Awaited<ReturnType<typeof archivedWorld>>, id: string) =>
  (await world.checkpoints.get(id))?.archive;

describe("pruneArchives", () => {
  it("removes archives the archive policy does not keep, with their manifests", async () => {
    const world = await archivedWorld({ default: { keepLast: 3 }, maxRemoveFraction: 1 });
    const oldest = await archiveOf(world, "c-0");

    const [result] = await pruneArchives({ dryRun: false, force: false }, world);

    expect(result).toMatchObject({ simulation: "ocean-currents", outcome: "pruned" });
    expect(result?.removed.sort()).toEqual(["c-0", "c-1", "c-2"]);
    expect(await archiveOf(world, "c-0")).toBeUndefined();
    expect(await archiveOf(world, "c-5")).toBeDefined();
    expect(world.storage.bytes(oldest ?? { bucket: "", key: "" })).toBeUndefined();
    expect(
      world.storage.text({ bucket: "archive", key: `${oldest?.key}.manifest.json` }),
    ).toBeUndefined();
    expect(world.events.events.at(-1)).toMatchObject({
      detailType: "Archives Pruned",
      detail: { simulation: "ocean-currents", removedCount: 3 },
    });
  });

  it("keeps favorites, including one marked after planning", async () => {
    const world = await archivedWorld({ default: { keepLast: 1 }, maxRemoveFraction: 1 });
    const favorite = await world.checkpoints.get("c-0");
    if (favorite)
      await world.checkpoints.save({ ...favorite, favorite: true, version: favorite.version + 1 });
    const get = world.checkpoints.get.bind(world.checkpoints);
    let reads = 0;
    world.checkpoints.get = async (id) => {
      const found = await get(id);
      // c-1 becomes a favorite between planning and deletion.
      if (id === "c-1" && found && ++reads === 1) {
        const marked = { ...found, favorite: true, version: found.version + 1 };
        await world.checkpoints.save(marked);
        return marked;
      }
      return found;
    };

    const [result] = await pruneArchives({ dryRun: false, force: false }, world);

    expect(result?.plan.keep.find((k) => k.id === "c-0")?.reasons).toContain("favorite");
    expect(await archiveOf(world, "c-0")).toBeDefined();
    expect(await archiveOf(world, "c-1")).toBeDefined();
    expect(result?.removed.sort()).toEqual(["c-2", "c-3", "c-4"]);
  });

  it("plans archives of checkpoints pruned from the hot bucket like any other", async () => {
    const world = await archivedWorld({ default: { keepLast: 5 }, maxRemoveFraction: 1 });
    const deleted = await world.checkpoints.get("c-5");
    if (deleted) await world.checkpoints.save(markCheckpointDeleted(deleted, world.clock.now()));

    const [result] = await pruneArchives({ dryRun: true, force: false }, world);

    expect(result?.plan.keep.map((k) => k.id)).toContain("c-5");
    expect(result?.plan.remove).toEqual([{ id: "c-0" }]);
  });

  it("changes nothing on a dry run, or when the plan is refused", async () => {
    const world = await archivedWorld({ default: { keepLast: 1 } });

    const [dry] = await pruneArchives({ dryRun: true, force: false }, world);
    const [refused] = await pruneArchives({ dryRun: false, force: false }, world);

    expect(dry).toMatchObject({ outcome: "planned", removed: [] });
    expect(dry?.plan.remove).toHaveLength(5);
    expect(refused).toMatchObject({ outcome: "refused", plan: { refused: expect.any(String) } });
    for (let i = 0; i < 6; i++) expect(await archiveOf(world, `c-${i}`)).toBeDefined();
  });

  it("keeps every archive when no archive policy is configured", async () => {
    const world = await archivedWorld({ default: { keepLast: 1 } });
    expect(
      await pruneArchives(
        { dryRun: false, force: true },
        { ...world, archiveRetention: undefined },
      ),
    ).toEqual([]);
  });

  it("does nothing more when the same run arrives twice", async () => {
    const world = await archivedWorld({ default: { keepLast: 3 }, maxRemoveFraction: 1 });

    await pruneArchives({ dryRun: false, force: false }, world);
    const events = world.events.events.length;
    const [again] = await pruneArchives({ dryRun: false, force: false }, world);

    expect(again).toMatchObject({ outcome: "pruned", removed: [] });
    expect(again?.plan.remove).toEqual([]);
    expect(world.events.events).toHaveLength(events);
  });
});
