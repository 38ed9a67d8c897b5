import { describe, expect, it } from "vitest";
import type { Checkpoint, S3Location } from "../../../../lib/domain/checkpoint.ts";
import { fileCheckpointId } from "../../../../lib/domain/file-discovery.ts";
import type { FileOwnership } from "../../../../lib/domain/object-set.ts";
import type { ObjectInfo, UploadInfo } from "../../../../lib/ports/object-store.ts";
import {
  discoverCheckpointOfKey,
  discoverCheckpoints,
  type DiscoverCheckpointsDeps,
} from "../../../../lib/usecases/files/discover-checkpoints.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  sourceOf,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryObjectStore,
} from "../../../support/memory.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const at = (key: string): S3Location => ({ bucket: FILES_BUCKET, key });
const idOf = (key: string) => fileCheckpointId(FILES_BUCKET, key);

/** An object store that records every prefix listed, to prove what discovery reads. */
class ListingSpy extends MemoryObjectStore {
  readonly listed: string[] = [];
  /** Runs once a listing of this prefix has been read to its end: a tool writing meanwhile. */
  readonly afterListing = new Map<string, () => Promise<void>>();
  override async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    this.listed.push(`${bucket}/${prefix}`);
    yield* super.list(bucket, prefix);
    const hook = this.afterListing.get(prefix);
    this.afterListing.delete(prefix);
    await hook?.();
  }
  readonly uploadsListed: string[] = [];
  override listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo> {
    this.uploadsListed.push(`${bucket}/${prefix}`);
    return super.listUploads(bucket, prefix);
  }
}

function world(owned: FileOwnership = fileOwnership()) {
  const clock = new ManualClock(NOW);
  const objects = new ListingSpy(clock);
  const checkpoints = new MemoryCheckpointStore();
  const events = new MemoryEventPublisher();
  const deps: DiscoverCheckpointsDeps = { objects, checkpoints, events, clock };
  return {
    clock,
    objects,
    checkpoints,
    events,
    scan: () => discoverCheckpoints(owned, deps),
    onKey: (key: string, bucket = FILES_BUCKET) =>
      discoverCheckpointOfKey(owned, { bucket, key }, deps),
    record: async (key: string): Promise<Checkpoint | undefined> => checkpoints.get(idOf(key)),
  };
}

/** A Hugging Face checkpoint without its marker: the Trainer died mid-save. */
async function writeHalfCheckpoint(store: MemoryObjectStore, step: number): Promise<string> {
  const key = `runs/exp7/checkpoint-${step}/`;
  await store.put(at(`${key}model.safetensors`), "weights");
  await store.put(at(`${key}optimizer.pt`), "optimizer");
  return key;
}

const trainerState = (loss: unknown) =>
  `{"global_step": 1, "log_history": [{"loss": 2.5}, {"eval_loss": ${String(loss)}}]}`;

