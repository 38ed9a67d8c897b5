import { describe, expect, it } from "vitest";
import type { S3Location } from "../../../../lib/domain/checkpoint.ts";
import { ConfigError, ConflictError, RetryLaterError } from "../../../../lib/domain/errors.ts";
import { ObjectSetManifestSchema } from "../../../../lib/domain/object-set-manifest.ts";
import type { StoredObject } from "../../../../lib/ports/archive-store.ts";
import {
  archiveObjectSet,
  type ArchiveObjectSetDeps,
} from "../../../../lib/usecases/files/archive-object-set.ts";
import { SIMSNAP_VERSION } from "../../../../lib/version.ts";
import { archiveSettings } from "../../../support/archive-world.ts";
import { FILES_BUCKET, fileOwnership, writeHfCheckpoint } from "../../../support/files-world.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";
import { ManualClock } from "../../../support/memory.ts";

const at = (key: string): S3Location => ({ bucket: FILES_BUCKET, key });
const KEY = "runs/exp7/checkpoint-1200/";
const PREFIX = "files/runs/exp7/checkpoint-1200/c-1/";
const MANIFEST = { bucket: "archive", key: "files/runs/exp7/checkpoint-1200/c-1.manifest.json" };

function world(options: { checksums?: boolean } = {}) {
  const clock = new ManualClock("2026-12-01T12:00:00.000Z");
  const storage = new MemoryArchiveStore({ checksums: options.checksums, clock });
  const deps: ArchiveObjectSetDeps = {
    storage,
    archive: archiveSettings,
    owned: fileOwnership(),
    clock,
  };
  return { storage, deps };
}

const request = (key = KEY) => ({
  ...at(key),
  checkpointId: "c-1",
  createdAt: "2026-12-01T10:00:00.000Z",
  completedAt: "2026-12-01T10:05:00.000Z",
});

const manifestOf = (storage: MemoryArchiveStore) =>
  ObjectSetManifestSchema.parse(JSON.parse(storage.text(MANIFEST) ?? "null"));

