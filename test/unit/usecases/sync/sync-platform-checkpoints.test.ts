import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../../lib/domain/errors.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { startJob } from "../../../../lib/domain/job.ts";
import {
  syncAllPlatformCheckpoints,
  syncPlatformCheckpoints,
} from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const sync = (world: PlatformWorld, simulation = "air-sim") =>
  syncPlatformCheckpoints(simulation, { ...world, provider: world.platform });

const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

const MINUTE = 60_000;

describe("syncPlatformCheckpoints", () => {
  it("catalogs the platform's checkpoints as discovered, in its states, and does it once", async () => {
    const world = platformWorld();
    const complete = world.platform.seed("air-sim", { name: "before upgrade", favorite: true });
    const pending = world.platform.seed("air-sim", { state: "PENDING" });
    world.platform.seed("air-sim", { state: "DELETED" });

    const first = await sync(world);

    expect(first.created).toEqual([idOf(complete.id), idOf(pending.id)]);
    expect(first.completed).toEqual([idOf(complete.id)]);
    expect(await world.checkpoints.get(idOf(complete.id))).toMatchObject({
      provider: "platform",
      platformId: complete.id,
      name: "before upgrade",
      favorite: true,
      state: "COMPLETE",
      trigger: "discovered",
    });
    expect(await world.checkpoints.get(idOf(pending.id))).toMatchObject({ state: "PENDING" });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Completed"]);
    documented(world.events.events);

    const second = await sync(world);
    expect([second.created, second.completed, second.updated, second.pushed]).toEqual([
      [],
      [],
      [],
      [],
    ]);
    expect(world.events.events).toHaveLength(1);
  });

  it("completes a PENDING checkpoint only once the platform says COMPLETE", async () => {
    const world = platformWorld();
    const pending = world.platform.seed("air-sim", { state: "PENDING" });
    await sync(world);

    world.clock.advance(MINUTE);
    world.platform.finishSaving("air-sim");
    const result = await sync(world);

    expect(result.completed).toEqual([idOf(pending.id)]);
    expect(await world.checkpoints.get(idOf(pending.id))).toMatchObject({
      state: "COMPLETE",
      completedAt: world.clock.now().toISOString(),
      version: 2,
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Completed"]);
    documented(world.events.events);
  });

  it("records a checkpoint the platform deleted itself as DELETED, with the reason", async () => {
    const world = platformWorld();
    const evicted = world.platform.seed("air-sim");
    const forgotten = world.platform.seed("air-sim");
    await sync(world);
    world.events.events.splice(0);

    world.platform.deleteItself(evicted.id);
    world.platform.forget(forgotten.id);
    const result = await sync(world);

    expect(result.deleted.sort()).toEqual([idOf(evicted.id), idOf(forgotten.id)].sort());
    for (const id of [evicted.id, forgotten.id]) {
      expect(await world.checkpoints.get(idOf(id))).toMatchObject({
        state: "DELETED",
        error: { code: "DeletedByPlatform", message: expect.stringContaining(id) },
      });
    }
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Deleted",
      "Checkpoint Deleted",
    ]);
    documented(world.events.events);
    expect((await sync(world)).deleted).toEqual([]);
  });

  it("follows a rename or favorite made on the platform, and PATCHes a newer one made in simsnap", async () => {
    const world = platformWorld();
    const renamed = world.platform.seed("air-sim", { name: "old" });
    const favorited = world.platform.seed("air-sim");
    await sync(world);

    world.clock.advance(MINUTE);
    world.platform.editOnPlatform(renamed.id, { name: "new name" });
    const record = (await world.checkpoints.get(idOf(favorited.id)))!;
    world.clock.advance(MINUTE);
    await world.checkpoints.save({
      ...record,
      favorite: true,
      version: record.version + 1,
      modifiedAt: world.clock.now().toISOString(),
    });
    const result = await sync(world);

    expect(result.updated).toEqual([idOf(renamed.id)]);
    expect(result.pushed).toEqual([idOf(favorited.id)]);
    expect((await world.checkpoints.get(idOf(renamed.id)))?.name).toBe("new name");
    expect(world.platform.held.get(favorited.id)?.favorite).toBe(true);
    const again = await sync(world);
    expect([again.updated, again.pushed]).toEqual([[], []]);
  });

  it("gives a new checkpoint to the stop of ours that asked for it, and to no one when two did", async () => {
    const world = platformWorld();
    const before = world.platform.seed("air-sim");
    const stop = startJob(
      {
        id: "stop-1",
        kind: "stop",
        simulation: "air-sim",
        provider: "platform",
        deadline: new Date(world.clock.now().getTime() + 60 * MINUTE).toISOString(),
        stop: {
          requestId: "r-1",
          snapshot: true,
          force: false,
          reason: "weekend",
          checkpointOnStop: true,
          call: {
            calledAt: world.clock.now().toISOString(),
            newestBefore: before.created.toISOString(),
          },
        },
      },
      world.clock.now(),
    );
    await world.jobs.create(stop);
    const produced = world.platform.seed("air-sim", { state: "PENDING" });

    await sync(world);

    expect(await world.checkpoints.get(idOf(before.id))).toMatchObject({ trigger: "discovered" });
    expect(await world.checkpoints.get(idOf(produced.id))).toMatchObject({
      trigger: "shutdown",
      jobId: "stop-1",
      description: "weekend",
    });

    const other = platformWorld();
    await other.jobs.create(stop);
    other.platform.seed("air-sim", { created: new Date(before.created.getTime()) });
    const first = other.platform.seed("air-sim");
    const second = other.platform.seed("air-sim");
    await syncPlatformCheckpoints("air-sim", { ...other, provider: other.platform });
    for (const id of [first.id, second.id]) {
      expect(await other.checkpoints.get(idOf(id))).toMatchObject({ trigger: "discovered" });
    }
  });

  it("goes on past a checkpoint it cannot mirror, and reports it", async () => {
    const world = platformWorld();
    const a = world.platform.seed("air-sim");
    const b = world.platform.seed("air-sim");
    await sync(world);
    world.clock.advance(MINUTE);
    for (const id of [a.id, b.id]) {
      const record = (await world.checkpoints.get(idOf(id)))!;
      await world.checkpoints.save({
        ...record,
        name: `renamed ${id}`,
        version: record.version + 1,
        modifiedAt: world.clock.now().toISOString(),
      });
    }
    world.platform.failNext(
      "update",
      new ProviderError("ThrottlingException", "slow down", { status: 429, retryable: true }),
    );

    const result = await sync(world);

    expect(result.errors).toEqual([{ id: idOf(a.id), platformId: a.id, message: "slow down" }]);
    expect(result.pushed).toEqual([idOf(b.id)]);
  });

  it("syncs every simulation of every platform that holds checkpoints, and only those", async () => {
    const world = platformWorld({ "air-sim": "STARTED", "air-two": "STOPPED" });
    world.platform.seed("air-sim");
    world.platform.seed("air-two");

    const results = await syncAllPlatformCheckpoints(world);

    expect(results.map((r) => [r.provider, r.simulation])).toEqual([
      ["platform", "air-sim"],
      ["platform", "air-two"],
    ]);
    expect(await world.checkpoints.listSimulations()).toEqual(["air-sim", "air-two"]);
  });
});
