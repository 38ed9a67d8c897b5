import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { ConflictError } from "../../../../lib/domain/errors.ts";
import { EVENT_DETAIL_SCHEMAS, type DetailType } from "../../../../lib/domain/event-schemas.ts";
import { fileCheckpointId } from "../../../../lib/domain/file-discovery.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
import { undeleteCheckpoint } from "../../../../lib/usecases/catalog/undelete-checkpoint.ts";
import { discoverCheckpoints } from "../../../../lib/usecases/files/discover-checkpoints.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import { purgeTrash } from "../../../../lib/usecases/retention/purge-trash.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
} from "../../../support/memory.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-12-01T10:00:00Z");
const OWNED = { bucket: "snapshots", prefixes: ["simsnap"] };
const MARKER = "trainer_state.json";
const OLD = fileCheckpointId(FILES_BUCKET, "runs/exp7/checkpoint-1200/");
const NEW = fileCheckpointId(FILES_BUCKET, "runs/exp7/checkpoint-2400/");

/** Thrown by a fault-injecting fake where a process would have died. */
class Crash extends Error {}

/**
 * `target` whose `method` dies on its next call: before doing anything (`when: "before"`), or
 * right after it did its work (`"after"`, a process killed between a write and the next step).
 */
function dying<T extends object>(target: T, method: keyof T, when: "before" | "after"): T {
  let armed = true;
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (property !== method) return value.bind(object);
      return async (...args: unknown[]) => {
        if (!armed) return (value as (...a: unknown[]) => unknown).apply(object, args);
        armed = false;
        if (when === "after") await (value as (...a: unknown[]) => unknown).apply(object, args);
        throw new Crash(`died ${when} ${String(method)}`);
      };
    },
  });
}

/**
 * A training run with two Hugging Face checkpoints (4 objects each, the marker last) in the files
 * bucket, both cataloged COMPLETE; retention keeps the newest, so a prune removes `old`. One
 * in-memory S3 holds both buckets, so copies between them work as server-side copies do.
 */
async function world() {
  const clock = new ManualClock(new Date(T0));
  const store = new MemoryArchiveStore({ clock, checksums: false });
  const fileDeletes: string[][] = [];
  const deleteMany = store.deleteMany.bind(store);
  store.deleteMany = (bucket, keys) => {
    if (bucket === FILES_BUCKET) fileDeletes.push([...keys]);
    return deleteMany(bucket, keys);
  };
  const checkpoints = new MemoryCheckpointStore();
  const oldKey = await writeHfCheckpoint(store, { step: 1200 });
  clock.advance(HOUR);
  const newKey = await writeHfCheckpoint(store, { step: 2400 });
  // Their ids are discovery's own, so a scan addresses these very records.
  for (const [id, key, at] of [
    [OLD, oldKey, T0],
    [NEW, newKey, T0 + HOUR],
  ] as const) {
    let size = 0;
    for await (const object of store.list(FILES_BUCKET, key)) size += object.size;
    await checkpoints.create(filesRecord(key, { id, createdAt: new Date(at).toISOString(), size }));
  }
  clock.advance(HOUR);
  const deps = {
    checkpoints,
    jobs: new MemoryJobStore(),
    objects: store,
    fileObjects: store,
    events: new MemoryEventPublisher(),
    clock,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 1 }, maxRemoveFraction: 1 }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: OWNED,
    providers: filesProviders(),
    files: fileOwnership(),
    trash: { days: 7, store },
  };
  const originals = await contents(store, FILES_BUCKET, oldKey);
  return { deps, store, oldKey, originals, fileDeletes };
}

type World = Awaited<ReturnType<typeof world>>;

async function contents(
  store: MemoryArchiveStore,
  bucket: string,
  prefix: string,
): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const object of store.list(bucket, prefix)) {
    found[object.key.slice(prefix.length)] = store.text(object) ?? "";
  }
  return found;
}

