import { describe, expect, it } from "vitest";
import { ConflictError, ProviderError } from "../../../../lib/domain/errors.ts";
import type { Job } from "../../../../lib/domain/job.ts";
import {
  FinalSnapshotEventSchema,
  type FinalSnapshotEvent,
} from "../../../../lib/domain/messages.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { matchesPattern } from "../../../../lib/local/event-pattern.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { topology } from "../../../../lib/topology.ts";
import { runStatusCheck } from "../../../../lib/usecases/jobs/run-status-check.ts";
import { sweepJobs } from "../../../../lib/usecases/jobs/sweep-jobs.ts";
import { finishStop } from "../../../../lib/usecases/stop/finish-stop.ts";
import { requestStop, stopJobId } from "../../../../lib/usecases/stop/request-stop.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const stop = (overrides: Partial<Parameters<typeof requestStop>[0]> = {}) => ({
  requestId: "req-1",
  simulation: "air-sim",
  snapshot: true,
  force: false,
  ...overrides,
});

const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

const job = async (world: PlatformWorld, requestId = "req-1"): Promise<Job> =>
  (await world.jobs.get(stopJobId(requestId))) as Job;

/** Runs the next status check the queue holds, at its due time, as the delayed message would. */
async function nextCheck(world: PlatformWorld) {
  const sent = world.statusChecks.sent.shift();
  if (!sent) throw new Error("no status check was sent");
  world.clock.set(sent.message.dueAt);
  return runStatusCheck(sent.message, world);
}

/** The one checkpoint the platform's stop call produced. */
function produced(world: PlatformWorld) {
  const made = [...world.platform.held.values()].filter((c) => c.name === "air-sim shutdown");
  if (made.length !== 1) throw new Error(`${made.length} checkpoints were made by stopping`);
  return made[0]!;
}

