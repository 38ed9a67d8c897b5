import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError } from "../../../../lib/domain/errors.ts";
import { requestSnapshot } from "../../../../lib/usecases/snapshot/request-snapshot.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { apiWorld } from "../../../support/api-world.ts";

describe("requestSnapshot", () => {
  it("records the PENDING checkpoint and RUNNING job, then queues the request", async () => {
    const world = apiWorld();
    const job = await requestSnapshot(
      { simulation: "sim-a", name: "before upgrade", tags: ["manual"], idempotencyKey: "k1" },
      world,
    );

    expect(job).toMatchObject({ kind: "snapshot", status: "RUNNING", simulation: "sim-a" });
    expect(await world.checkpoints.get(job.checkpointId as string)).toMatchObject({
      state: "PENDING",
      trigger: "manual",
      name: "before upgrade",
      tags: ["manual"],
      run: "exec-sim-a",
      jobId: job.id,
    });
    expect(world.requests.sent).toEqual([
      {
        message: {
          requestId: "manual/sim-a/k1",
          simulation: "sim-a",
          trigger: "manual",
          requestedAt: job.startTime,
          name: "before upgrade",
          tags: ["manual"],
        },
        delaySeconds: 0,
      },
    ]);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Snapshot Requested"]);
    expect(world.provider.snapshotCalls).toEqual([]);
  });

  it("lets take-snapshot pick up the very records it created and call CreateSnapshot once", async () => {
    const world = apiWorld();
    const job = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k1" }, world);
    const request = world.requests.sent[0]?.message;
    if (!request) throw new Error("no request queued");

    const taken = await takeSnapshot(request, world);

    expect(taken).toEqual({ outcome: "requested", jobId: job.id, checkpointId: job.checkpointId });
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Snapshot Requested"]);
  });

  it("answers a retry with the same idempotency key with the same job, recording nothing new", async () => {
    const world = apiWorld();
    const first = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k1" }, world);
    world.clock.advance(5_000);
    const again = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k1" }, world);
    const other = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k2" }, world);

    expect(again).toEqual(first);
    expect(other.id).not.toBe(first.id);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(2);
    // The retry re-sends the same request (in case the first stopped before sending it).
    expect(world.requests.sent[1]?.message).toEqual(world.requests.sent[0]?.message);
    expect(world.events.events).toHaveLength(2);
  });

  it("does not re-send the request of a finished job", async () => {
    const world = apiWorld();
    const job = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k1" }, world);
    const stored = await world.jobs.get(job.id);
    if (!stored) throw new Error("job missing");
    await world.jobs.save({ ...stored, status: "SUCCEEDED", version: stored.version + 1 });

    expect(
      (await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k1" }, world)).status,
    ).toBe("SUCCEEDED");
    expect(world.requests.sent).toHaveLength(1);
  });

  it("refuses an unknown simulation (404) and one that is not running (409), recording nothing", async () => {
    const world = apiWorld();
    await expect(requestSnapshot({ simulation: "nope" }, world)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const stopped = requestSnapshot({ simulation: "sim-off" }, world);
    await expect(stopped).rejects.toBeInstanceOf(ConflictError);
    await expect(stopped).rejects.toThrow("Simulation sim-off is STOPPED");
    expect(await world.checkpoints.listSimulations()).toEqual([]);
    expect(world.requests.sent).toEqual([]);
  });

  it("gives each request without an idempotency key its own job", async () => {
    const world = apiWorld();
    const a = await requestSnapshot({ simulation: "sim-a" }, world);
    const b = await requestSnapshot({ simulation: "sim-a" }, world);
    expect(a.id).not.toBe(b.id);
  });
});