describe("archiveObjectSet", () => {
  it("copies every object of the set, verified, and writes the manifest beside them", async () => {
    const { storage, deps } = world();
    await writeHfCheckpoint(storage);
    await storage.put(at(KEY), ""); // the directory's placeholder object
    await storage.put(at("runs/exp7/checkpoint-12000/model.safetensors"), "neighbour");

    const result = await archiveObjectSet(request(), deps);

    expect(result).toMatchObject({
      outcome: "archived",
      archive: { bucket: "archive", prefix: PREFIX, storageClass: "STANDARD_IA" },
      manifest: MANIFEST,
      objects: 5,
      copied: 5,
    });
    expect(storage.copies.map((c) => c.destination.key).sort()).toEqual(
      [
        "!empty",
        "model.safetensors",
        "shards/part-00001.bin",
        "shards/part-00002.bin",
        "trainer_state.json",
      ].map((key) => PREFIX + key),
    );
    expect(storage.copies[0]?.options).toMatchObject({
      storageClass: "STANDARD_IA",
      metadata: { "simsnap-checkpoint-id": "c-1" },
    });
    expect(storage.bytes({ bucket: "archive", key: `${PREFIX}model.safetensors` })).toEqual(
      storage.bytes(at(`${KEY}model.safetensors`)),
    );
    const manifest = manifestOf(storage);
    expect(result.outcome === "archived" && result.written).toEqual(manifest);
    expect(manifest).toMatchObject({
      simsnapVersion: SIMSNAP_VERSION,
      checkpointId: "c-1",
      source: {
        bucket: FILES_BUCKET,
        prefix: "runs",
        key: KEY,
        layout: "directory",
        marker: "trainer_state.json",
      },
      totals: { objects: 5, bytes: result.outcome === "archived" ? result.bytes : -1 },
      times: {
        checkpointCreatedAt: "2026-12-01T10:00:00.000Z",
        checkpointCompletedAt: "2026-12-01T10:05:00.000Z",
        archivedAt: "2026-12-01T12:00:00.000Z",
      },
    });
    const model = manifest.objects.find((o) => o.key === "model.safetensors");
    const source = await storage.describe(at(`${KEY}model.safetensors`));
    expect(model).toEqual({
      key: "model.safetensors",
      size: source?.size,
      etag: source?.etag,
      lastModified: "2026-12-01T12:00:00.000Z",
      checksum: {
        algorithm: "SHA256",
        value: source?.checksum?.value,
        verification: "s3-checksum",
      },
    });
    expect(manifest.objects.map((o) => o.key)).toContain("");
    expect(storage.digests).toEqual([]);
  });

  it("streams SHA-256 digests where the store keeps no checksums, and records them", async () => {
    const { storage, deps } = world({ checksums: false });
    await writeHfCheckpoint(storage);

    await archiveObjectSet(request(), deps);

    expect(storage.digests).toHaveLength(8);
    expect(manifestOf(storage).objects.map((o) => o.checksum.verification)).toEqual(
      Array(4).fill("sha256-stream"),
    );
  });

  it("copies nothing again on a re-run, and only what is missing after a failed run", async () => {
    const { storage, deps } = world();
    await writeHfCheckpoint(storage, { files: 20 });
    storage.corruptCopies = 1;

    await expect(archiveObjectSet(request(), deps)).rejects.toThrow(RetryLaterError);
    expect(storage.text(MANIFEST)).toBeUndefined();
    const firstRun = storage.copies.length;
    expect(firstRun).toBeLessThan(20);

    const second = await archiveObjectSet(request(), deps);
    expect(second).toMatchObject({ outcome: "archived", objects: 20, copied: 20 - firstRun + 1 });
    const third = await archiveObjectSet(request(), deps);
    expect(third).toMatchObject({ outcome: "archived", objects: 20, copied: 0 });
    expect(storage.copies).toHaveLength(21);
  });

  it("refuses a set without its commit marker, an empty one and one it does not own", async () => {
    const { storage, deps } = world();
    await storage.put(at(`${KEY}model.safetensors`), "half written");

    expect(await archiveObjectSet(request(), deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining("no commit marker trainer_state.json"),
    });
    expect(await archiveObjectSet(request("runs/exp7/checkpoint-5/"), deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining("holds no objects"),
    });
    expect(await archiveObjectSet(request("runs/exp7/"), deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining("not one checkpoint"),
    });
    expect(storage.copies).toEqual([]);
  });

  it("fails clearly when an object changed since the set was listed", async () => {
    const { storage, deps } = world();
    await writeHfCheckpoint(storage);
    const changed = `${KEY}model.safetensors`;
    // The trainer rewrites one file after the set was listed, before it is copied.
    let listed = false;
    const list = storage.list.bind(storage);
    storage.list = async function* (bucket: string, prefix: string) {
      yield* list(bucket, prefix);
      listed = true;
    };
    const describe = storage.describe.bind(storage);
    storage.describe = async (location: S3Location): Promise<StoredObject | undefined> => {
      if (listed && location.key === changed) {
        listed = false;
        await storage.put(location, "rewritten by the trainer");
      }
      return describe(location);
    };

    const failure = archiveObjectSet(request(), deps);

    await expect(failure).rejects.toThrow(ConflictError);
    await expect(failure).rejects.toThrow(
      new RegExp(`changed while it was archived: s3://training/${changed} is \\d+ bytes, ETag`),
    );
    expect(storage.text(MANIFEST)).toBeUndefined();
  });

  it("fails clearly when an object appears while the set is copied", async () => {
    const { storage, deps } = world();
    await writeHfCheckpoint(storage);
    const copy = storage.copy.bind(storage);
    storage.copy = async (...args: Parameters<MemoryArchiveStore["copy"]>) => {
      await storage.put(at(`${KEY}optimizer.pt`), "late");
      return copy(...args);
    };

    await expect(archiveObjectSet(request(), deps)).rejects.toThrow(
      `s3://training/${KEY} changed while it was archived: 1 appeared (${KEY}optimizer.pt)`,
    );
    expect(storage.text(MANIFEST)).toBeUndefined();
  });

  it("fails clearly when the set is not what was cataloged", async () => {
    const { storage, deps } = world();
    await writeHfCheckpoint(storage);
    const bytes = (await archiveObjectSet(request(), deps)) as { bytes: number };

    await expect(
      archiveObjectSet({ ...request(), expected: { objects: 5, bytes: bytes.bytes } }, deps),
    ).rejects.toThrow(
      `s3://training/${KEY} changed since it was cataloged: 4 objects, ${bytes.bytes} bytes now, 5 objects`,
    );
    expect(
      await archiveObjectSet({ ...request(), expected: { objects: 4, bytes: bytes.bytes } }, deps),
    ).toMatchObject({ outcome: "archived", copied: 0 });
  });

  it("archives a single-object checkpoint under its file name", async () => {
    const { storage, deps } = world();
    const key = "lightning/v0/epoch=3-step=1200.ckpt";
    await storage.put(at(key), "weights");
    await storage.put(at(`${key}.bak`), "old");

    const result = await archiveObjectSet(request(key), deps);

    expect(result).toMatchObject({ outcome: "archived", objects: 1 });
    expect(storage.copies.map((c) => c.destination.key)).toEqual([
      "files/lightning/v0/epoch=3-step=1200.ckpt/c-1/epoch=3-step=1200.ckpt",
    ]);
  });

  it("fails loudly without an archive bucket", async () => {
    const { deps } = world();
    await expect(archiveObjectSet(request(), { ...deps, archive: undefined })).rejects.toThrow(
      ConfigError,
    );
  });
});