describe("discoverCheckpoints", () => {
  it("catalogs Hugging Face checkpoints COMPLETE once the marker settled, with step, size and metrics", async () => {
    const w = world();
    const a = await writeHfCheckpoint(w.objects, { step: 1200, files: 4 });
    const b = await writeHfCheckpoint(w.objects, { step: 1300, files: 3 });
    await w.objects.put(at(`${b}trainer_state.json`), trainerState(0.31));
    w.clock.advance(31_000);

    const result = await w.scan();

    expect(result.created).toEqual([idOf(a), idOf(b)]);
    expect(result.completed.map((c) => c.id)).toEqual([idOf(a), idOf(b)]);
    expect(result.completed[0]?.objects).toBe(4);
    const record = await w.record(a);
    expect(record).toMatchObject({
      simulation: "exp7",
      provider: "files",
      trigger: "discovered",
      state: "COMPLETE",
      name: "exp7/checkpoint-1200",
      step: 1200,
      location: { bucket: FILES_BUCKET, key: a },
      metrics: { eval_loss: 0.42 },
      createdAt: NOW.toISOString(),
      completedAt: new Date(NOW.getTime() + 31_000).toISOString(),
    });
    let bytes = 0;
    for await (const o of w.objects.list(FILES_BUCKET, a)) bytes += o.size;
    expect(record?.size).toBe(bytes);
    expect((await w.record(b))?.metrics).toEqual({ eval_loss: 0.31 });
    expect(w.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Completed",
      "Checkpoint Completed",
    ]);
  });

  it("reads only the sidecar, and a metric that is not a finite number is left out", async () => {
    const w = world();
    const key = await writeHfCheckpoint(w.objects, { step: 5 });
    await w.objects.put(at(`${key}trainer_state.json`), trainerState("NaN"));
    w.clock.advance(31_000);

    await w.scan();

    expect(w.objects.getTextCalls).toEqual([at(`${key}trainer_state.json`)]);
    const record = await w.record(key);
    expect(record?.state).toBe("COMPLETE");
    expect(record?.metrics).toBeUndefined();
  });

  it("keeps a half-written checkpoint PENDING across runs without rewriting it, then completes it", async () => {
    const w = world();
    const key = await writeHalfCheckpoint(w.objects, 1400);

    const first = await w.scan();
    expect(first.created).toEqual([idOf(key)]);
    expect(first.pending).toEqual([{ id: idOf(key), key, reason: "no-marker" }]);
    w.clock.advance(3_600_000);
    const second = await w.scan();
    expect(second.pending).toEqual([{ id: idOf(key), key, reason: "no-marker" }]);
    expect(second).toMatchObject({ created: [], completed: [], unchanged: 1 });
    expect(await w.record(key)).toMatchObject({ state: "PENDING", version: 1, step: 1400 });
    expect((await w.record(key))?.metrics).toBeUndefined();

    await w.objects.put(at(`${key}trainer_state.json`), trainerState(0.2));
    const settling = await w.scan();
    const settledAt = new Date(w.clock.now().getTime() + 30_000).toISOString();
    expect(settling.pending).toEqual([
      { id: idOf(key), key, reason: "settling", recheckAt: settledAt },
    ]);
    expect(settling.recheckAt).toBe(settledAt);
    w.clock.set(settledAt);
    expect((await w.scan()).completed.map((c) => c.id)).toEqual([idOf(key)]);
    expect(await w.record(key)).toMatchObject({ state: "COMPLETE", metrics: { eval_loss: 0.2 } });
    expect(w.events.events).toHaveLength(1);
  });

  it("completes a quiet-rule checkpoint only once nothing was written for the quiet period", async () => {
    const w = world();
    const key = "ray/exp1/checkpoint_2026-12-01_11-59-00.000000/";
    await w.objects.put(at(`${key}model.pt`), "weights");
    w.clock.advance(60_000);
    await w.objects.put(at(`${key}metrics.json`), "{}");
    const quietAt = new Date(NOW.getTime() + 60_000 + 120_000).toISOString();

    expect((await w.scan()).pending).toEqual([
      { id: idOf(key), key, reason: "writing", recheckAt: quietAt },
    ]);
    w.clock.set(new Date(Date.parse(quietAt) - 1000));
    expect((await w.scan()).completed).toEqual([]);
    expect((await w.record(key))?.state).toBe("PENDING");
    w.clock.set(quietAt);
    const done = await w.scan();

    expect(done.completed).toEqual([{ id: idOf(key), objects: 2, bytes: 9 }]);
    expect(await w.record(key)).toMatchObject({ state: "COMPLETE", simulation: "exp1" });
  });

  it("confirms with a fresh listing before completing: a write after the scan's listing keeps it PENDING", async () => {
    const w = world();
    const key = "ray/exp1/checkpoint_2026-12-01_11-59-00.000000/";
    await w.objects.put(at(`${key}model.pt`), "weights");
    w.clock.advance(600_000);
    w.objects.afterListing.set("ray/", () => w.objects.put(at(`${key}extra.pt`), "late"));

    const result = await w.scan();

    expect(result.completed).toEqual([]);
    expect(result.pending).toEqual([
      {
        id: idOf(key),
        key,
        reason: "writing",
        recheckAt: new Date(w.clock.now().getTime() + 120_000).toISOString(),
      },
    ]);
    expect((await w.record(key))?.state).toBe("PENDING");
  });

  it("ignores temporary directories and keys outside the layout", async () => {
    const w = world();
    await w.objects.put(at("runs/exp7/tmp-checkpoint-1500/model.safetensors"), "w");
    await w.objects.put(at("runs/exp7/tmp-checkpoint-1500/trainer_state.json"), trainerState(1));
    await w.objects.put(at("runs/exp7/config.json"), "{}");
    await w.objects.put(at("runs/exp7/checkpoint-1600/../x"), "bad");
    w.clock.advance(31_000);

    const result = await w.scan();

    expect(result).toMatchObject({ created: [], completed: [], pending: [] });
    expect(await w.checkpoints.listSimulations()).toEqual([]);
  });

  it("changes nothing when run twice", async () => {
    const w = world();
    await writeHfCheckpoint(w.objects, { step: 1 });
    await writeHalfCheckpoint(w.objects, 2);
    await w.objects.put(at("lightning/r1/epoch=0-step=10.ckpt"), "ckpt");
    w.clock.advance(31_000);
    await w.scan();
    const before = (await w.checkpoints.listBySimulation("exp7")).items;
    const events = w.events.events.length;

    const again = await w.scan();

    expect(again).toMatchObject({ created: [], completed: [], failed: [], unchanged: 3 });
    expect((await w.checkpoints.listBySimulation("exp7")).items).toEqual(before);
    expect(w.events.events).toHaveLength(events);
  });

  it("lists only the configured prefixes, never the bucket or a neighbour", async () => {
    const w = world();
    await w.objects.put(at("runsX/exp7/checkpoint-1/trainer_state.json"), trainerState(1));
    await w.objects.put(at("other/exp7/checkpoint-1/trainer_state.json"), trainerState(1));
    await w.objects.put({ bucket: "elsewhere", key: "runs/exp7/checkpoint-1/a" }, "a");
    w.clock.advance(31_000);

    const result = await w.scan();

    expect(w.objects.listed).toEqual([
      `${FILES_BUCKET}/runs/`,
      `${FILES_BUCKET}/ray/`,
      `${FILES_BUCKET}/lightning/`,
    ]);
    expect(result.created).toEqual([]);
  });

  it("catalogs single-object checkpoints by their own key, leaving look-alikes alone", async () => {
    const w = world();
    await w.objects.put(at("lightning/r1/epoch=3-step=1200.ckpt"), "ckpt!");
    await w.objects.put(at("lightning/r1/epoch=3-step=1200.ckpt.bak"), "old");
    await w.objects.put(at("lightning/r1/last.ckpt"), "last");

    const result = await w.scan();

    expect(result.completed).toEqual([
      { id: idOf("lightning/r1/epoch=3-step=1200.ckpt"), objects: 1, bytes: 5 },
    ]);
    expect(await w.record("lightning/r1/epoch=3-step=1200.ckpt")).toMatchObject({
      simulation: "r1",
      step: 1200,
      size: 5,
      location: { key: "lightning/r1/epoch=3-step=1200.ckpt" },
    });
  });

  it("fails a PENDING checkpoint whose objects all vanished, and never touches a COMPLETE one", async () => {
    const w = world();
    const half = await writeHalfCheckpoint(w.objects, 7);
    const whole = await writeHfCheckpoint(w.objects, { step: 8 });
    w.clock.advance(31_000);
    await w.scan();
    const listOf = async (prefix: string) => {
      const keys: string[] = [];
      for await (const o of w.objects.list(FILES_BUCKET, prefix)) keys.push(o.key);
      return keys;
    };
    await w.objects.deleteMany(FILES_BUCKET, [...(await listOf(half)), ...(await listOf(whole))]);

    const result = await w.scan();

    expect(result.failed).toEqual([idOf(half)]);
    expect(await w.record(half)).toMatchObject({
      state: "FAILED",
      error: { code: "CheckpointVanished" },
    });
    expect((await w.record(whole))?.state).toBe("COMPLETE");
    expect(w.events.events.at(-1)?.detailType).toBe("Checkpoint Failed");
    expect((await w.scan()).failed).toEqual([]);
  });

  it("files a checkpoint under the prefix's last segment when the layout has no {run}", async () => {
    const owned = {
      bucket: FILES_BUCKET,
      sources: [
        sourceOf({
          prefix: "hpc/lammps",
          layout: "restart.{step}/",
          commit: { marker: "_SUCCESS" },
        }),
      ],
    };
    const w = world(owned);
    await w.objects.put(at("hpc/lammps/restart.100/data"), "d");
    await w.objects.put(at("hpc/lammps/restart.100/_SUCCESS"), "");

    await w.scan();

    expect(await w.record("hpc/lammps/restart.100/")).toMatchObject({
      simulation: "lammps",
      state: "COMPLETE",
      step: 100,
    });
  });
});