describe("a stop through a platform that checkpoints while stopping", () => {
  it("calls its stop with a checkpoint, re-checks until the checkpoint is COMPLETE, and publishes as a SimSpace Weaver stop", async () => {
    const world = platformWorld();
    const before = world.platform.seed("air-sim", { name: "last week" });
    world.clock.advance(60_000);

    const requested = await requestStop(stop({ reason: "maintenance" }), world);

    expect(requested).toMatchObject({ outcome: "requested", status: "RUNNING" });
    expect(world.platform.calls.filter((c) => c.startsWith("stopWithCheckpoint"))).toEqual([
      "stopWithCheckpoint:air-sim",
    ]);
    expect(world.requests.sent).toEqual([]);
    const started = await job(world);
    expect(started).toMatchObject({
      provider: "platform",
      stop: {
        checkpointOnStop: true,
        call: {
          calledAt: world.clock.now().toISOString(),
          newestBefore: before.created.toISOString(),
          acceptedAt: world.clock.now().toISOString(),
        },
      },
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "RUNNING" },
      ],
    });
    expect(world.statusChecks.sent).toEqual([
      { message: { jobId: started.id, check: 0, dueAt: started.nextCheckAt }, delaySeconds: 10 },
    ]);

    // Saving takes a while: the check finds the checkpoint PENDING and comes back later.
    expect(await nextCheck(world)).toMatchObject({ job: "stop", outcome: "waiting" });
    const checkpointId = idOf(produced(world).id);
    expect(await job(world)).toMatchObject({ checkpointId, status: "RUNNING" });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "PENDING",
      trigger: "shutdown",
      jobId: started.id,
      description: "maintenance",
    });

    world.platform.finishSaving("air-sim");
    expect(await nextCheck(world)).toMatchObject({ outcome: "stopped", checkpointId });

    expect(await job(world)).toMatchObject({
      status: "SUCCEEDED",
      checkpointId,
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "SUCCEEDED" },
      ],
    });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "COMPLETE",
      trigger: "shutdown",
      platformId: produced(world).id,
      provider: "platform",
    });
    expect(await world.checkpoints.get(idOf(before.id))).toMatchObject({ trigger: "discovered" });
    expect(world.events.events.map((e) => [e.detailType, e.detail.checkpoint ?? e.detail])).toEqual(
      [
        ["Checkpoint Completed", expect.objectContaining({ id: idOf(before.id) })],
        [
          "Checkpoint Completed",
          expect.objectContaining({ id: checkpointId, trigger: "shutdown" }),
        ],
        [
          "Simulation Stopped",
          expect.objectContaining({
            finalSnapshot: "COMPLETE",
            checkpointId,
            alreadyStopped: false,
          }),
        ],
      ],
    );
    documented(world.events.events);
    expect(world.statusChecks.sent).toEqual([]);
  });

  it("is not finish-stop's: its shutdown checkpoint's Completed event is ignored there", async () => {
    const world = platformWorld();
    await requestStop(stop(), world);
    await nextCheck(world);
    world.platform.finishSaving();
    // The job is still RUNNING when the event is delivered first.
    const { checkpointId } = await job(world);
    const record = (await world.checkpoints.get(checkpointId!))!;
    await world.checkpoints.save({
      ...record,
      state: "COMPLETE",
      version: record.version + 1,
      completedAt: world.clock.now().toISOString(),
    });
    const rule = topology.rules.find((r) => r.name === "final-snapshot-ended")!;
    const envelope: FinalSnapshotEvent = FinalSnapshotEventSchema.parse({
      source: "simsnap",
      "detail-type": "Checkpoint Completed",
      detail: {
        version: "1",
        checkpoint: { ...(await world.checkpoints.get(checkpointId!)), state: "COMPLETE" },
      },
    });
    const pattern = rule.pattern({ snapshotBucket: "snapshots", snapshotPrefixes: [] });
    if (!pattern) throw new Error("the final-snapshot-ended rule is always deployed");
    expect(matchesPattern(pattern, envelope)).toBe(true);

    expect(await finishStop(envelope.detail.checkpoint, world)).toEqual({ outcome: "ignored" });
    expect(await job(world)).toMatchObject({ status: "RUNNING" });
  });

  it("makes one stop call and one checkpoint record when every handler runs twice", async () => {
    const world = platformWorld();
    await requestStop(stop(), world);
    expect(await requestStop(stop(), world)).toMatchObject({ outcome: "duplicate" });
    const first = world.statusChecks.sent[0]!.message;

    await nextCheck(world);
    expect(await runStatusCheck(first, world)).toEqual({ job: "stop", outcome: "stale" });
    world.platform.finishSaving();
    const second = world.statusChecks.sent[0]!.message;
    await nextCheck(world);
    expect(await runStatusCheck(second, world)).toEqual({ job: "stop", outcome: "stale" });
    expect(await requestStop(stop(), world)).toMatchObject({
      outcome: "duplicate",
      status: "SUCCEEDED",
    });

    expect(world.platform.calls.filter((c) => c.startsWith("stopWithCheckpoint"))).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("air-sim")).items).toHaveLength(1);
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Completed",
      "Simulation Stopped",
    ]);
  });

  it("calls again after a crash before the platform took the call, never after", async () => {
    const world = platformWorld();
    world.platform.failNext(
      "stopWithCheckpoint",
      new ProviderError("InternalError", "boom", { status: 500 }),
    );
    await expect(requestStop(stop(), world)).rejects.toThrow("boom");
    const claimed = await job(world);
    expect(claimed.stop?.call).toMatchObject({ calledAt: expect.any(String) });
    expect(claimed.stop?.call?.acceptedAt).toBeUndefined();

    // The redelivered request finds the simulation still running: the call is made again.
    expect(await requestStop(stop(), world)).toMatchObject({ outcome: "duplicate" });
    expect(world.platform.calls.filter((c) => c.startsWith("stopWithCheckpoint"))).toHaveLength(2);
    expect((await job(world)).stop?.call?.acceptedAt).toBeDefined();

    // A crash after the platform took the call: the simulation is already stopping.
    const other = platformWorld();
    const call = other.platform.stopWithCheckpoint.bind(other.platform);
    other.platform.stopWithCheckpoint = async (name) => {
      await call(name);
      other.platform.stopWithCheckpoint = call;
      throw new Error("crashed right after the call");
    };
    await expect(requestStop(stop(), other)).rejects.toThrow("crashed");
    await expect(requestStop(stop(), other)).resolves.toMatchObject({ outcome: "duplicate" });
    expect(other.platform.calls.filter((c) => c.startsWith("stopWithCheckpoint"))).toHaveLength(1);
    expect(await job(other)).toMatchObject({
      steps: [
        {
          name: "stop-simulation",
          status: "SUCCEEDED",
          message: expect.stringContaining("STOPPING"),
        },
        { name: "final-snapshot", status: "RUNNING" },
      ],
    });
  });

  it("fails, recording less, when two checkpoints were created after the call", async () => {
    const world = platformWorld();
    await requestStop(stop(), world);
    // Someone else stopped and started it again meanwhile: another checkpoint after the call.
    world.platform.finishSaving();
    const other = world.platform.seed("air-sim", { name: "someone else's" });

    expect(await nextCheck(world)).toMatchObject({ outcome: "failed" });

    const failed = await job(world);
    expect(failed).toMatchObject({
      status: "FAILED",
      error: { code: "FinalCheckpointAmbiguous", message: expect.stringContaining(other.id) },
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "FAILED" },
      ],
    });
    expect(failed.checkpointId).toBeUndefined();
    for (const id of [produced(world).id, other.id]) {
      expect(await world.checkpoints.get(idOf(id))).toMatchObject({ trigger: "discovered" });
    }
    expect(world.events.events.map((e) => e.detailType)).toContain("Simulation Stop Failed");
    documented(world.events.events);
  });

  it("fails when the platform deletes the checkpoint before it completes", async () => {
    const world = platformWorld();
    await requestStop(stop(), world);
    await nextCheck(world);
    world.platform.deleteItself(produced(world).id);

    expect(await nextCheck(world)).toMatchObject({ outcome: "failed" });

    expect(await job(world)).toMatchObject({
      status: "FAILED",
      error: {
        code: "FinalCheckpointLost",
        message: expect.stringContaining("deleted by the platform"),
      },
    });
    expect(await world.checkpoints.get(idOf(produced(world).id))).toMatchObject({
      state: "FAILED",
      error: { code: "DeletedByPlatform" },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Checkpoint Failed",
      "Simulation Stop Failed",
    ]);
    documented(world.events.events);
  });

  it("fails at its deadline when the checkpoint never completes", async () => {
    const world = platformWorld();
    await requestStop(stop(), world);
    const { deadline } = await job(world);

    let result: Awaited<ReturnType<typeof nextCheck>> | undefined;
    for (let i = 0; i < 40 && world.statusChecks.sent.length > 0; i++)
      result = await nextCheck(world);

    expect(result).toMatchObject({ outcome: "failed" });
    expect(world.clock.now().toISOString()).toBe(deadline);
    expect(await job(world)).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded", message: expect.stringContaining("was still PENDING") },
    });
  });

  it("is re-driven by the sweeper when its check was lost, and failed by it past the deadline", async () => {
    const world = platformWorld();
    const sweep = {
      ...world,
      finalSnapshots: new MemoryQueue<FinalSnapshotEvent>(),
      verificationSteps: new MemoryQueue(),
      deadlines: { snapshot: world.timing, restoreDeadlineSeconds: 3600 },
      grace: {
        statusCheck: 60,
        snapshotRequest: 300,
        restoreStep: 120,
        finalSnapshot: 60,
        verificationStep: 120,
      },
    };
    await requestStop(stop(), world);
    const lost = world.statusChecks.sent.shift()!.message;

    world.clock.set(new Date(Date.parse(lost.dueAt) + 59_000));
    expect((await sweepJobs(sweep)).swept).toEqual([]);
    world.clock.advance(1_000);
    expect((await sweepJobs(sweep)).swept).toEqual([
      expect.objectContaining({ action: "resent", step: "status-check", kind: "stop" }),
    ]);
    expect(await nextCheck(world)).toMatchObject({ job: "stop", outcome: "waiting" });

    world.clock.set((await job(world)).deadline!);
    expect((await sweepJobs(sweep)).swept).toEqual([
      expect.objectContaining({ action: "failed", status: "FAILED" }),
    ]);
    expect(await job(world)).toMatchObject({
      status: "FAILED",
      error: {
        code: "DeadlineExceeded",
        message: expect.stringContaining("waiting for the platform's final checkpoint"),
      },
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "FAILED" },
      ],
    });
  });

  it("fails and leaves the simulation as it is when the platform refuses the call; retries a conflict", async () => {
    const world = platformWorld();
    world.platform.failNext(
      "stopWithCheckpoint",
      new ProviderError("Forbidden", "the token lacks simulation_start_stop", { status: 403 }),
    );

    expect(await requestStop(stop(), world)).toMatchObject({ outcome: "failed" });
    expect(await job(world)).toMatchObject({
      status: "FAILED",
      error: { code: "Forbidden", message: expect.stringContaining("simulation_start_stop") },
      steps: [{ name: "stop-simulation", status: "FAILED" }],
    });
    expect(world.platform.statuses.get("air-sim")).toBe("STARTED");
    documented(world.events.events);

    const busy = platformWorld();
    busy.platform.failNext(
      "stopWithCheckpoint",
      new ProviderError("ConflictException", "busy", { status: 409, retryable: false }),
    );
    await expect(requestStop(stop(), busy)).rejects.toMatchObject({ retryable: true });
    expect(await job(busy)).toMatchObject({ status: "RUNNING" });
  });
});

