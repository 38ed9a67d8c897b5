import { describe, expect, it } from "vitest";
import { fileCheckpointId } from "../../../../lib/domain/file-discovery.ts";
import type { FileEvent } from "../../../../lib/domain/messages.ts";
import {
  discoverFileEvent,
  recheckDelaySeconds,
  scanFileSources,
  type DiscoverFilesDeps,
} from "../../../../lib/usecases/files/discover-files.ts";
import { FILES_BUCKET, fileOwnership, writeHfCheckpoint } from "../../../support/files-world.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryObjectStore,
  MemoryQueue,
} from "../../../support/memory.ts";

const NOW = new Date("2026-12-01T12:00:00Z");

function world(options: { sources?: boolean } = {}) {
  const clock = new ManualClock(NOW);
  const objects = new MemoryObjectStore(clock);
  const rechecks = new MemoryQueue<FileEvent>();
  const deps: DiscoverFilesDeps = {
    objects,
    checkpoints: new MemoryCheckpointStore(),
    events: new MemoryEventPublisher(),
    clock,
    owned: options.sources === false ? undefined : fileOwnership(),
    rechecks,
  };
  return { clock, objects, rechecks, deps };
}

const created = (key: string): FileEvent => ({
  source: "aws.s3",
  "detail-type": "Object Created",
  time: NOW.toISOString(),
  detail: { bucket: { name: FILES_BUCKET }, object: { key } },
});

describe("recheckDelaySeconds", () => {
  it.each([
    [30_000, 30],
    [29_001, 30],
    [0, 1],
    [-5_000, 1],
    [3_600_000, 900],
  ])("waits for a period ending %i ms from now: %i s", (inMs, seconds) => {
    expect(recheckDelaySeconds(new Date(NOW.getTime() + inMs), NOW)).toBe(seconds);
  });
});

describe("discoverFileEvent", () => {
  it("sends one delayed re-check naming the checkpoint while its settle period runs", async () => {
    const w = world();
    const key = await writeHfCheckpoint(w.objects, { step: 100 });

    const result = await discoverFileEvent(created(`${key}trainer_state.json`), w.deps);

    const dueAt = new Date(NOW.getTime() + 30_000).toISOString();
    expect(result.rechecks).toEqual([{ key, delaySeconds: 30 }]);
    expect(w.rechecks.sent).toEqual([
      { message: { recheck: { bucket: FILES_BUCKET, key, dueAt } }, delaySeconds: 30 },
    ]);

    // The re-check, once due, completes it and schedules nothing more.
    w.clock.set(dueAt);
    const again = await discoverFileEvent(w.rechecks.sent[0]!.message, w.deps);
    expect(again.completed.map((c) => c.id)).toEqual([fileCheckpointId(FILES_BUCKET, key)]);
    expect(again.rechecks).toEqual([]);
    expect(w.rechecks.sent).toHaveLength(1);
  });

  it("schedules nothing for a checkpoint only a new write can complete (no marker)", async () => {
    const w = world();
    await w.objects.put({ bucket: FILES_BUCKET, key: "runs/exp7/checkpoint-5/model.bin" }, "x");

    const result = await discoverFileEvent(created("runs/exp7/checkpoint-5/model.bin"), w.deps);

    expect(result.pending.map((p) => p.reason)).toEqual(["no-marker"]);
    expect(w.rechecks.sent).toEqual([]);
  });

  it("does nothing, reading nothing, when no sources are configured", async () => {
    const w = world({ sources: false });
    await writeHfCheckpoint(w.objects, { step: 100 });

    const result = await discoverFileEvent(created("runs/exp7/checkpoint-100/a"), w.deps);

    expect(result.skipped).toEqual([
      { key: "runs/exp7/checkpoint-100/a", reason: "no files sources are configured" },
    ]);
    expect(await scanFileSources(w.deps)).toMatchObject({ created: [], rechecks: [] });
    expect(await w.deps.checkpoints.listSimulations()).toEqual([]);
  });
});

describe("scanFileSources", () => {
  it("catalogs every source and re-checks each settling checkpoint", async () => {
    const w = world();
    const a = await writeHfCheckpoint(w.objects, { step: 100 });
    w.clock.advance(10_000);
    const b = await writeHfCheckpoint(w.objects, { step: 200 });

    const result = await scanFileSources(w.deps);

    expect(result.created).toHaveLength(2);
    expect(result.rechecks).toEqual([
      { key: a, delaySeconds: 20 },
      { key: b, delaySeconds: 30 },
    ]);
  });
});
