import { describe, expect, it } from "vitest";
import { decideCommit } from "../../../../lib/domain/file-commit.ts";
import { groupCheckpoints } from "../../../../lib/domain/file-source.ts";
import type { S3Location } from "../../../../lib/domain/checkpoint.ts";
import type {
  DeleteManyResult,
  ObjectInfo,
  ObjectStore,
  UploadInfo,
} from "../../../../lib/ports/object-store.ts";
import { deleteObjectSet } from "../../../../lib/usecases/files/delete-object-set.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  sourceOf,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import { ManualClock, MemoryObjectStore } from "../../../support/memory.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const at = (key: string): S3Location => ({ bucket: FILES_BUCKET, key });
const clock = () => new ManualClock(NOW);
const hf = sourceOf({ prefix: "runs", preset: "huggingface" });

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

/** What discovery would say of the checkpoints left under `runs/` an hour later. */
async function discovered(store: ObjectStore) {
  const objects: { key: string; size: number; lastModified: Date }[] = [];
  for await (const o of store.list(FILES_BUCKET, "runs/")) {
    objects.push({ key: o.key, size: o.size, lastModified: o.lastModified ?? NOW });
  }
  const later = new Date(NOW.getTime() + 3_600_000);
  return groupCheckpoints(hf, objects).map((c) => ({
    key: c.key,
    objects: c.objects.length,
    state: decideCommit(hf.commit, c, later).state,
  }));
}

/**
 * The store of a process that dies at its `crashAt`-th DeleteObjects request: before S3 gets it
 * (`before`), or after S3 did it and before the answer was read (`after`).
 */
class CrashingStore implements ObjectStore {
  private calls = 0;
  constructor(
    private readonly inner: MemoryObjectStore,
    private readonly crashAt: number,
    private readonly when: "before" | "after",
  ) {}
  head(location: S3Location) {
    return this.inner.head(location);
  }
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(bucket, prefix);
  }
  listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo> {
    return this.inner.listUploads(bucket, prefix);
  }
  put(location: S3Location, body: string | Uint8Array) {
    return this.inner.put(location, body);
  }
  getText(location: S3Location, maxBytes: number) {
    return this.inner.getText(location, maxBytes);
  }
  async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    if (++this.calls === this.crashAt && this.when === "before") throw new Error("crash");
    const result = await this.inner.deleteMany(bucket, keys);
    if (this.calls === this.crashAt) throw new Error("crash");
    return result;
  }
}

