import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { ConflictError } from "../../../../lib/domain/errors.ts";
import { EVENT_DETAIL_SCHEMAS, type DetailType } from "../../../../lib/domain/event-schemas.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { ORPHAN_GRACE_MS, trashLocation } from "../../../../lib/domain/trash.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
import { undeleteCheckpoint } from "../../../../lib/usecases/catalog/undelete-checkpoint.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import { restoreRefusal } from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { purgeTrash } from "../../../../lib/usecases/retention/purge-trash.ts";
import { checkpoint as makeCheckpoint } from "../../../support/checkpoint-factory.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
} from "../../../support/memory.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const OWNED = { bucket: "snapshots", prefixes: ["simsnap"] };

/** Thrown by a fault-injecting fake where a process would have died. */
class Crash extends Error {}

/** `target` whose `method` throws `Crash` on its next `times` calls, then works again. */
function crashing<T extends object>(target: T, method: keyof T, times = 1): T {
  let left = times;
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (property !== method || typeof value !== "function") {
        return typeof value === "function" ? value.bind(object) : value;
      }
      return (...args: unknown[]) => {
        if (left > 0) {
          left--;
          return Promise.reject(new Crash(`crash in ${String(method)}`));
        }
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

async function world(count = 4, trashDays = 7) {
  const clock = new ManualClock(new Date(T0 + count * HOUR));
  const store = new MemoryArchiveStore({ clock, checksums: false });
  const deps = {
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    objects: store,
    events: new MemoryEventPublisher(),
    clock,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 2 }, maxRemoveFraction: 1 }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: OWNED,
    providers: directoryOf([]),
    trash: { days: trashDays, store },
  };
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const time = new Date(T0 + i * HOUR);
    const location = { bucket: "snapshots", key: snapshotKey("simsnap", "sim-a", time) };
    const checkpoint = makeCheckpoint({
      id: `c${i}`,
      createdAt: time.toISOString(),
      location,
      size: 3,
    });
    await deps.checkpoints.create(checkpoint);
    await store.put(location, "zip");
    ids.push(checkpoint.id);
  }
  return { deps, store, ids };
}

type World = Awaited<ReturnType<typeof world>>;
const get = async (w: World, id: string) => (await w.deps.checkpoints.get(id)) as Checkpoint;
const fileOf = (c: Checkpoint) => c.location!;
const run = (runId = "run-1") => ({ runId, dryRun: false, force: false });
const undeleteDeps = (w: World) => ({ ...w.deps, store: w.store });
const purgeDeps = (w: World) => ({ ...w.deps, objects: w.store });
const published = (w: World) => w.deps.events.events.map((e) => e.detailType);

function expectValidEvents(w: World) {
  for (const event of w.deps.events.events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as DetailType];
    expect(schema.safeParse(event.detail).success, event.detailType).toBe(true);
  }
}

describe("the trash: prune and delete", () => {
  it("prune moves the files it removes to the trash, and its result, report and event say until when", async () => {
    const w = await world();
    const [result] = await prune(run(), w.deps);
    const purgeAfter = new Date(T0 + 4 * HOUR + 7 * DAY).toISOString();
    expect(result).toMatchObject({
      outcome: "pruned",
      removed: ["c1", "c0"],
      trashed: ["c1", "c0"],
      purgeAfter,
    });
    for (const id of ["c0", "c1"]) {
      const record = await get(w, id);
      expect(record).toMatchObject({ state: "DELETED", purgeAfter });
      expect(record.trash?.key).toBe(
        `simsnap/trash/${id}/v1/${fileOf(record).key.split("/").pop()}`,
      );
      expect(w.store.text(record.trash!)).toBe("zip");
      expect(w.store.bytes(fileOf(record))).toBeUndefined();
    }
    const report = JSON.parse(w.store.text(result!.report!)!);
    expect(report).toMatchObject({ trashed: ["c1", "c0"], purgeAfter });
    const event = w.deps.events.events.find((e) => e.detailType === "Checkpoints Pruned");
    expect(event?.detail).toMatchObject({ trashedCount: 2, trashed: ["c1", "c0"], purgeAfter });
    expectValidEvents(w);
  });

  it("DELETE moves the file to the trash and says so on the record and its event", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    expect(deleted).toMatchObject({
      state: "DELETED",
      purgeAfter: new Date(T0 + HOUR + 7 * DAY).toISOString(),
      trash: { bucket: "snapshots" },
    });
    expect(w.store.text(deleted.trash!)).toBe("zip");
    expect(w.store.bytes(fileOf(deleted))).toBeUndefined();
    const [event] = w.deps.events.events;
    expect(event?.detail).toMatchObject({
      checkpoint: { state: "DELETED", trash: deleted.trash, purgeAfter: deleted.purgeAfter },
    });
    expectValidEvents(w);
  });

  it("keeps today's immediate delete with trashDays 0, and then refuses an undelete", async () => {
    const w = await world(4, 0);
    const [result] = await prune(run(), w.deps);
    expect(result).toMatchObject({ removed: ["c1", "c0"], trashed: [] });
    expect(result).not.toHaveProperty("purgeAfter");
    const pruned = await get(w, "c0");
    expect(pruned.trash).toBeUndefined();
    expect(w.store.bytes(fileOf(pruned))).toBeUndefined();
    const deleted = await deleteCheckpoint("c3", { force: false }, w.deps);
    expect(deleted.trash).toBeUndefined();
    await expect(undeleteCheckpoint("c0", undeleteDeps(w))).rejects.toThrow(
      "Checkpoint c0 was deleted for good, not moved to the trash",
    );
  });

  it("still refuses a favorite, and a favorite marked after planning survives the move", async () => {
    const w = await world(1);
    const c0 = await get(w, "c0");
    await w.deps.checkpoints.save({ ...c0, favorite: true, version: 2 });
    await expect(deleteCheckpoint("c0", { force: false }, w.deps)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await get(w, "c0")).state).toBe("COMPLETE");
    const forced = await deleteCheckpoint("c0", { force: true }, w.deps);
    expect(forced.state).toBe("DELETED");
  });
});

