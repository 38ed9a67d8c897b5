import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../../lib/domain/errors.ts";
import { orderStop } from "../../../../lib/usecases/stop/order-stop.ts";
import { stopJobId } from "../../../../lib/usecases/stop/request-stop.ts";
import { apiWorld } from "../../../support/api-world.ts";

describe("orderStop", () => {
  it("answers with the stop job, its final snapshot asked for", async () => {
    const world = apiWorld();
    const job = await orderStop(
      { simulation: "sim-a", snapshot: true, force: false, idempotencyKey: "k1" },
      world,
    );
    expect(job).toMatchObject({
      id: stopJobId("api/sim-a/k1"),
      kind: "stop",
      status: "RUNNING",
      steps: [{ name: "final-snapshot", status: "RUNNING" }],
    });
    expect(world.requests.sent.map((s) => s.message.trigger)).toEqual(["shutdown"]);
    expect(world.provider.stopCalls).toEqual([]);
  });

  it("stops at once without a snapshot, and a retry with the same key is the same stop", async () => {
    const world = apiWorld();
    const order = { simulation: "sim-a", snapshot: false, force: false, idempotencyKey: "k2" };
    const job = await orderStop(order, world);
    expect(job).toMatchObject({ kind: "stop", status: "SUCCEEDED" });
    expect(await orderStop(order, world)).toEqual(job);
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
  });

  it("answers an unknown simulation with NotFoundError, as a snapshot does, recording no job", async () => {
    const world = apiWorld();
    const order = { simulation: "ghost", snapshot: true, force: false, idempotencyKey: "k3" };
    await expect(orderStop(order, world)).rejects.toThrow(
      new NotFoundError("Simulation ghost does not exist"),
    );
    expect(await world.jobs.get(stopJobId("api/ghost/k3"))).toBeUndefined();
    expect((await world.jobs.listBySimulation("ghost")).items).toEqual([]);
  });
});