describe("deleteObjectSet", () => {
  it("deletes a 5,000-object checkpoint in 1 marker request + 5 batches of 1,000, marker first", async () => {
    const store = new MemoryObjectStore(clock());
    const key = await writeHfCheckpoint(store, { files: 5000 });
    await writeHfCheckpoint(store, { step: 120, files: 3 });
    await writeHfCheckpoint(store, { step: 12000, files: 3 });
    await store.put(at("runs/exp7/config.json"), "{}");

    const result = await deleteObjectSet(at(key), { objects: store, owned: fileOwnership() });

    expect(result).toMatchObject({
      outcome: "deleted",
      deleted: 5000,
      markerDeleted: true,
      requests: 6,
      failed: [],
      remaining: [],
    });
    expect(store.deleteCalls.map((keys) => keys.length)).toEqual([1, 1000, 1000, 1000, 1000, 999]);
    expect(store.deleteCalls[0]).toEqual([`${key}trainer_state.json`]);
    expect(await keysUnder(store, key)).toEqual([]);
    expect(await keysUnder(store, "runs/")).toHaveLength(7);
  });

  it("deletes a quiet-rule checkpoint without a marker step, and a single object alone", async () => {
    const store = new MemoryObjectStore(clock());
    const ray = "ray/exp/checkpoint_2026-12-01_10-00-00.000001/";
    for (let i = 0; i < 2000; i++) await store.put(at(`${ray}f${i}`), "x");
    const ckpt = "lightning/v0/epoch=3-step=1200.ckpt";
    await store.put(at(ckpt), "weights");
    await store.put(at(`${ckpt}.bak`), "old weights");

    const deps = { objects: store, owned: fileOwnership() };
    expect(await deleteObjectSet(at(ray), deps)).toMatchObject({
      outcome: "deleted",
      requests: 2,
      markerDeleted: false,
    });
    expect(await deleteObjectSet(at(ckpt), deps)).toMatchObject({
      outcome: "deleted",
      requests: 1,
    });
    expect(store.deleteCalls.slice(2)).toEqual([[ckpt]]);
    expect(await keysUnder(store, "lightning/")).toEqual([`${ckpt}.bak`]);
  });

  it("refuses anything but one whole owned checkpoint, deleting nothing", async () => {
    const store = new MemoryObjectStore(clock());
    await writeHfCheckpoint(store);
    const deps = { objects: store, owned: fileOwnership() };

    for (const key of ["runs/exp7/", "runs/exp7/checkpoint-1200", "other/x/checkpoint-1/"]) {
      expect(await deleteObjectSet(at(key), deps)).toMatchObject({
        outcome: "refused",
        reason: expect.stringContaining(key),
        requests: 0,
      });
    }
    expect(store.deleteCalls).toEqual([]);
  });

  it("deletes nothing else while S3 refuses the marker, so the checkpoint stays whole", async () => {
    const store = new MemoryObjectStore(clock());
    const key = await writeHfCheckpoint(store, { files: 10 });
    store.failingDeletes.add(`${key}trainer_state.json`);

    const result = await deleteObjectSet(at(key), { objects: store, owned: fileOwnership() });

    expect(result).toMatchObject({
      outcome: "incomplete",
      requests: 2,
      deleted: 0,
      failed: [{ key: `${key}trainer_state.json`, code: "AccessDenied" }],
    });
    expect(result.remaining).toHaveLength(10);
    expect(await discovered(store)).toEqual([{ key, objects: 10, state: "COMPLETE" }]);
  });

  it("reports keys S3 refuses after one retry, and a later run finishes", async () => {
    const store = new MemoryObjectStore(clock());
    const key = await writeHfCheckpoint(store, { files: 1500 });
    const stuck = `${key}shards/part-01234.bin`;
    store.failingDeletes.add(stuck);
    const deps = { objects: store, owned: fileOwnership() };

    const first = await deleteObjectSet(at(key), deps);
    expect(first).toMatchObject({
      outcome: "incomplete",
      deleted: 1499,
      requests: 4,
      failed: [{ key: stuck, code: "AccessDenied", message: "Access Denied" }],
      remaining: [stuck],
    });
    expect(store.deleteCalls.at(-1)).toEqual([stuck]);

    store.failingDeletes.clear();
    expect(await deleteObjectSet(at(key), deps)).toMatchObject({
      outcome: "deleted",
      deleted: 1,
      markerDeleted: false,
      requests: 1,
    });
  });

  it("never leaves a committed husk, and a re-run finishes, whatever request the crash hits", async () => {
    const runs: string[] = [];
    for (const when of ["before", "after"] as const) {
      for (let crashAt = 1; crashAt <= 4; crashAt++) {
        const store = new MemoryObjectStore(clock());
        const key = await writeHfCheckpoint(store, { files: 2500 });
        const owned = fileOwnership();

        await expect(
          deleteObjectSet(at(key), { objects: new CrashingStore(store, crashAt, when), owned }),
        ).rejects.toThrow("crash");
        const left = await discovered(store);
        // Either untouched (still whole, still COMPLETE), or no longer committed.
        expect(
          left.every((c) => c.objects === 2500 || c.state === "PENDING"),
          `${when} request ${crashAt}: ${JSON.stringify(left)}`,
        ).toBe(true);

        const rerun = await deleteObjectSet(at(key), { objects: store, owned });
        expect(rerun.outcome).toBe("deleted");
        expect(await keysUnder(store, key)).toEqual([]);
        runs.push(`${when}#${crashAt}: ${left[0]?.state ?? "gone"} → ${rerun.requests} more`);
      }
    }
    expect(runs).toEqual([
      "before#1: COMPLETE → 4 more",
      "before#2: PENDING → 3 more",
      "before#3: PENDING → 2 more",
      "before#4: PENDING → 1 more",
      "after#1: PENDING → 3 more",
      "after#2: PENDING → 2 more",
      "after#3: PENDING → 1 more",
      "after#4: gone → 0 more",
    ]);
  });

  it("leaves keys with . or .. segments alone, and reports them", async () => {
    const store = new MemoryObjectStore(clock());
    const key = await writeHfCheckpoint(store);
    await store.put(at(`${key}../escape`), "x");

    const result = await deleteObjectSet(at(key), { objects: store, owned: fileOwnership() });

    expect(result).toMatchObject({
      outcome: "deleted",
      deleted: 4,
      leftAlone: [{ key: `${key}../escape`, reason: expect.stringContaining('".."') }],
    });
    expect(await keysUnder(store, key)).toEqual([`${key}../escape`]);
  });

  it("is incomplete when an object appears while it deletes", async () => {
    const store = new MemoryObjectStore(clock());
    const key = await writeHfCheckpoint(store);
    const writer: ObjectStore = Object.assign(Object.create(store) as MemoryObjectStore, {
      async deleteMany(bucket: string, keys: readonly string[]) {
        const result = await store.deleteMany(bucket, keys);
        await store.put(at(`${key}late.bin`), "written meanwhile");
        return result;
      },
    });

    const result = await deleteObjectSet(at(key), { objects: writer, owned: fileOwnership() });

    expect(result).toMatchObject({
      outcome: "incomplete",
      failed: [],
      remaining: [`${key}late.bin`],
    });
  });
});
