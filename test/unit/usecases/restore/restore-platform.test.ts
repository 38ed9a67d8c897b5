import { describe, expect, it } from "vitest";
import { ConflictError, ValidationError } from "../../../../lib/domain/errors.ts";
import { updateRunningJob, type Job } from "../../../../lib/domain/job.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import {
  advanceRestore,
  restoreCheckpoint,
  type AdvanceRestoreResult,
} from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { syncPlatformCheckpoints } from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

/** A COMPLETE checkpoint of `air-sim` on the platform, mirrored; answers its platform id. */
async function mirrored(world: PlatformWorld): Promise<string> {
  const { id } = world.platform.seed("air-sim");
  await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
  world.events.events.splice(0);
  return id;
}

/** Runs the queued restore steps at their due times until none is left (at most `limit`). */
async function drain(world: PlatformWorld, limit = 20): Promise<AdvanceRestoreResult[]> {
  const results: AdvanceRestoreResult[] = [];
  for (let i = 0; i < limit; i++) {
    const sent = world.restoreSteps.sent.shift();
    if (!sent) break;
    world.clock.set(sent.message.dueAt);
    results.push(await advanceRestore(sent.message, world));
  }
  return results;
}

const restoreCalls = (world: PlatformWorld) =>
  world.platform.calls.filter((c) => c.startsWith("restore:"));

describe("restoreCheckpoint, for a checkpoint a platform holds", () => {
  it("has the platform clone it into a new simulation and waits until that one runs", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);
    world.platform.startsAs = "STARTING";

    const { job, simulationName } = await restoreCheckpoint(
      { checkpointId: idOf(platformId), clientToken: "t-1", simulationName: "air-copy" },
      world,
    );
    expect(simulationName).toBe("air-copy");
    expect(job).toMatchObject({
      provider: "platform",
      restore: { into: "new", phase: "locating" },
    });

    const first = await drain(world, 1);
    expect(first).toEqual([expect.objectContaining({ outcome: "waiting", phase: "waiting" })]);
    expect(restoreCalls(world)).toEqual([`restore:${platformId}:new:air-copy`]);
    world.platform.statuses.set("air-copy", "STARTED");
    expect(await drain(world)).toEqual([expect.objectContaining({ outcome: "succeeded" })]);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { from: "platform", target: "air-copy", into: "new" },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Restore Requested",
      "Checkpoint Restored",
    ]);
    expect(world.events.events[1]?.detail).toMatchObject({ from: "platform", into: "new" });
    documented(world.events.events);
  });

  it("starts the same stopped simulation from it, when asked for that simulation by name", async () => {
    const world = platformWorld({ "air-sim": "STOPPED" });
    const platformId = await mirrored(world);

    const { job } = await restoreCheckpoint(
      { checkpointId: idOf(platformId), clientToken: "t-1", simulationName: "air-sim" },
      world,
    );
    const results = await drain(world);

    expect(results.at(-1)).toMatchObject({ outcome: "succeeded" });
    expect(restoreCalls(world)).toEqual([`restore:${platformId}:same:air-sim`]);
    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { into: "same", target: "air-sim" },
    });
  });

  it("takes STOPPED for not-started-yet for a moment after starting the same simulation", async () => {
    const world = platformWorld({ "air-sim": "STOPPED" });
    const platformId = await mirrored(world);
    world.platform.startsAs = "STOPPED";
    const { job } = await restoreCheckpoint(
      { checkpointId: idOf(platformId), clientToken: "t-1", simulationName: "air-sim" },
      world,
    );

    expect(await drain(world, 2)).toEqual([
      expect.objectContaining({ outcome: "waiting" }),
      expect.objectContaining({ outcome: "waiting" }),
    ]);
    world.platform.statuses.set("air-sim", "STARTED");
    expect(await drain(world)).toEqual([expect.objectContaining({ outcome: "succeeded" })]);
    expect((await world.jobs.get(job.id))?.status).toBe("SUCCEEDED");
  });

  it("starts one simulation when the start step runs again after a crash", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);
    world.platform.startsAs = "STARTING";
    const { job } = await restoreCheckpoint(
      { checkpointId: idOf(platformId), clientToken: "t-1", simulationName: "air-copy" },
      world,
    );
    await drain(world, 1);
    // As if the step had crashed before its result was saved: back to `starting`.
    const waiting = (await world.jobs.get(job.id)) as Job;
    const replay = updateRunningJob(waiting, {
      restore: { ...waiting.restore!, phase: "starting" },
    });
    await world.jobs.save(replay);

    world.clock.set(replay.nextCheckAt!);
    await advanceRestore({ jobId: job.id, step: replay.checks, dueAt: replay.nextCheckAt! }, world);

    expect(restoreCalls(world)).toHaveLength(1);
    expect(await world.jobs.get(job.id)).toMatchObject({ restore: { phase: "waiting" } });
  });

  it("refuses at once what the platform cannot do", async () => {
    const world = platformWorld({ "air-sim": "STARTED", taken: "STOPPED" });
    const platformId = await mirrored(world);
    const request = (overrides: object) => ({
      checkpointId: idOf(platformId),
      clientToken: "t-1",
      ...overrides,
    });

    await expect(restoreCheckpoint(request({ simulationName: "air-sim" }), world)).rejects.toThrow(
      /is STARTED: it must be STOPPED/,
    );
    await expect(restoreCheckpoint(request({ simulationName: "taken" }), world)).rejects.toThrow(
      /already exists/,
    );
    await expect(
      restoreCheckpoint(request({ simulationName: "fine", maximumDuration: "2h" }), world),
    ).rejects.toBeInstanceOf(ValidationError);

    world.platform.deleteItself(platformId);
    await syncPlatformCheckpoints("air-sim", { ...world, provider: world.platform });
    await expect(restoreCheckpoint(request({ simulationName: "fine" }), world)).rejects.toThrow(
      ConflictError,
    );
    expect(await world.jobs.listBySimulation("air-sim")).toEqual({ items: [] });
    expect(restoreCalls(world)).toEqual([]);
  });

  it("fails the job when the platform deleted the checkpoint after the request", async () => {
    const world = platformWorld();
    const platformId = await mirrored(world);
    const { job } = await restoreCheckpoint(
      { checkpointId: idOf(platformId), clientToken: "t-1", simulationName: "air-copy" },
      world,
    );
    world.platform.deleteItself(platformId);

    expect(await drain(world)).toEqual([expect.objectContaining({ outcome: "failed" })]);
    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: { code: "NothingToRestore", message: expect.stringContaining("DELETED on platform") },
    });
    expect(restoreCalls(world)).toEqual([]);
    documented(world.events.events);
  });
});