describe("the trash and cold files", () => {
  it("deletes a file the bucket moved to Glacier for good, since it cannot be copied unthawed", async () => {
    const w = await world(1);
    const c0 = await get(w, "c0");
    w.store.transition(fileOf(c0), "GLACIER");
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    expect(deleted.state).toBe("DELETED");
    expect(deleted.trash).toBeUndefined();
    expect(w.store.bytes(fileOf(c0))).toBeUndefined();
    await expect(undeleteCheckpoint("c0", undeleteDeps(w))).rejects.toThrow(/deleted for good/);
  });
});

describe("undelete", () => {
  it("brings a pruned checkpoint back, file and record, and a second undelete changes nothing", async () => {
    const w = await world();
    await prune(run(), w.deps);
    const trashed = await get(w, "c0");
    const back = await undeleteCheckpoint("c0", undeleteDeps(w));
    expect(back).toMatchObject({
      state: "COMPLETE",
      favorite: true,
      size: 3,
      version: trashed.version + 1,
    });
    expect(back).not.toHaveProperty("trash");
    expect(back).not.toHaveProperty("purgeAfter");
    expect(w.store.text(fileOf(back))).toBe("zip");
    expect(w.store.bytes(trashed.trash!)).toBeUndefined();
    expect(published(w).filter((t) => t === "Checkpoint Undeleted")).toHaveLength(1);

    const again = await undeleteCheckpoint("c0", undeleteDeps(w));
    expect(again).toEqual(back);
    expect(published(w).filter((t) => t === "Checkpoint Undeleted")).toHaveLength(1);
    expectValidEvents(w);

    // It came back a favorite, so the prune that trashed it keeps it now.
    await prune(run(), w.deps);
    expect(await get(w, "c0")).toMatchObject({ state: "COMPLETE", favorite: true });
  });

  it("is what a restore of a trashed, never archived checkpoint asks for first", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    expect(restoreRefusal(deleted)).toBe(
      `Checkpoint c0 is in the trash until ${deleted.purgeAfter} and was never archived: undelete it first (simsnap checkpoints undelete c0), then restore it`,
    );
    expect(restoreRefusal(await undeleteCheckpoint("c0", undeleteDeps(w)))).toBeUndefined();
  });

  it("brings a directly deleted checkpoint back, and it can be deleted and undeleted again", async () => {
    const w = await world(1);
    const first = await deleteCheckpoint("c0", { force: false }, w.deps);
    await undeleteCheckpoint("c0", undeleteDeps(w));
    // Undeleted, it is a favorite: deleting it again takes --force.
    await expect(deleteCheckpoint("c0", { force: false }, w.deps)).rejects.toThrow(/favorite/);
    const second = await deleteCheckpoint("c0", { force: true }, w.deps);
    // A key of its own per move, so the purge never judges a live copy by an old one's fate.
    expect(second.trash?.key).not.toBe(first.trash?.key);
    const back = await undeleteCheckpoint("c0", undeleteDeps(w));
    expect(back.state).toBe("COMPLETE");
    expect(w.store.text(fileOf(back))).toBe("zip");
  });

  it("refuses clearly past purgeAfter, once purged, when the bytes are gone, and for a platform's checkpoint", async () => {
    const w = await world(3);
    await deleteCheckpoint("c0", { force: false }, w.deps);
    await deleteCheckpoint("c1", { force: false }, w.deps);
    const c1 = await get(w, "c1");
    await w.store.deleteMany("snapshots", [c1.trash!.key]);
    await expect(undeleteCheckpoint("c1", undeleteDeps(w))).rejects.toThrow(
      /Checkpoint c1 cannot be undeleted: its bytes are gone from the trash/,
    );
    expect((await get(w, "c1")).state).toBe("DELETED");

    w.deps.clock.advance(7 * DAY);
    await expect(undeleteCheckpoint("c0", undeleteDeps(w))).rejects.toThrow(
      /Checkpoint c0 is past its purgeAfter \(.*\): its deletion is final/,
    );
    await purgeTrash(purgeDeps(w));
    await expect(undeleteCheckpoint("c0", undeleteDeps(w))).rejects.toThrow(
      /Checkpoint c0 was purged at .*: its deletion is final/,
    );

    const held = makeCheckpoint({
      id: "air-1",
      provider: "air",
      platformId: "p-1",
      location: undefined,
    });
    await w.deps.checkpoints.create({ ...held, state: "DELETED" });
    await expect(undeleteCheckpoint("air-1", undeleteDeps(w))).rejects.toThrow(
      /Checkpoint air-1 was held by air, which deleted it .*: the platform keeps no trash/,
    );
  });
});

