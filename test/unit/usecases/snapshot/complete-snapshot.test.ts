import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RetryLaterError } from "../../../../lib/domain/errors.ts";
import { deterministicId } from "../../../../lib/domain/ids.ts";
import type { StatusCheck } from "../../../../lib/domain/messages.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { completeSnapshot } from "../../../../lib/usecases/snapshot/complete-snapshot.ts";
import { snapshotIdsFor, takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { providerWritesFiles, request, snapshotWorld } from "../../../support/snapshot-world.ts";

type World = ReturnType<typeof snapshotWorld>;

/** The "Object Created" event of a snapshot file stamped `time`. */
const fileAt = (time: string, simulation = "sim-a", prefix = "simsnap") => ({
  bucket: "snapshots",
  key: snapshotKey(prefix, simulation, new Date(time)),
  size: 2048,
  etag: "abc123",
});

const BODY = "zip-bytes";
const BODY_ETAG = createHash("md5").update(BODY).digest("hex");

/** Stores a snapshot file stamped `time` in S3 and returns the event announcing it. */
async function storedFileAt(world: World, time: string, simulation = "sim-a") {
  const event = fileAt(time, simulation);
  await world.objects.put(event, BODY);
  return event;
}

describe("completeSnapshot", () => {
  it("completes the job that asked for the file", async () => {
    const world = snapshotWorld();
    const { checkpointId, jobId } = await takeSnapshot(request(), world);
    const file = await storedFileAt(world, "2026-11-23T10:00:00Z");
    world.clock.advance(4_000);

    const result = await completeSnapshot(file, world);

    expect(result).toEqual({
      outcome: "completed",
      checkpointId,
      startedAt: "2026-11-23T10:00:00.000Z",
    });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
      size: BODY.length,
      etag: BODY_ETAG,
      completedAt: "2026-11-23T10:00:04.000Z",
    });
    expect(await world.jobs.get(jobId)).toMatchObject({
      status: "SUCCEEDED",
      endTime: "2026-11-23T10:00:04.000Z",
      stats: { objects: 1, bytes: BODY.length },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Completed",
    ]);
  });

  it("changes nothing when the same event arrives twice", async () => {
    const world = snapshotWorld();
    const { checkpointId } = await takeSnapshot(request(), world);
    const file = await storedFileAt(world, "2026-11-23T10:00:00Z");
    await completeSnapshot(file, world);
    const before = await world.checkpoints.get(checkpointId);

    const again = await completeSnapshot(file, world);

    expect(again).toEqual({ outcome: "duplicate", checkpointId });
    expect(await world.checkpoints.get(checkpointId)).toEqual(before);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(world.events.events.filter((e) => e.detailType === "Checkpoint Completed")).toHaveLength(
      1,
    );
  });

  it("registers a file no job asked for as a discovered checkpoint, once", async () => {
    const world = snapshotWorld();
    const file = await storedFileAt(world, "2026-11-20T08:30:15Z", "foreign-sim");

    const first = await completeSnapshot(file, world);
    const second = await completeSnapshot(file, world);

    const id = deterministicId("discovered", file.bucket, file.key);
    expect(first).toEqual({ outcome: "discovered", checkpointId: id });
    expect(second).toEqual({ outcome: "duplicate", checkpointId: id });
    expect(await world.checkpoints.get(id)).toMatchObject({
      state: "COMPLETE",
      trigger: "discovered",
      simulation: "foreign-sim",
      createdAt: "2026-11-20T08:30:15.000Z",
      name: "foreign-sim-261120-0830-15.zip",
      location: { bucket: "snapshots", key: file.key },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Completed"]);
  });

  it("does not give a job a file written before the job started", async () => {
    const world = snapshotWorld();
    const { checkpointId } = await takeSnapshot(request(), world);

    const result = await completeSnapshot(await storedFileAt(world, "2026-11-23T09:00:00Z"), world);

    expect(result.outcome).toBe("discovered");
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({ state: "PENDING" });
  });

  it("ignores objects that are not snapshot files", async () => {
    const world = snapshotWorld();
    const result = await completeSnapshot(
      { bucket: "snapshots", key: "simsnap/reports/plan.json", size: 1 },
      world,
    );
    expect(result).toEqual({ outcome: "ignored" });
    expect(world.events.events).toEqual([]);
  });
});

/** A scheduled snapshot request of the slot at `time`. */
const slot = (time: string) => request("sim-a", `schedule/minutely/sim-a/${time}`);

/** Where each checkpoint's file is, by checkpoint id. */
async function locations(world: World): Promise<Map<string, string | undefined>> {
  const { items } = await world.checkpoints.listBySimulation("sim-a", { limit: 100 });
  return new Map(items.map((checkpoint) => [checkpoint.id, checkpoint.location?.key]));
}

describe("completeSnapshot binds a file to the job whose CreateSnapshot window holds its stamp", () => {
  const slots = ["10:00:00", "10:01:00", "10:02:00", "10:03:00", "10:04:00"].map(
    (time) => `2026-11-23T${time}.000Z`,
  );

  /** Takes one snapshot per slot; the provider stamps each file mid-call (a 600 ms call). */
  async function chain(world: World) {
    const files = providerWritesFiles(world, { callMs: 600 });
    for (const time of slots) {
      world.clock.set(time);
      await takeSnapshot(slot(time), world);
    }
    world.clock.advance(30_000);
    return files;
  }

  it("after a crash that lost the first file's event, every job gets its own file, never the next job's", async () => {
    const world = snapshotWorld();
    const files = providerWritesFiles(world, { callMs: 600 });
    const checks: StatusCheck[] = [];
    for (const time of slots) {
      world.clock.set(time);
      await takeSnapshot(slot(time), world);
      checks.push(world.statusChecks.sent.at(-1)!.message);
      world.clock.advance(9_000);
      // The first file's event was lost while simsnap was down; the later ones arrive.
      if (time !== slots[0]) await completeSnapshot(files.at(-1)!, world);
    }
    // The first job's status check finds its file by listing.
    world.provider.statuses.set("sim-a", "STARTED");
    world.clock.set(checks[0]!.dueAt);
    expect((await checkSnapshot(checks[0]!, world)).outcome).toBe("completed");

    const bound = await locations(world);
    slots.forEach((time, i) => {
      expect(bound.get(snapshotIdsFor(slot(time).requestId).checkpointId), time).toBe(
        files[i]!.key,
      );
    });
    expect(bound.size).toBe(slots.length);
  });

  it("binds events replayed out of order after a restart to their own jobs, and a second replay changes nothing", async () => {
    const world = snapshotWorld();
    const files = await chain(world);

    const outcomes = [];
    for (const file of [...files].reverse())
      outcomes.push((await completeSnapshot(file, world)).outcome);
    const catalog = await world.checkpoints.listBySimulation("sim-a", { limit: 100 });
    const published = world.events.events.length;
    const replayed = [];
    for (const file of files) replayed.push(await completeSnapshot(file, world));

    expect(outcomes).toEqual(slots.map(() => "completed"));
    const bound = await locations(world);
    slots.forEach((time, i) => {
      expect(bound.get(snapshotIdsFor(slot(time).requestId).checkpointId), time).toBe(
        files[i]!.key,
      );
    });
    expect(replayed.map((r) => r.outcome)).toEqual(slots.map(() => "duplicate"));
    expect(await world.checkpoints.listBySimulation("sim-a", { limit: 100 })).toEqual(catalog);
    expect(world.events.events).toHaveLength(published);
  });

  it("catalogs a file that two jobs' windows hold as discovered, and completes neither job with it", async () => {
    const world = snapshotWorld();
    // Two calls in the same second: the stamp (one-second resolution) cannot tell them apart.
    world.clock.set("2026-11-23T10:00:00.100Z");
    const first = await takeSnapshot(slot("a"), world);
    world.clock.set("2026-11-23T10:00:00.600Z");
    const second = await takeSnapshot(slot("b"), world);

    const file = await storedFileAt(world, "2026-11-23T10:00:00Z");
    const result = await completeSnapshot(file, world);

    expect(result).toEqual({
      outcome: "discovered",
      checkpointId: deterministicId("discovered", file.bucket, file.key),
    });
    expect(await world.checkpoints.get(first.checkpointId)).toMatchObject({ state: "PENDING" });
    expect(await world.checkpoints.get(second.checkpointId)).toMatchObject({ state: "PENDING" });
  });

  it("waits for a CreateSnapshot call still in flight instead of cataloging its file as discovered", async () => {
    const world = snapshotWorld();
    const files = providerWritesFiles(world);
    const createSnapshot = world.provider.createSnapshot.bind(world.provider);
    let duringCall: unknown;
    world.provider.createSnapshot = async (simulation, destination) => {
      await createSnapshot(simulation, destination);
      // The file's event overtakes the call's answer.
      duringCall = await completeSnapshot(files[0]!, world).catch((error: unknown) => error);
    };

    const { checkpointId } = await takeSnapshot(request(), world);

    expect(duringCall).toBeInstanceOf(RetryLaterError);
    expect((duringCall as RetryLaterError).delaySeconds).toBeGreaterThan(0);
    expect((duringCall as RetryLaterError).delaySeconds).toBeLessThanOrEqual(5);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(await completeSnapshot(files[0]!, world)).toMatchObject({
      outcome: "completed",
      checkpointId,
    });
  });

  it("catalogs the file of a call whose answer was lost as discovered, once the call's claim expired", async () => {
    const world = snapshotWorld();
    const files = providerWritesFiles(world);
    const createSnapshot = world.provider.createSnapshot.bind(world.provider);
    world.provider.createSnapshot = async (simulation, destination) => {
      await createSnapshot(simulation, destination);
      throw new Error("socket hang up");
    };
    await expect(takeSnapshot(request(), world)).rejects.toThrow("socket hang up");
    const { checkpointId } = snapshotIdsFor(request().requestId);

    await expect(completeSnapshot(files[0]!, world)).rejects.toBeInstanceOf(RetryLaterError);
    world.clock.advance(61_000);
    const result = await completeSnapshot(files[0]!, world);

    expect(result.outcome).toBe("discovered");
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({ state: "PENDING" });
  });
});

describe("completeSnapshot confirms the object before any checkpoint becomes COMPLETE", () => {
  it("completes nothing for an event whose object is not in S3, and completes the job once it is", async () => {
    const world = snapshotWorld();
    const { checkpointId, jobId } = await takeSnapshot(request(), world);
    const file = fileAt("2026-11-23T10:00:00Z");

    const result = await completeSnapshot(file, world);

    expect(result).toEqual({ outcome: "missing" });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({ state: "PENDING" });
    expect(await world.jobs.get(jobId)).toMatchObject({ status: "RUNNING" });
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Snapshot Requested"]);

    await world.objects.put(file, BODY);
    expect((await completeSnapshot(file, world)).outcome).toBe("completed");
  });

  it("catalogs no discovered checkpoint for a missing object", async () => {
    const world = snapshotWorld();

    const result = await completeSnapshot(fileAt("2026-11-20T08:30:15Z", "foreign-sim"), world);

    expect(result).toEqual({ outcome: "missing" });
    expect(await world.checkpoints.listSimulations()).toEqual([]);
    expect(world.events.events).toEqual([]);
  });

  it("records the stored object's size, ETag and checksum, not what the event said", async () => {
    const world = snapshotWorld();
    const { checkpointId } = await takeSnapshot(request(), world);
    const discovered = await storedFileAt(world, "2026-11-20T08:30:15Z", "other-sim");
    const file = await storedFileAt(world, "2026-11-23T10:00:00Z");
    const head = world.objects.head.bind(world.objects);
    world.objects.head = async (location) => {
      const info = await head(location);
      return (
        info && {
          ...info,
          checksum: { algorithm: "CRC64NVME", value: "AAAAAAAAAAA=", type: "FULL_OBJECT" },
        }
      );
    };
    const forged = { size: 1, etag: "forged" };

    await completeSnapshot({ ...file, ...forged }, world);
    const other = await completeSnapshot({ ...discovered, ...forged }, world);

    const recorded = {
      size: BODY.length,
      etag: BODY_ETAG,
      checksum: "crc64nvme:AAAAAAAAAAA=",
    };
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "COMPLETE",
      ...recorded,
    });
    expect(await world.checkpoints.get(other.checkpointId!)).toMatchObject({
      trigger: "discovered",
      ...recorded,
    });
  });
});
