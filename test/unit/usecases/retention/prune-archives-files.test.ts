import { describe, expect, it } from "vitest";
import type { DeleteManyResult } from "../../../../lib/ports/object-store.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { pruneArchives } from "../../../../lib/usecases/retention/prune-archives.ts";
import { archiveWorld } from "../../../support/archive-world.ts";
import {
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";

/** An archive store whose process dies at its `crashAt`-th DeleteObjects request, once done. */
class CrashingArchive extends MemoryArchiveStore {
  deletes: string[][] = [];
  crashAt = Number.POSITIVE_INFINITY;
  override async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    const result = await super.deleteMany(bucket, keys);
    this.deletes.push([...keys]);
    if (this.deletes.length === this.crashAt) throw new Error("process killed");
    return result;
  }
}

/** Three Hugging Face checkpoints (1,500 objects for the oldest), each archived. */
async function archivedSets() {
  const base = archiveWorld();
  const storage = new CrashingArchive({ clock: base.clock });
  const world = {
    ...base,
    storage,
    providers: filesProviders(),
    files: fileOwnership(),
    archiveRetention: RetentionConfigSchema.parse({
      default: { keepLast: 2 },
      maxRemoveFraction: 1,
    }),
  };
  for (let i = 1; i <= 3; i++) {
    const key = await writeHfCheckpoint(storage, { step: i * 100, files: i === 1 ? 1500 : 3 });
    const createdAt = new Date(Date.UTC(2026, 10, 23, i)).toISOString();
    await world.checkpoints.create(filesRecord(key, { id: `s${i * 100}`, createdAt }));
    expect((await archiveCheckpoint({ checkpointId: `s${i * 100}` }, world)).outcome).toBe(
      "archived",
    );
  }
  return world;
}

async function keysUnder(storage: MemoryArchiveStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list("archive", prefix)) keys.push(object.key);
  return keys;
}

const OLDEST = "files/runs/exp7/checkpoint-100/s100";

describe("pruneArchives of files checkpoints' archives", () => {
  it("deletes the manifest first, then every object of the folder, then forgets the archive", async () => {
    const world = await archivedSets();

    const [result] = await pruneArchives({ dryRun: false, force: false }, world);

    expect(result).toMatchObject({ simulation: "exp7", outcome: "pruned", removed: ["s100"] });
    expect(world.storage.deletes.map((keys) => keys.length)).toEqual([1, 1000, 500]);
    expect(world.storage.deletes[0]).toEqual([`${OLDEST}.manifest.json`]);
    expect(await keysUnder(world.storage, `${OLDEST}`)).toEqual([]);
    expect((await world.checkpoints.get("s100"))?.archive).toBeUndefined();
    expect((await world.checkpoints.get("s200"))?.archive).toBeDefined();
    expect(await keysUnder(world.storage, "files/runs/exp7/checkpoint-200/")).toHaveLength(4);
  });

  it("after a crash once the manifest is gone, the archive is not restorable and the next run finishes it", async () => {
    const world = await archivedSets();
    world.storage.crashAt = 2;

    await expect(pruneArchives({ dryRun: false, force: false }, world)).rejects.toThrow(
      "process killed",
    );
    expect(world.storage.text({ bucket: "archive", key: `${OLDEST}.manifest.json` })).toBe(
      undefined,
    );
    expect(await keysUnder(world.storage, `${OLDEST}/`)).toHaveLength(500);
    expect((await world.checkpoints.get("s100"))?.archive).toBeDefined();

    world.storage.crashAt = Number.POSITIVE_INFINITY;
    const [again] = await pruneArchives({ dryRun: false, force: false }, world);
    expect(again).toMatchObject({ outcome: "pruned", removed: ["s100"] });
    expect(await keysUnder(world.storage, `${OLDEST}`)).toEqual([]);
    expect((await world.checkpoints.get("s100"))?.archive).toBeUndefined();
  });
});
