import { describe, expect, it } from "vitest";
import { markCheckpointDeleted, type Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { ConflictError, ValidationError } from "../../../../lib/domain/errors.ts";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import { objectSetArchiveKey } from "../../../../lib/domain/object-set.ts";
import { ObjectSetManifestSchema } from "../../../../lib/domain/object-set-manifest.ts";
import type { RestoreStep } from "../../../../lib/domain/restore.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import {
  advanceRestore,
  restoreCheckpoint,
  type RestoreDeps,
} from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import { MemoryQueue } from "../../../support/memory.ts";

const SOURCE = "runs/exp7/checkpoint-1200/";
const TARGET = "runs/restored/exp7-1200";

function restoreWorld() {
  const base = archiveWorld();
  const restore: RestoreDeps["restore"] = {
    snapshotBucket: "snapshots",
    snapshotPrefix: "simsnap",
    archiveBucket: "archive",
    checksumAlgorithm: "CRC64NVME",
    deadlineSeconds: 3600,
    firstCheckSeconds: 10,
    maxCheckSeconds: 60,
    thaw: { days: 1, tier: "Standard" },
  };
  return {
    ...base,
    providers: filesProviders(),
    files: fileOwnership(),
    restoreSteps: new MemoryQueue<RestoreStep>(),
    restore,
  };
}
type World = ReturnType<typeof restoreWorld>;

/** A COMPLETE Hugging Face checkpoint of 5 objects, archived unless told otherwise. */
async function checkpointOf(world: World, options: { archived?: boolean } = {}) {
  await writeHfCheckpoint(world.storage, { files: 5 });
  await world.checkpoints.create(
    filesRecord(SOURCE, { id: "f1", createdAt: "2026-11-23T10:00:00.000Z" }),
  );
  if (options.archived !== false) await archiveCheckpoint({ checkpointId: "f1" }, world);
  return (await world.checkpoints.get("f1")) as Checkpoint;
}

async function drain(world: World, from = 0, limit = 50): Promise<number> {
  let next = from;
  while (next < world.restoreSteps.sent.length && next < from + limit) {
    const { message } = world.restoreSteps.sent[next++] as { message: RestoreStep };
    if (new Date(message.dueAt) > world.clock.now()) world.clock.set(message.dueAt);
    await advanceRestore(message, world);
  }
  return next;
}

