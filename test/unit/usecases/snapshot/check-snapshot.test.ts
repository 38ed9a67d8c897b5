import { describe, expect, it } from "vitest";
import type { StatusCheck } from "../../../../lib/domain/messages.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { providerWritesFiles, request, snapshotWorld } from "../../../support/snapshot-world.ts";

async function requested() {
  const world = snapshotWorld();
  const ids = await takeSnapshot(request(), world);
  const check = world.statusChecks.sent[0]?.message as StatusCheck;
  return { world, ids, check };
}

describe("checkSnapshot", () => {
  it("completes a job whose S3 event was missed, from the status and the listing", async () => {
    const { world, ids, check } = await requested();
    await world.objects.put(
      {
        bucket: "snapshots",
        key: snapshotKey("simsnap", "sim-a", new Date("2026-11-23T10:00:00Z")),
      },
      "zip-bytes",
    );
    world.provider.statuses.set("sim-a", "STARTED");
    world.clock.advance(10_000);

    const result = await checkSnapshot(check, world);

    expect(result).toEqual({ outcome: "completed", startedAt: "2026-11-23T10:00:00.000Z" });
    expect(await world.checkpoints.get(ids.checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
    });
    expect(await world.jobs.get(ids.jobId)).toMatchObject({ status: "SUCCEEDED" });
  });

  it("reschedules with exponential backoff while the snapshot is in progress", async () => {
    const { world, ids, check } = await requested();
    world.clock.advance(10_000);

    const first = await checkSnapshot(check, world);
    world.clock.advance(20_000);
    const second = await checkSnapshot(world.statusChecks.sent[1]!.message, world);

    expect(first).toEqual({ outcome: "rescheduled", nextCheckAt: "2026-11-23T10:00:30.000Z" });
    expect(second).toEqual({ outcome: "rescheduled", nextCheckAt: "2026-11-23T10:01:10.000Z" });
    expect(world.statusChecks.sent.slice(1)).toEqual([
      {
        message: { jobId: ids.jobId, check: 1, dueAt: "2026-11-23T10:00:30.000Z" },
        delaySeconds: 20,
      },
      {
        message: { jobId: ids.jobId, check: 2, dueAt: "2026-11-23T10:01:10.000Z" },
        delaySeconds: 40,
      },
    ]);
    expect(await world.jobs.get(ids.jobId)).toMatchObject({
      nextCheckAt: "2026-11-23T10:01:10.000Z",
      checks: 2,
    });
  });

  it("drops a duplicate or stale check", async () => {
    const { world, check } = await requested();
    world.clock.advance(10_000);
    await checkSnapshot(check, world);

    const again = await checkSnapshot(check, world);

    expect(again).toEqual({ outcome: "stale" });
    expect(world.statusChecks.sent).toHaveLength(2);
  });

  it("fails a job that never completes at its deadline", async () => {
    const { world, ids } = await requested();
    let message = world.statusChecks.sent[0]!.message;
    let outcome = "";
    for (let i = 0; i < 50 && outcome !== "failed"; i++) {
      world.clock.set(new Date(message.dueAt));
      outcome = (await checkSnapshot(message, world)).outcome;
      message = world.statusChecks.sent.at(-1)!.message;
    }

    expect(outcome).toBe("failed");
    expect(world.clock.now().toISOString()).toBe("2026-11-23T10:10:00.000Z");
    expect(await world.jobs.get(ids.jobId)).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
    expect(await world.checkpoints.get(ids.checkpointId)).toMatchObject({ state: "FAILED" });
    // The waits doubled and were capped at maxCheckSeconds (120 s).
    expect(world.statusChecks.sent.map((s) => s.message.dueAt)).toEqual([
      "2026-11-23T10:00:10.000Z",
      "2026-11-23T10:00:30.000Z",
      "2026-11-23T10:01:10.000Z",
      "2026-11-23T10:02:30.000Z",
      "2026-11-23T10:04:30.000Z",
      "2026-11-23T10:06:30.000Z",
      "2026-11-23T10:08:30.000Z",
      "2026-11-23T10:10:00.000Z",
    ]);
  });

  it("fails the open job of a simulation seen stopped", async () => {
    const { world, ids, check } = await requested();
    world.provider.statuses.set("sim-a", "STOPPED");
    world.clock.advance(10_000);

    expect((await checkSnapshot(check, world)).outcome).toBe("failed");
    expect(await world.jobs.get(ids.jobId)).toMatchObject({
      status: "FAILED",
      error: {
        code: "SimulationEnded",
        message: "Simulation sim-a is STOPPED; its snapshot cannot complete",
      },
    });
  });
});

describe("checkSnapshot binds a listed file by the one binding rule", () => {
  const slot = (time: string) => request("sim-a", `schedule/minutely/sim-a/${time}`);

  it("does not complete a job with the next job's file", async () => {
    const world = snapshotWorld();
    // The first snapshot's file never appears; the next job's, 9 s later, does.
    const first = await takeSnapshot(slot("10:00"), world);
    const check = world.statusChecks.sent[0]!.message;
    const files = providerWritesFiles(world);
    world.clock.set("2026-11-23T10:00:09.000Z");
    const second = await takeSnapshot(slot("10:00:09"), world);
    world.provider.statuses.set("sim-a", "STARTED");
    world.clock.set(check.dueAt);

    const result = await checkSnapshot(check, world);

    expect(result.outcome).toBe("rescheduled");
    expect(await world.checkpoints.get(first.checkpointId)).toMatchObject({ state: "PENDING" });
    const secondCheck = world.statusChecks.sent.find((s) => s.message.jobId === second.jobId)!;
    world.clock.set(secondCheck.message.dueAt);
    expect((await checkSnapshot(secondCheck.message, world)).outcome).toBe("completed");
    expect(await world.checkpoints.get(second.checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { key: files[0]!.key },
    });
  });

  it("leaves a file that another open job's window also holds unbound", async () => {
    const world = snapshotWorld();
    world.clock.set("2026-11-23T10:00:00.100Z");
    const first = await takeSnapshot(slot("a"), world);
    const check = world.statusChecks.sent[0]!.message;
    world.clock.set("2026-11-23T10:00:00.600Z");
    await takeSnapshot(slot("b"), world);
    await world.objects.put(
      { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
      "zip-bytes",
    );
    world.provider.statuses.set("sim-a", "STARTED");
    world.clock.set(check.dueAt);

    expect((await checkSnapshot(check, world)).outcome).toBe("rescheduled");
    expect(await world.checkpoints.get(first.checkpointId)).toMatchObject({ state: "PENDING" });
  });

  it("does not complete a job from a listed file that is gone when confirmed", async () => {
    const { world, ids, check } = await requested();
    await world.objects.put(
      { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
      "zip-bytes",
    );
    world.objects.head = async () => undefined; // deleted between the listing and the HEAD
    world.provider.statuses.set("sim-a", "STARTED");
    world.clock.advance(10_000);

    expect((await checkSnapshot(check, world)).outcome).toBe("rescheduled");
    expect(await world.checkpoints.get(ids.checkpointId)).toMatchObject({ state: "PENDING" });
  });
});
