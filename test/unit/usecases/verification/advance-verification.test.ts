import { describe, expect, it } from "vitest";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import { ProviderError } from "../../../../lib/domain/errors.ts";
import {
  THROWAWAY_TAG,
  VerificationTickSchema,
  type VerificationStep,
} from "../../../../lib/domain/verification.ts";
import { advanceVerification } from "../../../../lib/usecases/verification/advance-verification.ts";
import { planVerifications } from "../../../../lib/usecases/verification/plan-verifications.ts";
import { sweepJobs } from "../../../../lib/usecases/jobs/sweep-jobs.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import {
  drive,
  ScriptedUserCheck,
  verificationWorld,
  type VerificationWorld,
} from "../../../support/verification-world.ts";

const tick = (overrides: Record<string, unknown> = {}) =>
  VerificationTickSchema.parse({
    schedule: "verify-checkpoints",
    scheduledTime: "2026-12-01T10:00:00.000Z",
    maxConcurrent: 2,
    maximumDuration: "30m",
    ...overrides,
  });

async function seeded(world: VerificationWorld, simulation = "sim-a") {
  const cp = checkpoint({ simulation, createdAt: "2026-12-01T09:00:00.000Z" });
  await world.checkpoints.create(cp);
  return cp;
}

/** Plans one run and returns the one job it started. */
async function started(world: VerificationWorld) {
  const result = await planVerifications(tick(), world);
  const jobId = result.planned[0]?.jobId ?? "";
  return { result, jobId };
}

function sweepDeps(world: VerificationWorld) {
  return {
    ...world,
    statusChecks: new MemoryQueue(),
    requests: new MemoryQueue(),
    restoreSteps: new MemoryQueue(),
    finalSnapshots: new MemoryQueue(),
    verificationSteps: world.steps,
    deadlines: {
      snapshot: { deadlineSeconds: 600, conflictRetrySeconds: 5, conflictMaxAttempts: 3 },
      restoreDeadlineSeconds: 3600,
    },
    grace: {
      statusCheck: 60,
      snapshotRequest: 300,
      restoreStep: 120,
      finalSnapshot: 60,
      verificationStep: 120,
    },
  } as Parameters<typeof sweepJobs>[0];
}

function expectDocumentedEvents(world: VerificationWorld) {
  for (const event of world.events.events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS];
    expect(() => schema.parse(event.detail), event.detailType).not.toThrow();
  }
}