describe("uploads in progress", () => {
  it("keeps a checkpoint PENDING while a file of it is still uploading, marker or not", async () => {
    const w = world();
    const key = await writeHfCheckpoint(w.objects, { step: 1500 });
    const upload = w.objects.startUpload(at(`${key}model-00002-of-00002.safetensors`));
    w.clock.advance(31_000);

    const scanned = await w.scan();
    expect(scanned.pending).toEqual([{ id: idOf(key), key, reason: "uploading" }]);
    expect((await w.onKey(`${key}trainer_state.json`)).pending[0]?.reason).toBe("uploading");
    expect((await w.record(key))?.state).toBe("PENDING");

    await w.objects.completeUpload(upload, "second shard");
    w.clock.advance(31_000);
    expect((await w.scan()).completed.map((c) => c.id)).toEqual([idOf(key)]);
  });

  it("catalogs a checkpoint seen only through its first upload, PENDING", async () => {
    const w = world();
    w.objects.startUpload(at("runs/exp7/checkpoint-1600/model.safetensors"));

    const result = await w.scan();

    expect(result.created).toEqual([idOf("runs/exp7/checkpoint-1600/")]);
    expect(result.pending[0]?.reason).toBe("uploading");
  });

  it("lists uploads under the source prefix only, and an abandoned upload no longer holds it", async () => {
    const w = world();
    const key = await writeHfCheckpoint(w.objects, { step: 1700 });
    w.objects.startUpload(at(`${key}optimizer.pt`));
    w.objects.startUpload({ bucket: FILES_BUCKET, key: `elsewhere/${key}optimizer.pt` });
    w.clock.advance(86_400_000);

    const result = await w.scan();

    expect(result.completed.map((c) => c.id)).toEqual([idOf(key)]);
    // Each source's prefix, and the checkpoint's own key when confirming it: never the bucket.
    expect(w.objects.uploadsListed).toEqual(
      ["runs/", key, "ray/", "lightning/"].map((prefix) => `${FILES_BUCKET}/${prefix}`),
    );
  });
});