describe("the purge", () => {
  it("makes deletions final after purgeAfter, not before, and a second run does nothing", async () => {
    const w = await world();
    await prune(run(), w.deps);
    const c0 = await get(w, "c0");

    expect((await purgeTrash(purgeDeps(w))).purged).toEqual([]);
    expect(w.store.text(c0.trash!)).toBe("zip");

    w.deps.clock.advance(7 * DAY);
    const first = await purgeTrash(purgeDeps(w));
    expect(first.purged.sort()).toEqual(["c0", "c1"]);
    const purged = await get(w, "c0");
    expect(purged).toMatchObject({ state: "DELETED", purgedAt: w.deps.clock.now().toISOString() });
    expect(purged.trash).toBeUndefined();
    expect(w.store.bytes(c0.trash!)).toBeUndefined();
    expect(published(w).filter((t) => t === "Checkpoints Purged")).toHaveLength(1);

    const second = await purgeTrash(purgeDeps(w));
    expect(second).toEqual({ purged: [], failed: [], orphans: [], bytesInTrash: 0 });
    expect(published(w).filter((t) => t === "Checkpoints Purged")).toHaveLength(1);
    expectValidEvents(w);
  });
});

describe("crash safety: a process dies between two writes", () => {
  it("move: copied but the record never written leaves it COMPLETE with its file; the retry trashes it; the orphan copy is swept after the grace", async () => {
    const w = await world(1);
    const checkpoints = crashing(w.deps.checkpoints, "save");
    await expect(
      deleteCheckpoint("c0", { force: false }, { ...w.deps, checkpoints }),
    ).rejects.toBeInstanceOf(Crash);
    const c0 = await get(w, "c0");
    expect(c0.state).toBe("COMPLETE");
    expect(w.store.text(fileOf(c0))).toBe("zip");
    const orphan = trashLocation(fileOf(c0), c0, OWNED)!;
    expect(w.store.text(orphan)).toBe("zip"); // findable: its key names the checkpoint

    // Not before the grace: a move in progress writes its copy before its record.
    expect((await purgeTrash(purgeDeps(w))).orphans).toEqual([]);
    w.deps.clock.advance(ORPHAN_GRACE_MS + 1);
    expect((await purgeTrash(purgeDeps(w))).orphans).toEqual([orphan.key]);
    expect((await get(w, "c0")).state).toBe("COMPLETE");
    expect(w.store.text(fileOf(c0))).toBe("zip");

    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    expect(w.store.text(deleted.trash!)).toBe("zip");
  });

  it("move: the record written but the original never removed: undelete takes the original, the purge removes both", async () => {
    const w = await world(2);
    const store = crashing(w.store, "deleteMany", 2);
    const trash = { days: 7, store };
    // The original's delete is best effort after the record: both moves complete.
    const c0 = await deleteCheckpoint("c0", { force: false }, { ...w.deps, trash });
    const c1 = await deleteCheckpoint("c1", { force: false }, { ...w.deps, trash });
    for (const record of [c0, c1]) {
      expect(record.state).toBe("DELETED");
      expect(w.store.text(fileOf(record))).toBe("zip");
      expect(w.store.text(record.trash!)).toBe("zip");
    }
    const back = await undeleteCheckpoint("c0", undeleteDeps(w));
    expect(back.state).toBe("COMPLETE");
    expect(w.store.text(fileOf(back))).toBe("zip");
    expect(w.store.bytes(c0.trash!)).toBeUndefined();

    w.deps.clock.advance(7 * DAY);
    await purgeTrash(purgeDeps(w));
    expect(w.store.bytes(fileOf(c1))).toBeUndefined();
    expect(w.store.bytes(c1.trash!)).toBeUndefined();
  });

  it("undelete: copied back but the record never written stays DELETED; the retry completes it", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    const checkpoints = crashing(w.deps.checkpoints, "save");
    await expect(
      undeleteCheckpoint("c0", { ...undeleteDeps(w), checkpoints }),
    ).rejects.toBeInstanceOf(Crash);
    expect((await get(w, "c0")).state).toBe("DELETED");
    expect(w.store.text(deleted.trash!)).toBe("zip");
    const back = await undeleteCheckpoint("c0", undeleteDeps(w));
    expect(back.state).toBe("COMPLETE");
    expect(w.store.text(fileOf(back))).toBe("zip");
  });

  it("undelete: the record written but the trash copy left is an orphan the purge sweeps, never the file", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    const store = crashing(w.store, "deleteMany");
    const back = await undeleteCheckpoint("c0", { ...undeleteDeps(w), store });
    expect(back.state).toBe("COMPLETE");
    expect(w.store.text(deleted.trash!)).toBe("zip");
    w.deps.clock.advance(ORPHAN_GRACE_MS + 1);
    expect((await purgeTrash(purgeDeps(w))).orphans).toEqual([deleted.trash!.key]);
    expect(w.store.text(fileOf(back))).toBe("zip");
    expect((await get(w, "c0")).state).toBe("COMPLETE");
  });

  it("purge: the record marked purged but the copy left is an orphan the next run sweeps", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    w.deps.clock.advance(7 * DAY);
    const objects = crashing(w.store, "deleteMany");
    await expect(purgeTrash({ ...purgeDeps(w), objects })).rejects.toBeInstanceOf(Crash);
    expect((await get(w, "c0")).purgedAt).toBeDefined();
    expect((await purgeTrash(purgeDeps(w))).orphans).toEqual([deleted.trash!.key]);
    expect(w.store.bytes(deleted.trash!)).toBeUndefined();
  });

  it("undelete and purge meet at the record: when the purge wins, the copied-back file is removed again", async () => {
    const w = await world(1);
    const deleted = await deleteCheckpoint("c0", { force: false }, w.deps);
    // The purge marks the record between the undelete's copy back and its record write.
    const checkpoints = new Proxy(w.deps.checkpoints, {
      get(object, property) {
        const value = Reflect.get(object, property) as (...a: unknown[]) => unknown;
        if (property !== "save") return value.bind(object);
        return async (next: Checkpoint) => {
          w.deps.clock.advance(7 * DAY);
          await purgeTrash(purgeDeps(w));
          return value.call(object, next);
        };
      },
    });
    await expect(undeleteCheckpoint("c0", { ...undeleteDeps(w), checkpoints })).rejects.toThrow(
      /purged at/,
    );
    expect((await get(w, "c0")).state).toBe("DELETED");
    expect(w.store.bytes(fileOf(deleted))).toBeUndefined();
    expect(w.store.bytes(deleted.trash!)).toBeUndefined();
  });
});

