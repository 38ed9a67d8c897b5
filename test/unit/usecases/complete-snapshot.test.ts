import { describe, expect, it } from "vitest";
import { deterministicId } from "../../../lib/domain/ids.ts";
import { snapshotKey } from "../../../lib/domain/snapshot-key.ts";
import { completeSnapshot } from "../../../lib/usecases/complete-snapshot.ts";
import { takeSnapshot } from "../../../lib/usecases/take-snapshot.ts";
import { request, snapshotWorld } from "./snapshot-world.ts";

const fileAt = (time: string, simulation = "sim-a", prefix = "simsnap") => ({
  bucket: "snapshots",
  key: snapshotKey(prefix, simulation, new Date(time)),
  size: 2048,
  etag: "abc123",
});

describe("completeSnapshot", () => {
  it("completes the job that asked for the file", async () => {
    const world = snapshotWorld();
    const { checkpointId, jobId } = await takeSnapshot(request(), world);
    world.clock.advance(4_000);

    const result = await completeSnapshot(fileAt("2026-11-23T10:00:00Z"), world);

    expect(result).toEqual({
      outcome: "completed",
      checkpointId,
      startedAt: "2026-11-23T10:00:00.000Z",
    });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
      size: 2048,
      etag: "abc123",
      completedAt: "2026-11-23T10:00:04.000Z",
    });
    expect(await world.jobs.get(jobId)).toMatchObject({
      status: "SUCCEEDED",
      endTime: "2026-11-23T10:00:04.000Z",
      stats: { objects: 1, bytes: 2048 },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Completed",
    ]);
  });

  it("changes nothing when the same event arrives twice", async () => {
    const world = snapshotWorld();
    const { checkpointId } = await takeSnapshot(request(), world);
    const file = fileAt("2026-11-23T10:00:00Z");
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
    const file = fileAt("2026-11-20T08:30:15Z", "foreign-sim", "other/tool");

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

    const result = await completeSnapshot(fileAt("2026-11-23T09:00:00Z"), world);

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
