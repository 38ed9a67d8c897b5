import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../../lib/domain/errors.ts";
import { pruneRunFor } from "../../../../lib/domain/prune-request.ts";
import { prune, pruneJobId } from "../../../../lib/usecases/retention/prune.ts";
import { requestPrune } from "../../../../lib/usecases/retention/request-prune.ts";
import { checkpoint, minutesIn } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

async function withCheckpoints() {
  const world = apiWorld();
  for (const simulation of ["sim-a", "sim-b"]) {
    for (let i = 0; i < 4; i++) {
      await world.checkpoints.create(
        checkpoint({ id: `${simulation}-${i}`, simulation, createdAt: minutesIn(i) }),
      );
    }
  }
  return world;
}

describe("requestPrune", () => {
  it("plans a dry run at once, per simulation, changing nothing", async () => {
    const world = await withCheckpoints();
    const result = await requestPrune({ dryRun: true, force: false }, world);

    expect(result).toEqual({
      dryRun: true,
      plans: [
        expect.objectContaining({
          simulation: "sim-a",
          remove: [{ id: "sim-a-1" }, { id: "sim-a-0" }],
        }),
        expect.objectContaining({
          simulation: "sim-b",
          remove: [{ id: "sim-b-1" }, { id: "sim-b-0" }],
        }),
      ],
    });
    expect((await world.jobs.listAll()).items).toEqual([]);
    expect(world.pruneRequests.sent).toEqual([]);
    expect(world.objects.deleteCalls).toEqual([]);
  });

  it("records one RUNNING job per simulation and queues the run, which carries those jobs on", async () => {
    const world = await withCheckpoints();
    const result = await requestPrune(
      { simulation: "sim-b", dryRun: false, force: false, idempotencyKey: "k1" },
      world,
    );
    if (result.dryRun) throw new Error("expected a real run");

    expect(result.runId).toBe("manual/k1");
    expect(result.jobs).toMatchObject([
      {
        id: pruneJobId("manual/k1", "sim-b"),
        kind: "prune",
        simulation: "sim-b",
        status: "RUNNING",
      },
    ]);
    const sent = world.pruneRequests.sent;
    expect(sent).toEqual([
      {
        message: {
          source: "manual",
          requestId: "k1",
          simulation: "sim-b",
          dryRun: false,
          force: false,
        },
        delaySeconds: 0,
      },
    ]);

    const [ran] = await prune(pruneRunFor(sent[0]!.message, 60), world);
    expect(ran).toMatchObject({ outcome: "pruned", jobId: result.jobs[0]?.id });
    expect(await world.jobs.get(result.jobs[0]!.id)).toMatchObject({ status: "SUCCEEDED" });
  });

  it("answers a retry with the same key with the same jobs, queueing nothing once they finished", async () => {
    const world = await withCheckpoints();
    const order = { dryRun: false, force: false, idempotencyKey: "k1" };
    const first = await requestPrune(order, world);
    const again = await requestPrune(order, world);
    expect(again).toEqual(first);
    await prune(pruneRunFor(world.pruneRequests.sent[0]!.message, 60), world);

    const late = await requestPrune(order, world);
    if (late.dryRun) throw new Error("expected a real run");
    expect(late.jobs.map((j) => j.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(world.pruneRequests.sent).toHaveLength(2);
  });

  it("refuses a simulation the catalog does not know (404)", async () => {
    const world = await withCheckpoints();
    await expect(
      requestPrune({ simulation: "nope", dryRun: true, force: false }, world),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
