import { describe, expect, it } from "vitest";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import { purgeTrash } from "../../../../lib/usecases/retention/purge-trash.ts";
import { checkpoint as makeCheckpoint } from "../../../support/checkpoint-factory.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
} from "../../../support/memory.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");

/** `count` snapshot files of one simulation, retention keeping the newest 10, trash 7 days. */
async function world(count: number) {
  const clock = new ManualClock(new Date(T0 + count * MINUTE));
  const store = new MemoryArchiveStore({ clock, checksums: false });
  const deleteRequests: number[] = [];
  const deleteMany = store.deleteMany.bind(store);
  store.deleteMany = (bucket, keys) => {
    deleteRequests.push(keys.length);
    return deleteMany(bucket, keys);
  };
  const checkpoints = new MemoryCheckpointStore();
  for (let i = 0; i < count; i++) {
    const time = new Date(T0 + i * MINUTE);
    const location = { bucket: "snapshots", key: snapshotKey("simsnap", "sim-a", time) };
    await checkpoints.create(
      makeCheckpoint({ id: `c${i}`, createdAt: time.toISOString(), location, size: 3 }),
    );
    await store.put(location, "zip");
  }
  const deps = {
    checkpoints,
    jobs: new MemoryJobStore(),
    objects: store,
    events: new MemoryEventPublisher(),
    clock,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 10 }, maxRemoveFraction: 1 }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: directoryOf([]),
    trash: { days: 7, store },
  };
  return { deps, store, deleteRequests };
}

describe("the trash's S3 requests", () => {
  it("a prune copies each file on its own but deletes the originals 1,000 to a DeleteObjects request", async () => {
    const w = await world(2510);
    const [result] = await prune({ runId: "run-1", dryRun: false, force: false }, w.deps);

    expect(result?.trashed).toHaveLength(2500);
    expect(w.store.copies).toHaveLength(2500);
    // Three batches of the plan (1,000 + 1,000 + 500): one request each.
    expect(w.deleteRequests).toEqual([1000, 1000, 500]);
    for (const id of ["c0", "c1234", "c2499"]) {
      const record = await w.deps.checkpoints.get(id);
      expect(record?.state).toBe("DELETED");
      expect(w.store.text(record!.location!)).toBeUndefined();
      expect(w.store.text(record!.trash!)).toBe("zip");
    }
  });

  it("confirms a copy by the ETag S3 answers it with, and by a HEAD when that differs", async () => {
    const w = await world(13);
    let heads = 0;
    const describe = w.store.describe.bind(w.store);
    w.store.describe = (location) => {
      heads += 1;
      return describe(location);
    };
    // The second copy's bytes differ (same size): its ETag does not confirm it, a HEAD must.
    w.store.corruptCopies = 0;
    const copy = w.store.copy.bind(w.store);
    let copies = 0;
    w.store.copy = async (source, destination, options) => {
      copies += 1;
      w.store.corruptCopies = copies === 2 ? 1 : 0;
      return copy(source, destination, options);
    };
    const [result] = await prune({ runId: "run-1", dryRun: false, force: false }, w.deps);

    expect(result?.trashed).toHaveLength(3);
    // One HEAD of each file, and one of the copy whose ETag differed.
    expect(heads).toBe(3 + 1);
  });

  it("a prune that dies right after a record leaves that original; the redelivery removes it and copies nothing again", async () => {
    const w = await world(40);
    const save = w.deps.checkpoints.save.bind(w.deps.checkpoints);
    let dies = true;
    w.deps.checkpoints.save = async (record) => {
      await save(record);
      if (dies && record.state === "DELETED") {
        dies = false;
        throw new Error("the process died here");
      }
    };
    const run = { runId: "run-1", dryRun: false, force: false };
    await expect(prune(run, w.deps)).rejects.toThrow("the process died here");
    const records = await Promise.all(
      Array.from({ length: 30 }, (_, i) => w.deps.checkpoints.get(`c${i}`)),
    );
    const trashed = records.filter((c) => c?.state === "DELETED");
    expect(trashed.length).toBeGreaterThan(0);
    expect(trashed.some((c) => w.store.text(c!.location!) === "zip")).toBe(true);

    const [result] = await prune(run, w.deps);
    expect(result?.outcome).toBe("pruned");
    expect(w.store.copies).toHaveLength(30);
    for (let i = 0; i < 30; i++) {
      const record = await w.deps.checkpoints.get(`c${i}`);
      expect(record?.state).toBe("DELETED");
      expect(w.store.text(record!.location!)).toBeUndefined();
      expect(w.store.text(record!.trash!)).toBe("zip");
    }
  });

  it("the purge deletes trash copies (and originals) 1,000 keys to a request", async () => {
    const w = await world(1510);
    await prune({ runId: "run-1", dryRun: false, force: false }, w.deps);
    w.deleteRequests.splice(0);
    w.deps.clock.advance(7 * DAY);

    const result = await purgeTrash({ ...w.deps, objects: w.store });

    expect(result.purged).toHaveLength(1500);
    // 1,500 copies and their originals' keys (gone already, which S3 counts as deleted).
    expect(w.deleteRequests).toEqual([1000, 1000, 1000]);
    const record = await w.deps.checkpoints.get("c7");
    expect(record?.purgedAt).toBeDefined();
  });
});