describe("keepVerified in a prune run", () => {
  it("refuses the run while no checkpoint has passed a restore test, and records why on the job", async () => {
    const w = await world();
    const deps = {
      ...w.deps,
      retention: RetentionConfigSchema.parse({ default: { keepLast: 1, keepVerified: 1 } }),
    };
    const [refused] = await prune({ ...run(), force: true }, deps);
    expect(refused).toMatchObject({ outcome: "refused", removed: [] });
    expect(refused?.plan.refused).toMatch(/^keepVerified: the policy would remove 3 checkpoints/);
    const job = await w.deps.jobs.get(refused!.jobId!);
    expect(job).toMatchObject({ status: "FAILED", error: { code: "PlanRefused" } });

    const c0 = await get(w, "c0");
    await w.deps.checkpoints.save({
      ...c0,
      version: c0.version + 1,
      verification: { status: "PASSED", at: c0.createdAt, durationMs: 1, detail: "ok", jobId: "v" },
    });
    const [pruned] = await prune(run("run-2"), deps);
    expect(pruned).toMatchObject({ outcome: "pruned", removed: ["c2", "c1"] });
    expect(pruned?.plan.keep).toEqual([
      { id: "c3", reasons: ["last snapshot"] },
      { id: "c0", reasons: ["verified"] },
    ]);
  });
});
