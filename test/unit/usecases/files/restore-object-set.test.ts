import { describe, expect, it } from "vitest";
import type { S3Location } from "../../../../lib/domain/checkpoint.ts";
import { RetryLaterError, ValidationError } from "../../../../lib/domain/errors.ts";
import type { ObjectSetManifest } from "../../../../lib/domain/object-set-manifest.ts";
import { archiveObjectSet } from "../../../../lib/usecases/files/archive-object-set.ts";
import {
  restoreObjectSet,
  type RestoreObjectSetDeps,
} from "../../../../lib/usecases/files/restore-object-set.ts";
import { archiveSettings } from "../../../support/archive-world.ts";
import { FILES_BUCKET, fileOwnership, writeHfCheckpoint } from "../../../support/files-world.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";
import { ManualClock } from "../../../support/memory.ts";

const at = (key: string): S3Location => ({ bucket: FILES_BUCKET, key });
const KEY = "runs/exp7/checkpoint-1200/";
const TARGET = "runs/exp7-restored/checkpoint-1200/";
const FILES = [
  "model.safetensors",
  "shards/part-00001.bin",
  "shards/part-00002.bin",
  "trainer_state.json",
  // DeepSpeed's helper sorts after the marker, so copying in key order would not put the marker last.
  "zero_to_fp32.py",
];

/** A checkpoint archived with `archiveObjectSet`, and what restoring it needs. */
async function archived(options: { checksums?: boolean } = {}) {
  const clock = new ManualClock("2026-12-01T12:00:00.000Z");
  const storage = new MemoryArchiveStore({ checksums: options.checksums, clock });
  await writeHfCheckpoint(storage);
  await storage.put(at(`${KEY}zero_to_fp32.py`), "#!/usr/bin/env python");
  const result = await archiveObjectSet(
    { ...at(KEY), checkpointId: "c-1", createdAt: "2026-12-01T10:00:00.000Z" },
    { storage, archive: archiveSettings, owned: fileOwnership(), clock },
  );
  if (result.outcome !== "archived") throw new Error(result.reason);
  storage.copies.length = 0;
  storage.digests.length = 0;
  const deps: RestoreObjectSetDeps = {
    storage,
    owned: fileOwnership(),
    archiveBucket: "archive",
    checksumAlgorithm: "CRC64NVME",
    thaw: { days: 7, tier: "Bulk" },
    retrySeconds: 30,
  };
  const archiveKey = (file: string) => ({ bucket: "archive", key: result.archive.prefix + file });
  return { storage, deps, manifest: result.written as ObjectSetManifest, archiveKey };
}