const get = async (w: World, id = OLD) => (await w.deps.checkpoints.get(id)) as Checkpoint;
const run = (runId = "run-1") => ({ runId, dryRun: false, force: false });
const undeleteDeps = (w: World) => ({ ...w.deps, store: w.store });
const trashFolder = `simsnap/trash/${OLD}/v1/`;
const inTrash = (w: World) => contents(w.store, "snapshots", trashFolder);
const atItsKey = (w: World) => contents(w.store, FILES_BUCKET, w.oldKey);

/** A discovery scan of the files sources: it must find nothing to catalog or change. */
async function expectDiscoveryQuiet(w: World) {
  const before = await w.deps.checkpoints.get(OLD);
  const scan = await discoverCheckpoints(w.deps.files, { ...w.deps, objects: w.store });
  expect(scan.created).toEqual([]);
  expect(scan.completed).toEqual([]);
  expect(scan.failed).toEqual([]);
  expect(await w.deps.checkpoints.get(OLD)).toEqual(before);
}

function expectValidEvents(w: World) {
  for (const event of w.deps.events.events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as DetailType];
    expect(schema.safeParse(event.detail).success, event.detailType).toBe(true);
  }
}

/** The spelt trash keys of the four objects, relative to the folder, as S3 lists them. */
const trashedNames = (originals: Record<string, string>) => Object.keys(originals).sort();