describe("discoverCheckpointOfKey", () => {
  it("re-lists only the event's checkpoint and reconciles it", async () => {
    const w = world();
    const key = await writeHfCheckpoint(w.objects, { step: 1200 });
    await writeHfCheckpoint(w.objects, { step: 1300 });
    w.clock.advance(31_000);

    const result = await w.onKey(`${key}trainer_state.json`);

    expect(w.objects.listed).toEqual([`${FILES_BUCKET}/${key}`]);
    expect(result.completed.map((c) => c.id)).toEqual([idOf(key)]);
    expect(await w.record("runs/exp7/checkpoint-1300/")).toBeUndefined();
    expect((await w.onKey(`${key}model.safetensors`)).unchanged).toBe(1);
  });

  it("creates a PENDING record from the first file's event, and agrees with a later scan", async () => {
    const w = world();
    const key = await writeHalfCheckpoint(w.objects, 9);

    expect((await w.onKey(`${key}model.safetensors`)).created).toEqual([idOf(key)]);
    expect(await w.scan()).toMatchObject({ created: [], unchanged: 1 });
  });

  it("fails a PENDING record when a delete event leaves nothing under it", async () => {
    const w = world();
    const key = await writeHalfCheckpoint(w.objects, 11);
    await w.onKey(`${key}model.safetensors`);
    await w.objects.deleteMany(FILES_BUCKET, [`${key}model.safetensors`, `${key}optimizer.pt`]);

    expect((await w.onKey(`${key}optimizer.pt`)).failed).toEqual([idOf(key)]);
  });

  it("skips keys of no checkpoint without listing anything", async () => {
    const w = world();
    const skipped = [
      await w.onKey("runs/exp7/tmp-checkpoint-3/model.safetensors"),
      await w.onKey("elsewhere/exp7/checkpoint-3/model.safetensors"),
      await w.onKey("runs/exp7/checkpoint-3/model.safetensors", "other-bucket"),
    ].map((r) => r.skipped[0]?.reason);

    expect(skipped).toEqual([
      expect.stringMatching(/no checkpoint of source runs/),
      "under no configured source prefix",
      `outside the files bucket ${FILES_BUCKET}`,
    ]);
    expect(w.objects.listed).toEqual([]);
  });
});
