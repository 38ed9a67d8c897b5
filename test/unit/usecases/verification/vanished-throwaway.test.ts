import { describe, expect, it } from "vitest";
import { VerificationTickSchema } from "../../../../lib/domain/verification.ts";
import { planVerifications } from "../../../../lib/usecases/verification/plan-verifications.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { drive, verificationWorld } from "../../../support/verification-world.ts";

const tick = VerificationTickSchema.parse({
  schedule: "verify-checkpoints",
  scheduledTime: "2026-12-01T10:00:00.000Z",
  maxConcurrent: 2,
  maximumDuration: "30m",
});

/** A world whose platform loses every throwaway started while `losing` is above 0. */
async function losingWorld(losing: number) {
  const w = verificationWorld();
  await w.checkpoints.create(checkpoint({ simulation: "sim-a" }));
  let left = losing;
  const settle = w.platform.settle.bind(w.platform);
  w.platform.settle = () => {
    // The platform dies and comes back without what was starting (the local stack killed).
    for (const [name, sim] of w.platform.simulations) {
      if (sim.status === "STARTING" && left > 0) {
        left -= 1;
        w.platform.simulations.delete(name);
      }
    }
    settle();
  };
  const jobId = (await planVerifications(tick, w)).planned[0]?.jobId ?? "";
  return { w, jobId };
}

describe("a restore test whose throwaway vanishes before it ever ran", () => {
  it("starts it again (the loss says nothing about the checkpoint) and passes", async () => {
    const { w, jobId } = await losingWorld(1);
    const results = await drive(w);

    expect(results.at(-1)).toMatchObject({ outcome: "passed" });
    const job = await w.jobs.get(jobId);
    expect(job?.verify?.restarts).toBe(1);
    const target = job?.verify?.target ?? "";
    expect(w.platform.calls.filter((c) => c === `start ${target}`)).toHaveLength(2);
    expect(w.platform.names()).toEqual([]);
  });

  it("starts it again when it vanished after it ran but before its check", async () => {
    const w = verificationWorld();
    await w.checkpoints.create(checkpoint({ simulation: "sim-a" }));
    const describeSimulation = w.platform.describeSimulation.bind(w.platform);
    let lost = false;
    w.platform.describeSimulation = async (name) => {
      const details = await describeSimulation(name);
      // Seen STARTED by the waiting phase, then lost with the platform before the check.
      if (details.status === "STARTED" && !lost) {
        lost = true;
        w.platform.simulations.delete(name);
      }
      return details;
    };
    const jobId = (await planVerifications(tick, w)).planned[0]?.jobId ?? "";

    expect((await drive(w)).at(-1)).toMatchObject({ outcome: "passed" });
    expect((await w.jobs.get(jobId))?.verify?.restarts).toBe(1);
    expect(w.platform.names()).toEqual([]);
  });

  it("fails once it vanished again after the second start, and says so", async () => {
    const { w, jobId } = await losingWorld(2);
    expect((await drive(w)).at(-1)).toMatchObject({ outcome: "failed" });
    expect((await w.jobs.get(jobId))?.error?.message).toContain(
      "disappeared while starting (started 2 times)",
    );
  });
});