describe("the trash for sets of objects (files checkpoints)", () => {
  it("prune copies the set to the trash, records it, then deletes the originals marker first", async () => {
    const w = await world();
    const [result] = await prune(run(), w.deps);

    const purgeAfter = new Date(T0 + 2 * HOUR + 7 * DAY).toISOString();
    expect(result).toMatchObject({ outcome: "pruned", removed: [OLD], trashed: [OLD] });
    expect(result?.purgeAfter).toBe(purgeAfter);
    expect(await get(w)).toMatchObject({
      state: "DELETED",
      trash: { bucket: "snapshots", key: trashFolder },
      purgeAfter,
    });
    expect(await inTrash(w)).toEqual(w.originals);
    expect(trashedNames(await inTrash(w))).toEqual(trashedNames(w.originals));
    expect(await atItsKey(w)).toEqual({});
    expect(w.fileDeletes[0]).toEqual([`${w.oldKey}${MARKER}`]);
    expect(w.fileDeletes.slice(1).flat()).toHaveLength(3);
    // The kept checkpoint is untouched.
    expect((await get(w, NEW)).state).toBe("COMPLETE");
    const event = w.deps.events.events.find((e) => e.detailType === "Checkpoints Pruned");
    expect(event?.detail).toMatchObject({ trashedCount: 1, trashed: [OLD], purgeAfter });
    expectValidEvents(w);
  });

  it("undelete after a prune copies the set back, marker last, and the record is COMPLETE again", async () => {
    const w = await world();
    await prune(run(), w.deps);
    const copiesBefore = w.store.copies.length;

    const back = await undeleteCheckpoint(OLD, undeleteDeps(w));

    expect(back).toMatchObject({ state: "COMPLETE", favorite: true, size: (await get(w)).size });
    expect(back.trash).toBeUndefined();
    expect(back.purgeAfter).toBeUndefined();
    const copiedBack = w.store.copies.slice(copiesBefore).map((c) => c.destination.key);
    expect(copiedBack).toHaveLength(4);
    expect(copiedBack.at(-1)).toBe(`${w.oldKey}${MARKER}`);
    expect(await atItsKey(w)).toEqual(w.originals);
    expect(await inTrash(w)).toEqual({});
    expect(w.deps.events.events.at(-1)?.detailType).toBe("Checkpoint Undeleted");
    expectValidEvents(w);
    // A repeated undelete answers the COMPLETE record and copies nothing.
    expect(await undeleteCheckpoint(OLD, undeleteDeps(w))).toEqual(back);
    expect(w.store.copies.length).toBe(copiesBefore + 4);
  });

  it("DELETE moves the set to the trash, undelete brings it back, and the event says until when", async () => {
    const w = await world();
    const deleted = await deleteCheckpoint(OLD, { force: false }, w.deps);
    expect(deleted).toMatchObject({
      state: "DELETED",
      trash: { bucket: "snapshots", key: trashFolder },
      purgeAfter: new Date(T0 + 2 * HOUR + 7 * DAY).toISOString(),
    });
    expect(await atItsKey(w)).toEqual({});
    expect(w.deps.events.events[0]?.detail).toMatchObject({
      checkpoint: { state: "DELETED", trash: deleted.trash, purgeAfter: deleted.purgeAfter },
    });

    expect((await undeleteCheckpoint(OLD, undeleteDeps(w))).state).toBe("COMPLETE");
    expect(await atItsKey(w)).toEqual(w.originals);
    expectValidEvents(w);
  });

  it("the purge deletes the trash copy after purgeAfter, and the deletion is final", async () => {
    const w = await world();
    await prune(run(), w.deps);
    const purgeDeps = { ...w.deps, objects: w.store };

    // Past the orphan sweep's grace: the sweep reads the record once for the set's 4 copies.
    w.deps.clock.advance(2 * HOUR);
    const reads = w.deps.checkpoints.getRequests;
    const early = await purgeTrash(purgeDeps);
    expect(w.deps.checkpoints.getRequests - reads).toBe(1);
    expect(early.orphans).toEqual([]);
    expect(early.purged).toEqual([]);
    // What waits in the trash, from the listing the purge's sweep makes anyway.
    expect(early.bytesInTrash).toBe((await get(w)).size);
    expect(early.bytesInTrash).toBeGreaterThan(0);
    w.deps.clock.advance(7 * DAY);
    expect((await purgeTrash(purgeDeps)).purged).toEqual([OLD]);
    expect(await inTrash(w)).toEqual({});
    expect(await get(w)).toMatchObject({ state: "DELETED", purgedAt: expect.any(String) });
    expect((await get(w)).trash).toBeUndefined();
    await expect(undeleteCheckpoint(OLD, undeleteDeps(w))).rejects.toThrow(/was purged at/);
    expect(await purgeTrash(purgeDeps)).toMatchObject({ purged: [], bytesInTrash: 0 });
  });

  it("deletes for good, marker first, a set the bucket's lifecycle moved to a cold class", async () => {
    const w = await world();
    w.store.transition({ bucket: FILES_BUCKET, key: `${w.oldKey}model.safetensors` }, "GLACIER");

    const deleted = await deleteCheckpoint(OLD, { force: false }, w.deps);

    expect(deleted.state).toBe("DELETED");
    expect(deleted.trash).toBeUndefined();
    expect(await atItsKey(w)).toEqual({});
    expect(w.fileDeletes[0]).toEqual([`${w.oldKey}${MARKER}`]);
    await expect(undeleteCheckpoint(OLD, undeleteDeps(w))).rejects.toThrow(/deleted for good/);
  });

  it("undelete refuses a set whose key a tool wrote again since, touching nothing", async () => {
    const w = await world();
    await deleteCheckpoint(OLD, { force: false }, w.deps);
    await w.store.put({ bucket: FILES_BUCKET, key: `${w.oldKey}model.safetensors` }, "new run");

    const attempt = undeleteCheckpoint(OLD, undeleteDeps(w));
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toThrow(/holds 1 object\(s\) that are not its own/);
    expect((await get(w)).state).toBe("DELETED");
    expect(await inTrash(w)).toEqual(w.originals);
  });
});