describe("a restore test", () => {
  it("restores the checkpoint into a tagged throwaway, passes, records it, and deletes the throwaway", async () => {
    const world = verificationWorld();
    const cp = await seeded(world);
    const { jobId } = await started(world);
    const results = await drive(world);

    expect(results.at(-1)).toMatchObject({ outcome: "passed" });
    const job = await world.jobs.get(jobId);
    expect(job).toMatchObject({ kind: "verify", status: "SUCCEEDED", checkpointId: cp.id });
    const target = job?.verify?.target ?? "";
    expect(target).toMatch(/^simsnap-verify-[0-9a-f]{16}$/);
    expect(world.platform.calls).toEqual(
      expect.arrayContaining([`start ${target}`, `stop ${target}`, `delete ${target}`]),
    );
    expect(world.platform.names()).toEqual([]);
    const recorded = (await world.checkpoints.get(cp.id))?.verification;
    expect(recorded).toMatchObject({ status: "PASSED", jobId });
    expect(recorded?.detail).toContain(
      `started from the checkpoint's file s3://snapshots/${cp.location?.key}`,
    );
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Verified"]);
    expectDocumentedEvents(world);
  });

  it("fails when the throwaway started from another file than the checkpoint's, and still cleans up", async () => {
    const world = verificationWorld();
    const cp = await seeded(world);
    world.platform.startedFromOverride = { bucket: "snapshots", key: "simsnap/snapshot/other.zip" };
    const { jobId } = await started(world);
    await drive(world);

    expect((await world.jobs.get(jobId))?.status).toBe("FAILED");
    const recorded = (await world.checkpoints.get(cp.id))?.verification;
    expect(recorded?.status).toBe("FAILED");
    expect(recorded?.detail).toContain("not from the checkpoint's file");
    expect(world.platform.names()).toEqual([]);
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Verification Failed",
    ]);
    expectDocumentedEvents(world);
  });

  it("fails when the user check fails (e.g. the wrong tick), and still cleans up", async () => {
    const world = verificationWorld();
    const check = new ScriptedUserCheck({
      status: "FAILED",
      detail: "resumed at tick 0, its snapshot recorded tick 57",
    });
    world.deps.userCheck = check;
    const cp = await seeded(world);
    const { jobId } = await started(world);
    await drive(world);

    expect(check.inputs).toEqual([
      expect.objectContaining({ checkpointId: cp.id, simulation: "sim-a", snapshot: cp.location }),
    ]);
    const recorded = (await world.checkpoints.get(cp.id))?.verification;
    expect(recorded?.status).toBe("FAILED");
    expect(recorded?.detail).toContain("user check (scripted check) FAILED: resumed at tick 0");
    expect((await world.jobs.get(jobId))?.error?.code).toBe("VerificationFailed");
    expect(world.platform.names()).toEqual([]);
  });

  it("passes with the user check's detail when it passes", async () => {
    const world = verificationWorld();
    world.deps.userCheck = new ScriptedUserCheck();
    const cp = await seeded(world);
    await started(world);
    await drive(world);
    expect((await world.checkpoints.get(cp.id))?.verification?.detail).toContain(
      "user check (scripted check) PASSED: tick 42 resumed",
    );
  });

  it("fails when the throwaway does not start, and deletes the failed simulation", async () => {
    const world = verificationWorld();
    world.platform.startsAs = "FAILED";
    const cp = await seeded(world);
    await started(world);
    await drive(world);
    expect((await world.checkpoints.get(cp.id))?.verification?.detail).toContain(
      "did not start: it is FAILED",
    );
    expect(world.platform.names()).toEqual([]);
  });

  it("waits out a busy platform (ConflictException) instead of failing the checkpoint for it", async () => {
    const world = verificationWorld();
    const cp = await seeded(world);
    world.platform.startFailure = new ProviderError("ConflictException", "busy", { status: 409 });
    await started(world);
    await drive(world, 4);
    expect((await world.checkpoints.get(cp.id))?.verification).toBeUndefined();
    world.platform.startFailure = undefined;
    await drive(world);
    expect((await world.checkpoints.get(cp.id))?.verification?.status).toBe("PASSED");
    expect(world.platform.names()).toEqual([]);
  });

  it("fails on a refused start without touching anything", async () => {
    const world = verificationWorld();
    world.platform.startFailure = new ProviderError("AccessDeniedException", "no", { status: 403 });
    const cp = await seeded(world);
    await started(world);
    await drive(world);
    expect((await world.checkpoints.get(cp.id))?.verification?.detail).toContain(
      "the restore was refused: AccessDeniedException",
    );
    expect(world.platform.calls.filter((c) => !c.startsWith("describe"))).toEqual([
      expect.stringMatching(/^start /),
    ]);
  });

  it("times out: no verdict by the deadline is FAILED, and the sweeper still has the throwaway cleaned up", async () => {
    const world = verificationWorld();
    world.platform.startsAs = "STARTING";
    const cp = await seeded(world);
    const { jobId } = await started(world);
    await drive(world, 3);
    expect(world.platform.names()).toHaveLength(1);

    // The steps are lost; the clock passes the verdict deadline (the 30m MaximumDuration).
    world.clock.advance(31 * 60_000);
    const sweep = await sweepJobs(sweepDeps(world));
    expect(sweep.swept).toEqual([expect.objectContaining({ jobId, action: "failed" })]);
    expect((await world.jobs.get(jobId))?.verify?.verdict?.detail).toContain("reached no verdict");
    await drive(world);

    expect(world.platform.names()).toEqual([]);
    expect((await world.jobs.get(jobId))?.status).toBe("FAILED");
    expect((await world.checkpoints.get(cp.id))?.verification?.status).toBe("FAILED");
  });

  it("survives a crash between steps: the sweeper re-sends the lost step and the cleanup runs", async () => {
    const world = verificationWorld();
    await seeded(world);
    const { jobId } = await started(world);
    await drive(world, 2); // started, waiting; then the queue loses the next step
    world.steps.sent.length = 0;
    world.clock.advance(5 * 60_000);

    const sweep = await sweepJobs(sweepDeps(world));
    expect(sweep.swept).toEqual([
      expect.objectContaining({ jobId, action: "resent", step: "verification-step" }),
    ]);
    await drive(world);
    expect((await world.jobs.get(jobId))?.status).toBe("SUCCEEDED");
    expect(world.platform.names()).toEqual([]);
  });

  it("takes every step twice as once: one start, one verdict, one event", async () => {
    const world = verificationWorld();
    await seeded(world);
    await started(world);
    for (let i = 0; i < 30 && world.steps.sent.length > 0; i++) {
      const { message } = world.steps.sent.shift() as { message: VerificationStep };
      if (Date.parse(message.dueAt) > world.clock.now().getTime()) world.clock.set(message.dueAt);
      await advanceVerification(message, world.deps);
      // The duplicate delivery of the same step does nothing.
      expect(await advanceVerification(message, world.deps)).toEqual({ outcome: "stale" });
      world.platform.settle();
    }
    expect(world.platform.calls.filter((c) => c.startsWith("start"))).toHaveLength(1);
    expect(world.events.events).toHaveLength(1);
    expect(world.platform.names()).toEqual([]);
  });

  it("survives a crash between recording the verdict and ending the job: the redelivered step ends it", async () => {
    const world = verificationWorld();
    const cp = await seeded(world);
    const { jobId } = await started(world);
    const real = world.jobs;
    let crashed = false;
    world.deps.jobs = Object.assign(Object.create(real) as typeof real, {
      save: async (next: Parameters<typeof real.save>[0]) => {
        if (!crashed && next.status !== "RUNNING") {
          crashed = true;
          throw new Error("the function died");
        }
        return real.save(next);
      },
    });
    await expect(drive(world)).rejects.toThrow("the function died");
    const lost = world.steps.sent.at(-1)?.message as VerificationStep;
    expect((await real.get(jobId))?.status).toBe("RUNNING");
    expect((await world.checkpoints.get(cp.id))?.verification?.jobId).toBe(jobId);

    // The queue delivers the same step again.
    expect(await advanceVerification(lost, world.deps)).toMatchObject({ outcome: "passed" });
    expect((await real.get(jobId))?.status).toBe("SUCCEEDED");
    const recorded = await world.checkpoints.get(cp.id);
    expect(recorded?.version).toBe(cp.version + 1);
    // Published before the job was saved, so published again: subscribers take it as one.
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Verified",
      "Checkpoint Verified",
    ]);
  });

  it("never starts over, stops or deletes a simulation it did not start", async () => {
    const world = verificationWorld();
    const cp = await seeded(world);
    const { result } = await planVerifications(tick(), world).then((r) => ({ result: r }));
    const target = result.planned[0]?.throwaway ?? "";
    // Someone else's simulation has the name already.
    world.platform.simulations.set(target, { status: "STARTED", tags: {} });
    await drive(world);
    expect((await world.checkpoints.get(cp.id))?.verification?.detail).toContain(
      "simsnap did not start it: left alone",
    );
    expect(world.platform.calls.filter((c) => !c.startsWith("describe"))).toEqual([]);
    expect(world.platform.simulations.get(target)?.status).toBe("STARTED");
  });

  it("leaves a simulation under the claimed name alone when it lacks the job's tag", async () => {
    const world = verificationWorld();
    await seeded(world);
    const { jobId } = await started(world);
    await drive(world, 1); // the claim is saved; then someone else's simulation takes the name
    const target = (await world.jobs.get(jobId))?.verify?.target ?? "";
    world.platform.startFailure = new ProviderError("ValidationException", "exists", {
      status: 400,
    });
    world.platform.simulations.set(target, { status: "STARTED", tags: { team: "x" } });
    await drive(world);
    expect(world.platform.simulations.get(target)?.status).toBe("STARTED");
    expect(
      world.platform.calls.filter((c) => c.startsWith("stop") || c.startsWith("delete")),
    ).toEqual([]);
    expect((await world.jobs.get(jobId))?.verify?.cleanupNote).toContain("left it alone");
  });

  it("restores a checkpoint its platform holds by the platform, claims no more than that it started, and deletes the clone", async () => {
    const world = verificationWorld();
    world.platform.holdCheckpoints();
    const cp = checkpoint({ simulation: "sim-a", location: undefined, platformId: "air-cp-1" });
    await world.checkpoints.create(cp);
    const { jobId } = await started(world);
    await drive(world);
    const target = (await world.jobs.get(jobId))?.verify?.target ?? "";
    expect(world.platform.calls).toEqual(
      expect.arrayContaining([
        `restore air-cp-1 into ${target}`,
        `stop ${target}`,
        `delete ${target}`,
      ]),
    );
    expect((await world.checkpoints.get(cp.id))?.verification).toMatchObject({
      status: "PASSED",
      detail: "started (the platform reports nothing more about what it resumed from)",
    });
    expect(world.platform.names()).toEqual([]);
  });

  it("tags the throwaway with its job, so ownership is checked on every cleanup call", async () => {
    const world = verificationWorld();
    await seeded(world);
    const { jobId } = await started(world);
    await drive(world, 2);
    const target = (await world.jobs.get(jobId))?.verify?.target ?? "";
    expect(world.platform.simulations.get(target)?.tags).toEqual({ [THROWAWAY_TAG]: jobId });
  });
});

