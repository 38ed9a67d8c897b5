import { describe, expect, it } from "vitest";
import type { StatusCheck } from "../../../../lib/domain/messages.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { completeSnapshot } from "../../../../lib/usecases/snapshot/complete-snapshot.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { request, snapshotWorld } from "../../../support/snapshot-world.ts";

/** A job's status check as its queue holds it now. */
async function dueCheck(world: ReturnType<typeof snapshotWorld>, jobId: string) {
  const job = await world.jobs.get(jobId);
  return { jobId, check: job!.checks, dueAt: job!.nextCheckAt! } satisfies StatusCheck;
}

/**
 * Job A asks for a snapshot at 10:00:00; job B of the same simulation three seconds later, so B's
 * skew-widened window holds A's stamp. A's snapshot is slow: A fails at its deadline (10:10:00)
 * before its file appears, while B (deadline 10:10:03) is still open. Then A's file lands.
 */
async function slowSnapshotOfAFailedJob() {
  const world = snapshotWorld();
  const a = await takeSnapshot(request("sim-a", "manual/a"), world);
  world.clock.advance(3_000);
  const b = await takeSnapshot(request("sim-a", "manual/b"), world);
  world.clock.set(new Date("2026-11-23T10:10:00.500Z"));
  expect(await checkSnapshot(await dueCheck(world, a.jobId), world)).toEqual({
    outcome: "failed",
  });
  const file = {
    bucket: "snapshots",
    key: snapshotKey("simsnap", "sim-a", new Date("2026-11-23T10:00:00Z")),
  };
  await world.objects.put(file, "A's bytes");
  world.provider.statuses.set("sim-a", "STARTED");
  world.clock.advance(1_000);
  return { world, a, b, file: { ...file, size: 9 } };
}

describe("a file whose job already ended, and an open neighbour", () => {
  it("is not bound to the neighbour by its S3 event: it is cataloged as discovered, saying why", async () => {
    const { world, a, b, file } = await slowSnapshotOfAFailedJob();

    const result = await completeSnapshot(file, world);

    expect(result).toMatchObject({ outcome: "discovered" });
    expect(await world.checkpoints.get(b.checkpointId)).toMatchObject({ state: "PENDING" });
    expect(await world.jobs.get(b.jobId)).toMatchObject({ status: "RUNNING" });
    expect(await world.checkpoints.get(a.checkpointId)).toMatchObject({ state: "FAILED" });
    const discovered = await world.checkpoints.get(result.checkpointId!);
    expect(discovered).toMatchObject({ trigger: "discovered", location: { key: file.key } });
    expect(discovered?.description).toContain(`job ${a.jobId} (FAILED at`);
  });

  it("is not bound to the neighbour by the neighbour's own status check", async () => {
    const { world, b, file } = await slowSnapshotOfAFailedJob();

    const result = await checkSnapshot(await dueCheck(world, b.jobId), world);

    expect(result).toMatchObject({ outcome: "rescheduled" });
    expect(await world.checkpoints.get(b.checkpointId)).toMatchObject({ state: "PENDING" });
    expect((await world.checkpoints.locationOwners([file])).size).toBe(0);
  });

  it("still completes the neighbour with its own file, whose stamp its exact window holds", async () => {
    const { world, b } = await slowSnapshotOfAFailedJob();
    const own = {
      bucket: "snapshots",
      key: snapshotKey("simsnap", "sim-a", new Date("2026-11-23T10:00:03Z")),
    };
    await world.objects.put(own, "B's bytes");

    expect(await completeSnapshot({ ...own, size: 9 }, world)).toMatchObject({
      outcome: "completed",
      checkpointId: b.checkpointId,
    });
  });
});