describe("a set's move to the trash when the process dies between steps", () => {
  it("dies after the copies, before the record: COMPLETE and whole; the redelivery copies nothing again", async () => {
    const w = await world();
    const deps = { ...w.deps, checkpoints: dying(w.deps.checkpoints, "save", "before") };
    await expect(prune(run(), deps)).rejects.toBeInstanceOf(Crash);

    expect((await get(w)).state).toBe("COMPLETE");
    expect(await atItsKey(w)).toEqual(w.originals);
    expect(await inTrash(w)).toEqual(w.originals);
    await expectDiscoveryQuiet(w);

    const copies = w.store.copies.length;
    const [result] = await prune(run(), w.deps);
    expect(result).toMatchObject({ outcome: "pruned", trashed: [OLD] });
    expect(w.store.copies.length).toBe(copies);
    expect(await atItsKey(w)).toEqual({});
    expect(await inTrash(w)).toEqual(w.originals);
  });

  it("dies after the record, before deleting the originals: the redelivered prune removes them", async () => {
    const w = await world();
    const deps = { ...w.deps, checkpoints: dying(w.deps.checkpoints, "save", "after") };
    await expect(prune(run(), deps)).rejects.toBeInstanceOf(Crash);

    expect(await get(w)).toMatchObject({ state: "DELETED", trash: { key: trashFolder } });
    expect(await atItsKey(w)).toEqual(w.originals);
    await expectDiscoveryQuiet(w);

    const copies = w.store.copies.length;
    await prune(run(), w.deps);
    expect(w.store.copies.length).toBe(copies);
    expect(await atItsKey(w)).toEqual({});
    expect(w.fileDeletes[0]).toEqual([`${w.oldKey}${MARKER}`]);
    expect(await inTrash(w)).toEqual(w.originals);
    expect((await get(w)).state).toBe("DELETED");
  });

  it("dies after the record of a DELETE: the repeated DELETE removes the originals", async () => {
    const w = await world();
    const deps = { ...w.deps, checkpoints: dying(w.deps.checkpoints, "save", "after") };
    await expect(deleteCheckpoint(OLD, { force: false }, deps)).rejects.toBeInstanceOf(Crash);
    expect(await atItsKey(w)).toEqual(w.originals);

    expect((await deleteCheckpoint(OLD, { force: false }, w.deps)).state).toBe("DELETED");
    expect(await atItsKey(w)).toEqual({});
    expect(await inTrash(w)).toEqual(w.originals);
  });

  it("dies while deleting the originals (marker gone): undelete finishes from both places, or the purge removes both", async () => {
    for (const next of ["undelete", "purge"] as const) {
      const w = await world();
      const store = dying(w.store, "deleteMany", "after");
      // The marker's request goes through; the process dies right after it.
      const deps = { ...w.deps, fileObjects: store };
      await deleteCheckpoint(OLD, { force: false }, deps);
      expect(Object.keys(await atItsKey(w))).not.toContain(MARKER);
      expect(Object.keys(await atItsKey(w))).toHaveLength(3);
      await expectDiscoveryQuiet(w);

      if (next === "undelete") {
        const copies = w.store.copies.length;
        expect((await undeleteCheckpoint(OLD, undeleteDeps(w))).state).toBe("COMPLETE");
        // Only the marker was missing at its key: only it is copied back.
        expect(w.store.copies.slice(copies).map((c) => c.destination.key)).toEqual([
          `${w.oldKey}${MARKER}`,
        ]);
        expect(await atItsKey(w)).toEqual(w.originals);
      } else {
        w.deps.clock.advance(7 * DAY);
        expect((await purgeTrash({ ...w.deps, objects: w.store })).purged).toEqual([OLD]);
        expect(await atItsKey(w)).toEqual({});
        expect(await inTrash(w)).toEqual({});
      }
    }
  });

  it("an undelete that dies after copying back leaves it DELETED; the retry copies nothing again", async () => {
    const w = await world();
    await deleteCheckpoint(OLD, { force: false }, w.deps);
    const deps = { ...undeleteDeps(w), checkpoints: dying(w.deps.checkpoints, "save", "before") };
    await expect(undeleteCheckpoint(OLD, deps)).rejects.toBeInstanceOf(Crash);
    expect((await get(w)).state).toBe("DELETED");
    expect(await atItsKey(w)).toEqual(w.originals);
    await expectDiscoveryQuiet(w);

    const copies = w.store.copies.length;
    expect((await undeleteCheckpoint(OLD, undeleteDeps(w))).state).toBe("COMPLETE");
    expect(w.store.copies.length).toBe(copies);
    expect(await inTrash(w)).toEqual({});
  });
});
