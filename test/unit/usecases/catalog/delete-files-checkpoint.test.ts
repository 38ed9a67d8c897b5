import { describe, expect, it } from "vitest";
import { AppError, ConflictError } from "../../../../lib/domain/errors.ts";
import { deleteCheckpoint } from "../../../../lib/usecases/catalog/delete-checkpoint.ts";
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
  MemoryObjectStore,
} from "../../../support/memory.ts";

async function world(files = 3) {
  const fileObjects = new MemoryObjectStore();
  const deps = {
    checkpoints: new MemoryCheckpointStore(),
    objects: new MemoryObjectStore(),
    fileObjects,
    providers: filesProviders(),
    events: new MemoryEventPublisher(),
    clock: new ManualClock("2026-12-01T12:00:00Z"),
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    files: fileOwnership(),
  };
  const key = await writeHfCheckpoint(fileObjects, { files });
  await writeHfCheckpoint(fileObjects, { step: 12000, files: 2 });
  await deps.checkpoints.create(
    filesRecord(key, { id: "f1", createdAt: "2026-12-01T10:00:00.000Z" }),
  );
  return { deps, key, fileObjects };
}

async function keysUnder(store: MemoryObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

describe("deleteCheckpoint of a files checkpoint", () => {
  it("deletes every object, marker first, then marks it DELETED; a repeat touches nothing", async () => {
    const { deps, key, fileObjects } = await world(2500);

    const deleted = await deleteCheckpoint("f1", { force: false }, deps);

    expect(deleted.state).toBe("DELETED");
    expect(fileObjects.deleteCalls.map((keys) => keys.length)).toEqual([1, 1000, 1000, 499]);
    expect(fileObjects.deleteCalls[0]).toEqual([`${key}trainer_state.json`]);
    expect(await keysUnder(fileObjects, key)).toEqual([]);
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-12000/")).toHaveLength(2);
    expect(deps.objects.deleteCalls).toEqual([]);

    await deleteCheckpoint("f1", { force: false }, deps);
    expect(fileObjects.deleteCalls).toHaveLength(4);
    expect(deps.events.events).toHaveLength(1);
  });

  it("keeps the record COMPLETE when S3 keeps an object (500), and a retry finishes", async () => {
    const { deps, key, fileObjects } = await world();
    fileObjects.failingDeletes.add(`${key}model.safetensors`);

    const attempt = deleteCheckpoint("f1", { force: false }, deps);
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toThrow("1 remain");
    expect((await deps.checkpoints.get("f1"))?.state).toBe("COMPLETE");
    expect(await keysUnder(fileObjects, key)).toEqual([`${key}model.safetensors`]);

    fileObjects.failingDeletes.clear();
    expect((await deleteCheckpoint("f1", { force: false }, deps)).state).toBe("DELETED");
    expect(await keysUnder(fileObjects, key)).toEqual([]);
  });

  it("refuses (409, nothing touched) a record naming a whole run, or without files sources", async () => {
    const { deps, fileObjects } = await world();
    await deps.checkpoints.create(
      filesRecord("runs/exp7/", { id: "run", createdAt: "2026-12-01T10:00:00.000Z" }),
    );

    await expect(deleteCheckpoint("run", { force: true }, deps)).rejects.toThrow(
      /cannot be deleted by simsnap: .*whole checkpoints only/,
    );
    await expect(
      deleteCheckpoint("f1", { force: false }, { ...deps, files: undefined }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(fileObjects.deleteCalls).toEqual([]);
    expect((await deps.checkpoints.get("f1"))?.state).toBe("COMPLETE");
  });
});