async function keysUnder(storage: MemoryArchiveStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

describe("restoreObjectSet", () => {
  it("copies the set under the chosen prefix, marker last, checked against the manifest", async () => {
    const { storage, deps, manifest } = await archived();

    const result = await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps);

    expect(result).toEqual({
      outcome: "restored",
      uri: `s3://training/${TARGET}`,
      target: { bucket: FILES_BUCKET, prefix: TARGET },
      objects: 5,
      bytes: manifest.totals.bytes,
      copied: 5,
    });
    expect(await keysUnder(storage, TARGET)).toEqual(FILES.map((file) => TARGET + file));
    for (const file of FILES) {
      expect(storage.bytes(at(TARGET + file))).toEqual(storage.bytes(at(KEY + file)));
    }
    expect(storage.copies.at(-1)?.destination).toEqual(at(`${TARGET}trainer_state.json`));
    expect(storage.copies[0]?.options).toMatchObject({
      storageClass: "STANDARD",
      metadata: { "simsnap-checkpoint-id": "c-1" },
    });
    expect(storage.digests).toEqual([]);
  });

  it("verifies by streamed SHA-256 where the store keeps no checksums", async () => {
    const { storage, deps, manifest } = await archived({ checksums: false });

    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toMatchObject({
      outcome: "restored",
    });
    // Each archive object before copying, each restored copy after.
    expect(storage.digests).toHaveLength(10);
  });

  it("copies nothing again on a re-run, and restores a pruned checkpoint in place", async () => {
    const { storage, deps, manifest } = await archived();
    await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps);

    expect(await restoreObjectSet({ manifest, targetPrefix: `/${TARGET}` }, deps)).toMatchObject({
      outcome: "restored",
      copied: 0,
    });
    expect(storage.copies).toHaveLength(5);

    await storage.deleteMany(
      FILES_BUCKET,
      FILES.map((file) => KEY + file),
    );
    expect(await restoreObjectSet({ manifest, targetPrefix: KEY }, deps)).toMatchObject({
      outcome: "restored",
      uri: `s3://training/${KEY}`,
      copied: 5,
    });
  });

  it("refuses when the archive disagrees with the manifest, copying nothing", async () => {
    const { storage, deps, manifest, archiveKey } = await archived();
    const model = storage.bytes(archiveKey("model.safetensors")) ?? new Uint8Array();
    await storage.put(
      archiveKey("model.safetensors"),
      model.map((b) => b ^ 1),
    );
    await storage.deleteMany("archive", [archiveKey("shards/part-00001.bin").key]);

    const missing = await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps);
    expect(missing).toEqual({
      outcome: "refused",
      reason: `the archive of checkpoint c-1 disagrees with its manifest: s3://archive/${archiveKey("shards/part-00001.bin").key} is missing`,
    });

    await storage.put(
      archiveKey("shards/part-00001.bin"),
      storage.bytes(at(`${KEY}shards/part-00001.bin`)) ?? "",
    );
    const corrupt = await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps);
    expect(corrupt).toEqual({
      outcome: "refused",
      reason: expect.stringMatching(
        /disagrees with its manifest: s3:\/\/archive\/.*model\.safetensors has SHA256 .+, the manifest says/,
      ),
    });
    expect(storage.copies).toEqual([]);
  });

  it("refuses a manifest that is not one, or from another bucket, and unsafe targets", async () => {
    const { storage, deps, manifest } = await archived();
    const tampered = { ...manifest, objects: [{ ...manifest.objects[0], key: "../../escape" }] };

    await expect(
      restoreObjectSet({ manifest: tampered, targetPrefix: TARGET }, deps),
    ).rejects.toThrow(ValidationError);
    const elsewhere = {
      ...manifest,
      archive: { ...manifest.archive, prefix: "files/runs/exp7/checkpoint-1200/c-2/" },
    };
    expect(await restoreObjectSet({ manifest: elsewhere, targetPrefix: TARGET }, deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining(
        "is not where checkpoint c-1 of s3://training/runs/exp7/checkpoint-1200/ is archived (files/runs/exp7/checkpoint-1200/c-1/)",
      ),
    });
    expect(
      await restoreObjectSet(
        { manifest, targetPrefix: TARGET },
        { ...deps, archiveBucket: "other" },
      ),
    ).toMatchObject({
      outcome: "refused",
      reason: expect.stringContaining("archive bucket other"),
    });
    for (const [targetPrefix, why] of [
      ["/", "not the bucket's root"],
      ["runs", "not strictly inside"],
      ["elsewhere/x", "not strictly inside"],
      ["runs/exp7/checkpoint-12000/sub", "inside the checkpoint"],
    ] as const) {
      expect(await restoreObjectSet({ manifest, targetPrefix }, deps)).toEqual({
        outcome: "refused",
        reason: expect.stringContaining(why),
      });
    }
    expect(storage.copies).toEqual([]);
  });

  it("refuses a target holding other objects, or other versions of the set's own", async () => {
    const { storage, deps, manifest } = await archived();
    await storage.put(at(`${TARGET}notes.txt`), "mine");
    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining(
        `1 object(s) that are not part of checkpoint c-1 (${TARGET}notes.txt)`,
      ),
    });

    await storage.deleteMany(FILES_BUCKET, [`${TARGET}notes.txt`]);
    await storage.put(at(`${TARGET}model.safetensors`), "another model");
    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toEqual({
      outcome: "refused",
      reason: expect.stringContaining("already holds other versions"),
    });
    expect(storage.copies).toEqual([]);
  });

  it("restores a single-object checkpoint by its file name under the chosen prefix", async () => {
    const clock = new ManualClock("2026-12-01T12:00:00.000Z");
    const storage = new MemoryArchiveStore({ clock });
    const key = "lightning/v0/epoch=3-step=1200.ckpt";
    await storage.put(at(key), "weights");
    const result = await archiveObjectSet(
      { ...at(key), checkpointId: "c-9", createdAt: "2026-12-01T10:00:00.000Z" },
      { storage, archive: archiveSettings, owned: fileOwnership(), clock },
    );
    const { deps } = await archived();
    const manifest = result.outcome === "archived" ? result.written : undefined;

    expect(
      await restoreObjectSet(
        { manifest, targetPrefix: "lightning/v0-resumed" },
        { ...deps, storage },
      ),
    ).toMatchObject({ outcome: "restored", uri: "s3://training/lightning/v0-resumed/", copied: 1 });
    expect(storage.text(at("lightning/v0-resumed/epoch=3-step=1200.ckpt"))).toBe("weights");
  });

  it("asks S3 to thaw a cold archive first, then restores once it is readable", async () => {
    const { storage, deps, manifest, archiveKey } = await archived();
    for (const file of FILES) storage.transition(archiveKey(file), "DEEP_ARCHIVE");

    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toEqual({
      outcome: "thawing",
      waiting: 5,
      requested: 5,
    });
    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toEqual({
      outcome: "thawing",
      waiting: 5,
      requested: 0,
    });
    expect(storage.restoreRequests).toHaveLength(5);
    expect(storage.restoreRequests[0]).toMatchObject({ days: 7, tier: "Bulk" });

    for (const file of FILES) storage.finishThaw(archiveKey(file));
    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toMatchObject({
      outcome: "restored",
      copied: 5,
    });
  });

  it("deletes a restored copy that does not match and retries, finishing on the next run", async () => {
    const { storage, deps, manifest } = await archived();
    storage.corruptCopies = 1;

    await expect(restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).rejects.toThrow(
      RetryLaterError,
    );
    const left = await keysUnder(storage, TARGET);
    expect(left).not.toContain(`${TARGET}trainer_state.json`);
    expect(left.length).toBeLessThan(5);

    expect(await restoreObjectSet({ manifest, targetPrefix: TARGET }, deps)).toMatchObject({
      outcome: "restored",
      copied: 5 - left.length,
    });
    for (const file of FILES) {
      expect(storage.bytes(at(TARGET + file))).toEqual(storage.bytes(at(KEY + file)));
    }
  });
});
