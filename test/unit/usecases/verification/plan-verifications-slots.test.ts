import { describe, expect, it } from "vitest";
import { succeedJob } from "../../../../lib/domain/job.ts";
import { VerificationTickSchema } from "../../../../lib/domain/verification.ts";
import {
  planVerifications,
  VERIFICATION_SLOTS,
} from "../../../../lib/usecases/verification/plan-verifications.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { verificationWorld, type VerificationWorld } from "../../../support/verification-world.ts";

const tick = (scheduledTime: string) =>
  VerificationTickSchema.parse({
    schedule: "verify-checkpoints",
    scheduledTime,
    maxConcurrent: 2,
    maximumDuration: "30m",
  });

async function worldWith(simulations: number): Promise<VerificationWorld> {
  const world = verificationWorld();
  for (let i = 0; i < simulations; i++) {
    await world.checkpoints.create(checkpoint({ simulation: `sim-${i}` }));
  }
  return world;
}

const openVerifications = async (world: VerificationWorld) =>
  (await world.jobs.listAllOpen({ limit: 100 })).items.filter((job) => job.kind === "verify");

describe("the cost guard under overlapping runs", () => {
  it("two runs at once start no more throwaways than maxConcurrent between them", async () => {
    const world = await worldWith(4);
    // Two slots' ticks overlapping (the first one late): different job ids, one shared limit.
    const [first, second] = await Promise.all([
      planVerifications(tick("2026-12-01T10:00:00.000Z"), world),
      planVerifications(tick("2026-12-01T10:00:20.000Z"), world),
    ]);
    const started = [...first.planned, ...second.planned].filter((p) => p.outcome === "started");
    expect(started).toHaveLength(2);
    expect(await openVerifications(world)).toHaveLength(2);
    expect(world.steps.sent).toHaveLength(2);
    // Each started job holds one slot of its own.
    const holders = (await world.slots.read(VERIFICATION_SLOTS, 2)).map((slot) => slot.holder);
    expect(holders.sort()).toEqual(started.map((p) => p.jobId).sort());
  });

  it("the same tick twice at once starts each job once, on one slot", async () => {
    const world = await worldWith(1);
    const both = await Promise.all([
      planVerifications(tick("2026-12-01T10:00:00.000Z"), world),
      planVerifications(tick("2026-12-01T10:00:00.000Z"), world),
    ]);
    const ids = both.flatMap((r) => r.planned.map((p) => p.jobId));
    expect(new Set(ids).size).toBe(1);
    expect(await openVerifications(world)).toHaveLength(1);
    const holders = (await world.slots.read(VERIFICATION_SLOTS, 2)).map((slot) => slot.holder);
    expect(holders.filter(Boolean)).toHaveLength(1);
  });

  it("a slot comes free when its job ends, and a later run takes it", async () => {
    const world = await worldWith(3);
    const first = await planVerifications(tick("2026-12-01T10:00:00.000Z"), world);
    expect(first.planned.map((p) => p.outcome)).toEqual(["started", "started", "deferred"]);
    const done = await world.jobs.get(first.planned[0]?.jobId ?? "");
    await world.jobs.save(succeedJob(done as NonNullable<typeof done>, world.clock.now()));

    const later = await planVerifications(tick("2026-12-01T10:00:20.000Z"), world);
    const started = later.planned.filter((p) => p.outcome === "started");
    expect(started).toHaveLength(1);
    expect((await world.slots.read(VERIFICATION_SLOTS, 2))[0]?.holder).toBe(started[0]?.jobId);
  });

  it("a slot claimed by a run that died before creating its job is free again after a minute", async () => {
    const world = await worldWith(1);
    const at = world.clock.now().toISOString();
    await world.slots.claim(VERIFICATION_SLOTS, 0, undefined, "lost-job-a", at);
    await world.slots.claim(VERIFICATION_SLOTS, 1, undefined, "lost-job-b", at);

    const now = await planVerifications(tick("2026-12-01T10:00:00.000Z"), world);
    expect(now.planned.map((p) => p.outcome)).toEqual(["deferred"]);

    world.clock.advance(61_000);
    const later = await planVerifications(tick("2026-12-01T10:01:00.000Z"), world);
    expect(later.planned.map((p) => p.outcome)).toEqual(["started"]);
  });
});

describe("which newest checkpoints go first", () => {
  it("the never tested and the least recently proven, so no simulation is starved by the names' order", async () => {
    const world = verificationWorld();
    const proven = checkpoint({
      simulation: "a-proven",
      verification: {
        status: "PASSED",
        at: "2026-12-01T09:59:40.000Z",
        durationMs: 3000,
        detail: "started",
        jobId: "earlier",
      },
    });
    const untested = checkpoint({ simulation: "z-untested" });
    await world.checkpoints.create(proven);
    await world.checkpoints.create(untested);

    const result = await planVerifications(
      VerificationTickSchema.parse({
        schedule: "verify-checkpoints",
        scheduledTime: "2026-12-01T10:00:00.000Z",
        maxConcurrent: 1,
        maximumDuration: "30m",
      }),
      world,
    );
    expect(result.planned.map((p) => [p.simulation, p.outcome])).toEqual([
      ["z-untested", "started"],
      ["a-proven", "deferred"],
    ]);
  });
});
