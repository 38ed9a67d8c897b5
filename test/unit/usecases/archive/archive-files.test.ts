import { describe, expect, it } from "vitest";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import { ObjectSetManifestSchema } from "../../../../lib/domain/object-set-manifest.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { archiveWorld } from "../../../support/archive-world.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";

async function setup(state: "COMPLETE" | "PENDING" = "COMPLETE") {
  const base = archiveWorld();
  const world = { ...base, providers: filesProviders(), files: fileOwnership() };
  const key = await writeHfCheckpoint(world.storage, { files: 4 });
  await world.checkpoints.create(
    filesRecord(key, {
      id: "f1",
      state,
      createdAt: "2026-11-23T10:00:00.000Z",
      ...(state === "PENDING" ? { completedAt: undefined } : {}),
    }),
  );
  return { world, key };
}

describe("archiveCheckpoint of a files checkpoint", () => {
  it("copies every object and the manifest, and records the manifest, object count and bytes", async () => {
    const { world } = await setup();

    const result = await archiveCheckpoint({ checkpointId: "f1" }, world);

    const manifestKey = "files/runs/exp7/checkpoint-1200/f1.manifest.json";
    expect(result).toMatchObject({
      outcome: "archived",
      copied: true,
      archive: { bucket: "archive", key: manifestKey, storageClass: "STANDARD_IA", objects: 4 },
    });
    const manifest = ObjectSetManifestSchema.parse(
      JSON.parse(world.storage.text({ bucket: "archive", key: manifestKey })!),
    );
    expect(manifest.totals).toEqual({ objects: 4, bytes: result.bytes });
    expect(manifest.source).toMatchObject({ bucket: FILES_BUCKET, marker: "trainer_state.json" });
    const stored = await world.checkpoints.get("f1");
    expect(stored).toMatchObject({ state: "COMPLETE", archive: result.archive });
    expect(stored?.archive?.bytes).toBe(manifest.totals.bytes);
    expect(world.events.events).toHaveLength(1);
    const event = world.events.events[0]!;
    expect(event.detailType).toBe("Checkpoint Archived");
    expect(() => EVENT_DETAIL_SCHEMAS["Checkpoint Archived"].parse(event.detail)).not.toThrow();
    expect(event.detail).toMatchObject({
      manifest: { bucket: "archive", key: manifestKey },
      checksum: expect.stringMatching(/^sha256:/),
    });
  });

  it("does nothing on a second delivery of the same request", async () => {
    const { world } = await setup();
    await archiveCheckpoint({ checkpointId: "f1" }, world);
    const copies = world.storage.copies.length;

    const again = await archiveCheckpoint({ checkpointId: "f1", attempt: 2 }, world);

    expect(again.outcome).toBe("already-archived");
    expect(world.storage.copies).toHaveLength(copies);
    expect(world.events.events).toHaveLength(1);
  });

  it("never archives a PENDING checkpoint", async () => {
    const { world } = await setup("PENDING");

    const result = await archiveCheckpoint({ checkpointId: "f1" }, world);

    expect(result).toMatchObject({
      outcome: "skipped",
      reason: expect.stringContaining("PENDING"),
    });
    expect(world.storage.copies).toEqual([]);
    expect((await world.checkpoints.get("f1"))?.archive).toBeUndefined();
  });

  it("skips a set whose marker is gone (a prune under way), and says why once it is DELETED", async () => {
    const { world, key } = await setup();
    await world.storage.deleteMany(FILES_BUCKET, [`${key}trainer_state.json`]);

    const underway = await archiveCheckpoint({ checkpointId: "f1" }, world);
    expect(underway).toMatchObject({
      outcome: "skipped",
      reason: expect.stringContaining("has no commit marker trainer_state.json"),
    });
    // A delete finishing while this delivery runs: read COMPLETE first, DELETED by the re-read.
    const store = world.checkpoints;
    const read = store.get.bind(store);
    let reads = 0;
    store.get = async (id: string) => {
      const record = await read(id);
      if (++reads === 1 && record) {
        await store.save({ ...record, state: "DELETED", version: record.version + 1 });
      }
      return record;
    };
    const gone = await archiveCheckpoint({ checkpointId: "f1" }, world);
    expect(gone.reason).toBe(
      "checkpoint is DELETED: its objects were deleted before they could be archived",
    );
    expect(world.storage.copies).toEqual([]);
  });

  it("skips a files checkpoint when no files sources are configured", async () => {
    const { world } = await setup();
    const result = await archiveCheckpoint({ checkpointId: "f1" }, { ...world, files: undefined });
    expect(result).toMatchObject({
      outcome: "skipped",
      reason: expect.stringContaining("no files sources are configured"),
    });
  });
});