describe("a restore test of a checkpoint its platform holds (NVIDIA Air's shape)", () => {
  async function platformHeld(world: VerificationWorld) {
    world.platform.holdCheckpoints();
    const cp = checkpoint({ simulation: "sim-a", location: undefined, platformId: "air-cp-1" });
    await world.checkpoints.create(cp);
    return cp;
  }

  it("fails when the user check fails, and still stops and deletes the clone", async () => {
    const world = verificationWorld();
    const userCheck = new ScriptedUserCheck({ status: "FAILED", detail: "booted from scratch" });
    world.deps.userCheck = userCheck;
    const cp = await platformHeld(world);
    const { jobId } = await started(world);
    await drive(world);

    const target = (await world.jobs.get(jobId))?.verify?.target ?? "";
    expect(userCheck.inputs[0]).toMatchObject({ throwaway: target, snapshot: undefined });
    expect(world.platform.calls).toEqual(
      expect.arrayContaining([`stop ${target}`, `delete ${target}`]),
    );
    expect(world.platform.names()).toEqual([]);
    expect((await world.jobs.get(jobId))?.status).toBe("FAILED");
    expect((await world.checkpoints.get(cp.id))?.verification?.detail).toContain(
      "booted from scratch",
    );
  });

  it("times out when the clone never runs: FAILED, and the sweeper still has it deleted", async () => {
    const world = verificationWorld();
    world.platform.startsAs = "STARTING";
    const cp = await platformHeld(world);
    const { jobId } = await started(world);
    await drive(world, 3);
    expect(world.platform.names()).toHaveLength(1);

    world.clock.advance(31 * 60_000);
    await sweepJobs(sweepDeps(world));
    await drive(world);

    expect(world.platform.names()).toEqual([]);
    expect((await world.jobs.get(jobId))?.status).toBe("FAILED");
    expect((await world.checkpoints.get(cp.id))?.verification?.status).toBe("FAILED");
  });

  it("waits while the platform cannot clone yet (its source is running) instead of failing", async () => {
    const world = verificationWorld();
    world.platform.busyRestores = 2;
    const cp = await platformHeld(world);
    const { jobId } = await started(world);
    await drive(world);

    const restores = world.platform.calls.filter((call) => call.startsWith("restore"));
    expect(restores).toHaveLength(3);
    expect((await world.jobs.get(jobId))?.status).toBe("SUCCEEDED");
    expect((await world.checkpoints.get(cp.id))?.verification?.status).toBe("PASSED");
    expect(world.platform.names()).toEqual([]);
  });

  it("takes a clone that exists after a crash for its own start, instead of failing on the taken name", async () => {
    const world = verificationWorld();
    world.platform.crashAfterRestore = true;
    const cp = await platformHeld(world);
    const { jobId } = await started(world);
    const first = world.steps.sent[0]?.message as VerificationStep;
    await expect(advanceVerification(first, world.deps)).rejects.toThrow("died");
    // The queue delivers the same step again.
    await advanceVerification(first, world.deps);
    world.platform.settle();
    await drive(world);

    expect(world.platform.calls.filter((call) => call.startsWith("restore"))).toHaveLength(1);
    expect((await world.jobs.get(jobId))?.status).toBe("SUCCEEDED");
    expect((await world.checkpoints.get(cp.id))?.verification?.status).toBe("PASSED");
    expect(world.platform.names()).toEqual([]);
  });
});
