import { describe, expect, it } from "vitest";
import type { SnapshotRequest, StopRequestedEvent } from "../../../../lib/domain/messages.ts";
import {
  throwawayName,
  VerificationTickSchema,
  type VerificationStep,
} from "../../../../lib/domain/verification.ts";
import { startJob } from "../../../../lib/domain/job.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { planSnapshots } from "../../../../lib/usecases/snapshot/plan-snapshots.ts";
import { planVerifications } from "../../../../lib/usecases/verification/plan-verifications.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { verificationWorld, type VerificationWorld } from "../../../support/verification-world.ts";
import tickSample from "../../../events/scheduler/verification-tick.json" with { type: "json" };

const tick = (overrides: Record<string, unknown> = {}) =>
  VerificationTickSchema.parse({
    schedule: "verify-checkpoints",
    scheduledTime: "2026-12-01T10:00:00.000Z",
    maxConcurrent: 2,
    maximumDuration: "30m",
    ...overrides,
  });

async function seed(world: VerificationWorld, ...checkpoints: ReturnType<typeof checkpoint>[]) {
  for (const cp of checkpoints) await world.checkpoints.create(cp);
}

describe("planVerifications", () => {
  it("tests the newest COMPLETE checkpoint of each selected simulation, one job and step each", async () => {
    const world = verificationWorld();
    const oldA = checkpoint({ simulation: "sim-a", createdAt: "2026-12-01T08:00:00.000Z" });
    const newA = checkpoint({ simulation: "sim-a", createdAt: "2026-12-01T09:00:00.000Z" });
    const pending = checkpoint({
      simulation: "sim-a",
      createdAt: "2026-12-01T09:30:00.000Z",
      state: "PENDING",
      location: undefined,
    });
    const b = checkpoint({ simulation: "sim-b", createdAt: "2026-12-01T07:00:00.000Z" });
    const other = checkpoint({ simulation: "other", createdAt: "2026-12-01T07:00:00.000Z" });
    await seed(world, oldA, newA, pending, b, other);

    const result = await planVerifications(tick({ selector: { names: ["sim-*"] } }), world);

    expect(result.planned.map((p) => [p.checkpointId, p.outcome, p.reason])).toEqual([
      [newA.id, "started", "latest"],
      [b.id, "started", "latest"],
    ]);
    const jobs = await Promise.all(result.planned.map((p) => world.jobs.get(p.jobId ?? "")));
    expect(jobs.map((j) => j?.verify)).toEqual([
      expect.objectContaining({
        phase: "starting",
        snapshot: newA.location,
        maximumDuration: "30m",
      }),
      expect.objectContaining({ phase: "starting", snapshot: b.location }),
    ]);
    expect(jobs[0]?.deadline).toBe("2026-12-01T10:30:00.000Z");
    expect(world.steps.sent).toHaveLength(2);
  });

  it("admits at most maxConcurrent open tests, counting those still open, and defers the rest", async () => {
    const world = verificationWorld();
    const a = checkpoint({ simulation: "sim-a" });
    const b = checkpoint({ simulation: "sim-b" });
    const c = checkpoint({ simulation: "sim-c" });
    await seed(world, a, b, c);
    // A test from an earlier run still cleaning up: it holds a throwaway.
    await world.jobs.create(
      startJob(
        {
          id: "earlier",
          kind: "verify",
          simulation: "sim-z",
          checkpointId: "cp-z",
          deadline: "2026-12-01T11:00:00.000Z",
          verify: { target: throwawayName("earlier"), phase: "deleting", maximumDuration: "30m" },
        },
        world.clock.now(),
      ),
    );

    const result = await planVerifications(tick(), world);

    expect(result.open).toBe(1);
    expect(result.planned.map((p) => p.outcome)).toEqual(["started", "deferred", "deferred"]);
    expect(world.steps.sent).toHaveLength(1);
  });

  it("takes a repeated tick as the same run: the same jobs, nothing started twice", async () => {
    const world = verificationWorld();
    await seed(world, checkpoint({ simulation: "sim-a" }));
    const first = await planVerifications(tick(), world);
    const again = await planVerifications(tick(), world);
    expect(again.planned).toEqual([{ ...first.planned[0], outcome: "existing" }]);
    // The first step is sent again (dropped as a duplicate if the first one runs).
    expect(world.steps.sent.map((s) => (s.message as VerificationStep).jobId)).toEqual([
      first.planned[0]?.jobId,
      first.planned[0]?.jobId,
    ]);
    expect(await world.jobs.listOpen("sim-a", "verify")).toHaveLength(1);
  });

  it("does not test a checkpoint twice at once", async () => {
    const world = verificationWorld();
    await seed(world, checkpoint({ simulation: "sim-a" }));
    await planVerifications(tick(), world);
    const next = await planVerifications(
      tick({ scheduledTime: "2026-12-01T10:05:00.000Z" }),
      world,
    );
    expect(next.planned.map((p) => p.outcome)).toEqual(["busy"]);
  });

  it("adds favorites and a sample that is the same for the same slot", async () => {
    const world = verificationWorld();
    const cps = Array.from({ length: 6 }, (_, i) =>
      checkpoint({
        simulation: "sim-a",
        createdAt: `2026-12-01T0${i}:00:00.000Z`,
        favorite: i === 1,
      }),
    );
    await seed(world, ...cps);
    const choose = { latest: true, favorites: true, sample: 2 };
    const run = await planVerifications(tick({ checkpoints: choose, maxConcurrent: 10 }), world);
    expect(run.planned.map((p) => p.reason)).toEqual(["latest", "favorite", "sample", "sample"]);
    expect(run.planned[0]?.checkpointId).toBe(cps[5]?.id);
    expect(run.planned[1]?.checkpointId).toBe(cps[1]?.id);

    const twin = verificationWorld();
    await seed(twin, ...cps);
    const same = await planVerifications(tick({ checkpoints: choose, maxConcurrent: 10 }), twin);
    expect(same.planned.map((p) => p.checkpointId)).toEqual(run.planned.map((p) => p.checkpointId));
  });

  it("skips, with the reason, a provider that cannot host a restore test; it branches on capabilities", async () => {
    const world = verificationWorld();
    // The same provider name, declared without restoreTest: the capability alone decides.
    world.platform.capabilities = { ...world.platform.capabilities, restoreTest: undefined };
    await seed(world, checkpoint({ simulation: "sim-a" }));
    const result = await planVerifications(tick(), world);
    expect(result.planned).toEqual([]);
    expect(result.skipped).toEqual([
      {
        simulation: "sim-a",
        provider: "fake",
        reason: expect.stringContaining("cannot host a restore test") as unknown as string,
      },
    ]);
  });

  it("never tests the checkpoints of a throwaway simulation", async () => {
    const world = verificationWorld();
    await seed(world, checkpoint({ simulation: throwawayName("some-job") }));
    expect((await planVerifications(tick(), world)).planned).toEqual([]);
  });

  it("reads the input the verification schedule sends, as in test/events/scheduler/verification-tick.json", () => {
    expect(VerificationTickSchema.parse(tickSample)).toMatchObject({
      schedule: "verify-checkpoints",
      maxConcurrent: 2,
      checkpoints: { latest: true, favorites: false, sample: 0 },
    });
  });
});

describe("snapshot schedules and throwaway simulations", () => {
  it("never snapshot a restore test's throwaway simulation, though the selector matches it", async () => {
    const provider = new FakeProvider({ "sim-a": "STARTED", [throwawayName("j")]: "STARTED" });
    const requests = new MemoryQueue<SnapshotRequest>();
    const result = await planSnapshots(
      { schedule: "hourly", scheduledTime: "2026-12-01T10:00:00Z", selector: { names: ["*"] } },
      {
        providers: directoryOf([provider]),
        requests,
        stops: new MemoryQueue<StopRequestedEvent>(),
      },
    );
    expect(result.requested).toEqual(["sim-a"]);
  });
});
