import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { ConflictError } from "../../../../lib/domain/errors.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
import { undeleteCheckpoint } from "../../../../lib/usecases/catalog/undelete-checkpoint.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import { purgeTrash } from "../../../../lib/usecases/retention/purge-trash.ts";
import { syncPlatformCheckpoints } from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { documented, platformWorld } from "../../../support/platform-world.ts";

const DAY = 86_400_000;
const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

/**
 * Three COMPLETE checkpoints of `air-sim` on the platform, mirrored into the catalog, and a trash
 * of 7 days; retention keeps the newest two, so a prune removes the first.
 */
async function world() {
  const base = platformWorld();
  const platformIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    platformIds.push(base.platform.seed("air-sim", { name: `nightly ${i}` }).id);
    base.clock.advance(60_000);
  }
  const w = {
    ...base,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 2 }, maxRemoveFraction: 1 }),
    trash: { days: 7, store: base.storage },
  };
  await sync(w);
  w.events.events.splice(0);
  return { w, platformIds };
}

type World = Awaited<ReturnType<typeof world>>["w"];
const sync = (w: Omit<World, "trash" | "retention"> | World) =>
  syncPlatformCheckpoints("air-sim", { ...w, provider: w.platform });
const get = async (w: World, platformId: string) =>
  (await w.checkpoints.get(idOf(platformId))) as Checkpoint;
const deletesOn = (w: World) => w.platform.calls.filter((c) => c.startsWith("delete:"));
const run = (runId = "run-1") => ({ runId, dryRun: false, force: false });

describe("the trash for checkpoints a platform holds (deferred platform delete)", () => {
  it("DELETE records it DELETED and trashed without the platform's delete; sync does not resurrect it", async () => {
    const { w, platformIds } = await world();
    const [first] = platformIds as [string];

    const deleted = await deleteCheckpoint(idOf(first), { force: false }, w);

    expect(deleted).toMatchObject({
      state: "DELETED",
      trashOnPlatform: true,
      purgeAfter: new Date(w.clock.now().getTime() + 7 * DAY).toISOString(),
    });
    expect(deleted.error).toBeUndefined();
    expect(deletesOn(w)).toEqual([]);
    expect(w.platform.held.get(first)?.state).toBe("COMPLETE");
    expect(w.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Deleted"]);
    expect(w.events.events[0]?.detail).toMatchObject({ checkpoint: { trashOnPlatform: true } });
    documented(w.events.events);

    // The platform still lists it COMPLETE: the mirror leaves the DELETED record as it is.
    const synced = await sync(w);
    expect(synced.completed).toEqual([]);
    expect(synced.created).toEqual([]);
    expect(await get(w, first)).toEqual(deleted);
  });

  it("undelete after a DELETE brings the record back once the platform confirms it holds it", async () => {
    const { w, platformIds } = await world();
    const [first] = platformIds as [string];
    await deleteCheckpoint(idOf(first), { force: false }, w);

    const back = await undeleteCheckpoint(idOf(first), w);

    expect(back).toMatchObject({ state: "COMPLETE", favorite: true });
    expect(back.trashOnPlatform).toBeUndefined();
    expect(back.purgeAfter).toBeUndefined();
    expect(w.platform.calls).toContain(`get:${first}`);
    expect(deletesOn(w)).toEqual([]);
    documented(w.events.events);
  });

  it("undelete is refused when the platform deleted it meanwhile", async () => {
    const { w, platformIds } = await world();
    const [first] = platformIds as [string];
    await deleteCheckpoint(idOf(first), { force: false }, w);
    w.platform.deleteItself(first);

    const attempt = undeleteCheckpoint(idOf(first), w);
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toThrow(/platform reports checkpoint .* DELETED/);
    expect((await get(w, first)).state).toBe("DELETED");
  });

  it("prune trashes it, retention no longer counts it, and undelete after the prune works", async () => {
    const { w, platformIds } = await world();
    const [first] = platformIds as [string];

    const [result] = await prune(run(), w);
    expect(result).toMatchObject({
      outcome: "pruned",
      removed: [idOf(first)],
      trashed: [idOf(first)],
    });
    expect(await get(w, first)).toMatchObject({ state: "DELETED", trashOnPlatform: true });
    expect(deletesOn(w)).toEqual([]);

    // A second plan sees two COMPLETE checkpoints and keeps both: the trashed one is not counted.
    const [again] = await prune({ ...run("run-2"), dryRun: true }, w);
    expect(again?.plan.remove).toEqual([]);
    expect(again?.plan.keep.map((k) => k.id).sort()).toEqual(platformIds.slice(1).map(idOf).sort());

    expect((await undeleteCheckpoint(idOf(first), w)).state).toBe("COMPLETE");
  });

  it("the purge deletes it on the platform after purgeAfter; a purge that dies before that finishes next run", async () => {
    const { w, platformIds } = await world();
    const [first, second] = platformIds as [string, string];
    await deleteCheckpoint(idOf(first), { force: false }, w);
    await deleteCheckpoint(idOf(second), { force: false }, w);
    const deps = { ...w, objects: w.storage };

    expect((await purgeTrash(deps)).purged).toEqual([]);
    expect(deletesOn(w)).toEqual([]);
    w.clock.advance(7 * DAY);

    // The platform refuses the first delete: that one stays marked, purged but not confirmed.
    const held = w.platform.checkpoints!;
    const remove = held.delete.bind(held);
    let refuse = 1;
    held.delete = async (id) => {
      if (id === first && refuse-- > 0) throw new Error("platform unavailable");
      return remove(id);
    };
    const result = await purgeTrash(deps);
    expect(result.purged).toEqual([idOf(second)]);
    expect(result.failed).toMatchObject([{ id: idOf(first) }]);
    expect(await get(w, second)).toMatchObject({ state: "DELETED", purgedAt: expect.any(String) });
    expect((await get(w, second)).trashOnPlatform).toBeUndefined();
    expect(w.platform.held.get(second)?.state).toBe("DELETED");
    expect(await get(w, first)).toMatchObject({
      purgedAt: expect.any(String),
      trashOnPlatform: true,
    });
    await expect(undeleteCheckpoint(idOf(first), w)).rejects.toThrow(/was purged at/);

    expect((await purgeTrash(deps)).purged).toEqual([idOf(first)]);
    expect(w.platform.held.get(first)?.state).toBe("DELETED");
    expect((await get(w, first)).trashOnPlatform).toBeUndefined();
    expect((await purgeTrash(deps)).purged).toEqual([]);
    documented(w.events.events);
  });

  it("with trashDays 0 the platform deletes it at once, as before the trash", async () => {
    const { w, platformIds } = await world();
    const [first] = platformIds as [string];
    const deleted = await deleteCheckpoint(
      idOf(first),
      { force: false },
      {
        ...w,
        trash: { days: 0, store: w.storage },
      },
    );
    expect(deleted.trashOnPlatform).toBeUndefined();
    expect(deletesOn(w)).toEqual([`delete:${first}`]);
    await expect(undeleteCheckpoint(idOf(first), w)).rejects.toThrow(/which deleted it/);
  });
});
