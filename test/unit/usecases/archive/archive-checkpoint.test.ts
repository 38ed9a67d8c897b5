import { describe, expect, it } from "vitest";
import { ArchiveManifestSchema } from "../../../../lib/domain/archive.ts";
import { markCheckpointDeleted } from "../../../../lib/domain/checkpoint.ts";
import { ConfigError, NotFoundError, RetryLaterError } from "../../../../lib/domain/errors.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { SIMSNAP_VERSION } from "../../../../lib/version.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";

const archived = {
  bucket: "archive",
  key: "ocean-currents/2026/11/ocean-currents-261123-1000-10.zip",
};
const manifest = { bucket: "archive", key: `${archived.key}.manifest.json` };

describe("archiveCheckpoint", () => {
  it("copies the file in the storage class, writes the manifest, records and announces it", async () => {
    const world = archiveWorld();
    const checkpoint = await completedCheckpoint(world);

    const result = await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(result).toMatchObject({ outcome: "archived", copied: true });
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.bytes).toBe(world.storage.bytes(checkpoint.location!)?.length);
    expect(world.storage.copies).toEqual([
      {
        source: checkpoint.location,
        destination: archived,
        options: expect.objectContaining({ storageClass: "STANDARD_IA" }),
      },
    ]);
    expect(world.storage.bytes(archived)).toEqual(world.storage.bytes(checkpoint.location!));
    const stored = await world.checkpoints.get("c-1");
    expect(stored).toMatchObject({
      version: 3,
      archive: { ...archived, storageClass: "STANDARD_IA", archivedAt: "2026-11-23T12:00:00.000Z" },
      checksum: expect.stringMatching(/^sha256:/),
    });
    const written = ArchiveManifestSchema.parse(JSON.parse(world.storage.text(manifest) ?? ""));
    expect(written).toMatchObject({
      simsnapVersion: SIMSNAP_VERSION,
      checkpoint: { id: "c-1", simulation: "ocean-currents", state: "COMPLETE" },
      source: { ...checkpoint.location, size: checkpoint.size },
      archive: { ...archived, storageClass: "STANDARD_IA", size: checkpoint.size },
      checksum: { algorithm: "SHA256", verification: "s3-checksum" },
      times: { checkpointCreatedAt: checkpoint.createdAt, archivedAt: "2026-11-23T12:00:00.000Z" },
    });
    expect(world.storage.digests).toEqual([]);
    expect(world.events.events).toEqual([
      expect.objectContaining({
        detailType: "Checkpoint Archived",
        detail: expect.objectContaining({ archive: stored?.archive, manifest, copied: true }),
      }),
    ]);
  });

  it("streams SHA-256 digests of both objects when the store keeps no checksums", async () => {
    const world = archiveWorld({ checksums: false });
    await completedCheckpoint(world);

    await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(world.storage.digests).toHaveLength(2);
    expect(JSON.parse(world.storage.text(manifest) ?? "")).toMatchObject({
      checksum: { algorithm: "SHA256", verification: "sha256-stream" },
    });
  });

  it("copies once when the same request arrives twice", async () => {
    const world = archiveWorld();
    await completedCheckpoint(world);

    await archiveCheckpoint({ checkpointId: "c-1" }, world);
    const before = await world.checkpoints.get("c-1");
    const again = await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(again).toMatchObject({ outcome: "already-archived", archive: before?.archive });
    expect(world.storage.copies).toHaveLength(1);
    expect(await world.checkpoints.get("c-1")).toEqual(before);
    expect(world.events.events).toHaveLength(1);
  });

  it("verifies and records a copy left by a crash before the record, without copying again", async () => {
    const world = archiveWorld({ checksums: false });
    const checkpoint = await completedCheckpoint(world);
    await world.storage.put(
      archived,
      world.storage.bytes(checkpoint.location!) ?? new Uint8Array(),
    );

    const result = await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(result).toMatchObject({ outcome: "archived", copied: false });
    expect(world.storage.copies).toEqual([]);
    expect((await world.checkpoints.get("c-1"))?.archive?.key).toBe(archived.key);
  });

  it("retries a copy that does not match its source and never records it", async () => {
    const world = archiveWorld();
    await completedCheckpoint(world);
    world.storage.corruptCopies = 1;

    const failure = archiveCheckpoint({ checkpointId: "c-1", attempt: 2 }, world);

    await expect(failure).rejects.toBeInstanceOf(RetryLaterError);
    await expect(failure).rejects.toMatchObject({
      delaySeconds: 60,
      message: expect.stringMatching(/does not match its source: SHA256 .* ≠ source/),
    });
    expect((await world.checkpoints.get("c-1"))?.archive).toBeUndefined();
    expect(world.storage.text(manifest)).toBeUndefined();
    expect(world.events.events).toEqual([]);

    const retried = await archiveCheckpoint({ checkpointId: "c-1", attempt: 3 }, world);
    expect(retried).toMatchObject({ outcome: "archived", copied: true });
    expect(world.storage.copies).toHaveLength(2);
  });

  it("records the archive even when the checkpoint changed meanwhile (versioned write, re-read)", async () => {
    const world = archiveWorld();
    await completedCheckpoint(world);
    const original = world.checkpoints.save.bind(world.checkpoints);
    let raced = false;
    world.checkpoints.save = async (next) => {
      if (!raced) {
        raced = true;
        const current = await world.checkpoints.get(next.id);
        if (current) await original({ ...current, favorite: true, version: current.version + 1 });
      }
      return original(next);
    };

    await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(await world.checkpoints.get("c-1")).toMatchObject({
      favorite: true,
      archive: { key: archived.key },
    });
  });

  it("skips checkpoints that have no file to archive", async () => {
    const world = archiveWorld();
    const complete = await completedCheckpoint(world);
    await world.checkpoints.save(markCheckpointDeleted(complete, world.clock.now()));
    await completedCheckpoint(world, { id: "c-2", state: "FAILED", location: undefined });

    expect(await archiveCheckpoint({ checkpointId: "c-1" }, world)).toMatchObject({
      outcome: "skipped",
      reason: "checkpoint is DELETED",
    });
    expect(await archiveCheckpoint({ checkpointId: "c-2" }, world)).toMatchObject({
      outcome: "skipped",
      reason: "checkpoint is FAILED and has no file",
    });
    expect(world.storage.copies).toEqual([]);
  });

  it("retries once when the file is missing, then says so instead of retrying into the DLQ", async () => {
    const world = archiveWorld();
    const checkpoint = await completedCheckpoint(world);
    await world.storage.deleteMany("snapshots", [checkpoint.location?.key ?? ""]);

    // A person's delete removes the file first and marks the record after: give it that time.
    const first = archiveCheckpoint({ checkpointId: "c-1", attempt: 1 }, world);
    await expect(first).rejects.toBeInstanceOf(RetryLaterError);
    await expect(first).rejects.toMatchObject({ delaySeconds: 30 });

    const second = await archiveCheckpoint({ checkpointId: "c-1", attempt: 2 }, world);
    expect(second).toMatchObject({
      outcome: "missing",
      checkpointId: "c-1",
      reason: expect.stringMatching(
        /^snapshot file s3:\/\/snapshots\/simsnap\/.*\.zip is gone, yet the checkpoint is still COMPLETE and was never archived/,
      ),
    });
    expect(world.storage.copies).toEqual([]);
    expect(await world.checkpoints.get("c-1")).toEqual(checkpoint);
    expect(world.events.events).toEqual([]);
    await expect(archiveCheckpoint({ checkpointId: "nope" }, world)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("skips a checkpoint deleted while its file was being copied, instead of failing on NoSuchKey", async () => {
    const world = archiveWorld();
    const checkpoint = await completedCheckpoint(world);
    const copy = world.storage.copy.bind(world.storage);
    // A person deletes the checkpoint between the HeadObject and the CopyObject: the file goes
    // first, then the record becomes DELETED (what deleteCheckpoint does).
    world.storage.copy = async (...args) => {
      await world.storage.deleteMany("snapshots", [checkpoint.location?.key ?? ""]);
      await world.checkpoints.save(markCheckpointDeleted(checkpoint, world.clock.now()));
      return copy(...args);
    };

    const result = await archiveCheckpoint({ checkpointId: "c-1" }, world);

    expect(result).toEqual({
      outcome: "skipped",
      checkpointId: "c-1",
      reason: "checkpoint is DELETED: its file was deleted before it could be archived",
    });
    expect(world.storage.text(manifest)).toBeUndefined();
    expect((await world.checkpoints.get("c-1"))?.archive).toBeUndefined();
    expect(world.events.events).toEqual([]);
  });

  it("retries a file deleted mid-copy while its record is not yet DELETED, and rethrows other copy failures", async () => {
    const world = archiveWorld();
    const checkpoint = await completedCheckpoint(world);
    const copy = world.storage.copy.bind(world.storage);
    world.storage.copy = async (...args) => {
      await world.storage.deleteMany("snapshots", [checkpoint.location?.key ?? ""]);
      return copy(...args);
    };

    await expect(archiveCheckpoint({ checkpointId: "c-1" }, world)).rejects.toBeInstanceOf(
      RetryLaterError,
    );

    const other = archiveWorld();
    await completedCheckpoint(other);
    other.storage.copy = async () => {
      throw Object.assign(new Error("Access Denied"), { name: "AccessDenied" });
    };
    await expect(archiveCheckpoint({ checkpointId: "c-1" }, other)).rejects.toThrow(
      "Access Denied",
    );
  });

  it("fails loudly when no archive bucket is configured", async () => {
    const world = { ...archiveWorld(), archive: undefined };
    await expect(archiveCheckpoint({ checkpointId: "c-1" }, world)).rejects.toThrow(ConfigError);
    await expect(archiveCheckpoint({ checkpointId: "c-1" }, world)).rejects.toThrow(
      /SIMSNAP_ARCHIVE_BUCKET/,
    );
  });
});