describe("a stop, by the simulation's provider", () => {
  it("keeps SimSpace Weaver's snapshot-then-stop for a provider that snapshots running simulations", async () => {
    const world = platformWorld();

    await requestStop(stop({ simulation: "sim-a" }), world);

    expect(await job(world)).toMatchObject({
      provider: "fake",
      steps: [{ name: "final-snapshot", status: "RUNNING" }],
    });
    expect((await job(world)).stop?.checkpointOnStop).toBeUndefined();
    expect(world.requests.sent).toHaveLength(1);
    expect(world.platform.calls).toEqual(["describeSimulation:sim-a"]);
  });

  it("purges without a checkpoint when none is asked for", async () => {
    const world = platformWorld();

    expect(await requestStop(stop({ snapshot: false }), world)).toMatchObject({
      outcome: "stopped",
    });
    expect(world.platform.calls).toContain("stopSimulation:air-sim");
    expect(world.platform.held.size).toBe(0);
  });

  it("refuses a simulation name two platforms know", async () => {
    const world = platformWorld({ "sim-a": "STARTED" });

    await expect(requestStop(stop({ simulation: "sim-a" }), world)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await job(world)).toBeUndefined();
  });

  it("refuses a provider that can take no checkpoint of a running simulation, unless forced", async () => {
    const world = platformWorld();
    const plain = Object.assign(new FakeProvider({ "plain-sim": "STARTED" }), {
      name: "plain",
    });
    Object.assign(plain.capabilities, { snapshotWhileRunning: false });
    const deps = { ...world, providers: directoryOf([plain]) };

    expect(await requestStop(stop({ simulation: "plain-sim" }), deps)).toMatchObject({
      outcome: "failed",
    });
    expect(await job(world)).toMatchObject({ error: { code: "CheckpointUnsupported" } });
    expect(plain.stopCalls).toEqual([]);

    expect(
      await requestStop(stop({ requestId: "req-2", simulation: "plain-sim", force: true }), deps),
    ).toMatchObject({ outcome: "stopped" });
    expect(plain.stopCalls).toEqual(["plain-sim"]);
  });
});