async function keysUnder(world: World, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of world.storage.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

const request = { checkpointId: "f1", clientToken: "t-1", target: { prefix: TARGET } };

describe("restoreCheckpoint of a files checkpoint (into a prefix)", () => {
  it("copies the archived set under the prefix, verified against its manifest, as a job whose result carries the URI", async () => {
    const world = restoreWorld();
    await checkpointOf(world);
    const copiesBefore = world.storage.copies.length;

    const { job } = await restoreCheckpoint(request, world);
    expect(job.restore).toMatchObject({ into: "prefix", prefix: `${TARGET}/`, phase: "locating" });
    await drain(world);

    const done = await world.jobs.get(job.id);
    expect(done).toMatchObject({
      status: "SUCCEEDED",
      stats: { objects: 5 },
      restore: { uri: `s3://${FILES_BUCKET}/${TARGET}/`, from: "archive" },
    });
    const restored = await keysUnder(world, `${TARGET}/`);
    expect(restored.map((key) => key.slice(TARGET.length + 1)).sort()).toEqual(
      (await keysUnder(world, SOURCE)).map((key) => key.slice(SOURCE.length)).sort(),
    );
    for (const key of restored) {
      const original = { bucket: FILES_BUCKET, key: SOURCE + key.slice(TARGET.length + 1) };
      expect(world.storage.text({ bucket: FILES_BUCKET, key })).toBe(world.storage.text(original));
    }
    // The commit marker is copied last, so discovery never sees a half-restored set as whole.
    expect(world.storage.copies.slice(copiesBefore).at(-1)?.destination.key).toBe(
      `${TARGET}/trainer_state.json`,
    );
    const restoredEvent = world.events.events.find((e) => e.detailType === "Checkpoint Restored");
    expect(restoredEvent?.detail).toMatchObject({
      into: "prefix",
      uri: `s3://training/${TARGET}/`,
    });
    expect(() =>
      EVENT_DETAIL_SCHEMAS["Checkpoint Restored"].parse(restoredEvent?.detail),
    ).not.toThrow();
  });

  it("restores a checkpoint pruned from the bucket (DELETED) from its archive", async () => {
    const world = restoreWorld();
    const archived = await checkpointOf(world);
    const keys = await keysUnder(world, SOURCE);
    await world.storage.deleteMany(FILES_BUCKET, keys);
    await world.checkpoints.save(markCheckpointDeleted(archived, world.clock.now()));

    const { job } = await restoreCheckpoint({ ...request, target: { prefix: SOURCE } }, world);
    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { uri: `s3://training/${SOURCE}` },
    });
    expect(await keysUnder(world, SOURCE)).toHaveLength(5);
  });

  it("thaws a cold archive first: the job waits, then copies once S3 made the objects readable", async () => {
    const world = restoreWorld();
    const archived = await checkpointOf(world);
    const manifest = ObjectSetManifestSchema.parse(
      JSON.parse(world.storage.text(archived.archive!)!),
    );
    const copies = manifest.objects.map((entry) => ({
      bucket: "archive",
      key: objectSetArchiveKey(manifest.archive.prefix, entry.key),
    }));
    for (const copy of copies) world.storage.transition(copy, "DEEP_ARCHIVE");

    const { job } = await restoreCheckpoint(request, world);
    await drain(world, 0, 2);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "RUNNING",
      restore: { phase: "thawing", thawRequestedAt: expect.any(String) },
    });
    expect(world.storage.restoreRequests).toHaveLength(copies.length);
    expect(await keysUnder(world, `${TARGET}/`)).toEqual([]);

    for (const copy of copies) world.storage.finishThaw(copy);
    await drain(world, 2);
    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { uri: `s3://training/${TARGET}/` },
    });
    expect(await keysUnder(world, `${TARGET}/`)).toHaveLength(5);
  });

  it("answers a repeated request with the same job, and a second delivery of a step does nothing", async () => {
    const world = restoreWorld();
    await checkpointOf(world);
    const first = await restoreCheckpoint(request, world);
    const again = await restoreCheckpoint({ ...request, target: { prefix: `/${TARGET}/` } }, world);
    expect(again).toMatchObject({ outcome: "existing", job: { id: first.job.id } });
    await expect(
      restoreCheckpoint({ ...request, target: { prefix: "runs/elsewhere" } }, world),
    ).rejects.toThrow(ConflictError);

    const step = world.restoreSteps.sent[0]!.message;
    await advanceRestore(step, world);
    const copies = world.storage.copies.length;
    expect(await advanceRestore(step, world)).toEqual({ outcome: "stale" });
    expect(world.storage.copies).toHaveLength(copies);
  });

  it.each([
    [{ checkpointId: "f1", clientToken: "t" }, "target.prefix", "is required"],
    [{ ...request, simulationName: "exp7-copy" }, "simulationName", "starts a simulation"],
    [{ ...request, maximumDuration: "2h" }, "maximumDuration", "starts a simulation"],
    [{ ...request, target: { prefix: "/" } }, "target.prefix", "not the bucket's root"],
    [{ ...request, target: { prefix: "other/x" } }, "target.prefix", "not strictly inside"],
    [{ ...request, target: { prefix: "runs" } }, "target.prefix", "not strictly inside"],
    [{ ...request, target: { prefix: `${SOURCE}sub` } }, "target.prefix", "inside the checkpoint"],
    [{ ...request, target: { prefix: "runs/a/../b" } }, "target.prefix", "without empty"],
    [{ ...request, target: { prefix: "" } }, "target.prefix", "must not be empty"],
    [{ ...request, target: { prefix: "x", bucket: "b" } }, "target", "only prefix"],
  ])("refuses %j naming %s", async (input, path, message) => {
    const world = restoreWorld();
    await checkpointOf(world);
    const attempt = restoreCheckpoint(input, world);
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as ValidationError;
    expect(error.details).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
    expect(world.restoreSteps.sent).toEqual([]);
  });

  it("refuses a checkpoint that was never archived, or is PENDING, with the reason (409)", async () => {
    const world = restoreWorld();
    const checkpoint = await checkpointOf(world, { archived: false });
    await expect(restoreCheckpoint(request, world)).rejects.toThrow(
      "Checkpoint f1 was never archived",
    );
    await world.checkpoints.save({ ...checkpoint, state: "PENDING", version: 2 });
    await expect(restoreCheckpoint(request, world)).rejects.toThrow(
      /is PENDING: it was never whole/,
    );
    expect(world.restoreSteps.sent).toEqual([]);
  });

  it("fails the job, with the reason, when the manifest was removed after the request", async () => {
    const world = restoreWorld();
    const archived = await checkpointOf(world);
    const { job } = await restoreCheckpoint(request, world);
    await world.storage.deleteMany("archive", [archived.archive!.key]);

    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: { code: "ArchiveMissing" },
    });
    expect(await keysUnder(world, `${TARGET}/`)).toEqual([]);
  });

  it("refuses a target for a checkpoint restored into a simulation", async () => {
    const world = { ...restoreWorld(), restore: { ...restoreWorld().restore, roleArn: "arn:r" } };
    await completedCheckpoint(world, { id: "c-1", provider: "fake" });
    const attempt = restoreCheckpoint(
      { checkpointId: "c-1", clientToken: "t", target: { prefix: TARGET } },
      world,
    );
    await expect(attempt).rejects.toThrow(ValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as ValidationError;
    expect(error.details[0]).toMatchObject({ path: "target" });
  });
});
