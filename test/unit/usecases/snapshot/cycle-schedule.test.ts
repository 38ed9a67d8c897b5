import { describe, expect, it } from "vitest";
import type { Job } from "../../../../lib/domain/job.ts";
import { StopRequestedEventSchema } from "../../../../lib/domain/messages.ts";
import { heldCheckpointId } from "../../../../lib/domain/platform-checkpoint.ts";
import { restoreJobId } from "../../../../lib/domain/restore.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { runStatusCheck } from "../../../../lib/usecases/jobs/run-status-check.ts";
import { sweepJobs } from "../../../../lib/usecases/jobs/sweep-jobs.ts";
import {
  advanceRestore,
  restartFromCheckpoint,
} from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import {
  planSnapshots,
  scheduledRequestId,
} from "../../../../lib/usecases/snapshot/plan-snapshots.ts";
import { cycleRestartToken } from "../../../../lib/usecases/stop/checkpoint-on-stop.ts";
import {
  requestStop,
  stopJobId,
  stopRequestFromEvent,
} from "../../../../lib/usecases/stop/request-stop.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { FakePlatformProvider } from "../../../support/fake-platform-provider.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { documented, platformWorld, type PlatformWorld } from "../../../support/platform-world.ts";

const tick = { schedule: "nightly", scheduledTime: "2026-12-01T02:00:00Z" };
const cycle = { ...tick, action: "cycle" as const };
const requestId = scheduledRequestId(tick, "air-sim");
const idOf = (platformId: string) => heldCheckpointId("platform", platformId);

const stopJob = async (world: PlatformWorld): Promise<Job> =>
  (await world.jobs.get(stopJobId(requestId))) as Job;

/** Delivers what plan-snapshots sent to the stop-requests queue, as request-stop's handler does. */
async function deliverStops(world: PlatformWorld) {
  const results = [];
  for (const { message } of world.stops.sent.splice(0)) {
    const event = StopRequestedEventSchema.parse(JSON.parse(JSON.stringify(message)));
    results.push(await requestStop(stopRequestFromEvent(event), world));
  }
  return results;
}

/** Runs the next status check at its due time, as the delayed message would. */
async function nextCheck(world: PlatformWorld) {
  const sent = world.statusChecks.sent.shift();
  if (!sent) throw new Error("no status check was sent");
  world.clock.set(sent.message.dueAt);
  return runStatusCheck(sent.message, world);
}

/** Runs the queued restore steps at their due times until none is left. */
async function drainRestore(world: PlatformWorld) {
  const results = [];
  for (let i = 0; i < 20; i++) {
    const sent = world.restoreSteps.sent.shift();
    if (!sent) break;
    world.clock.set(sent.message.dueAt);
    results.push(await advanceRestore(sent.message, world));
  }
  return results;
}

/** The one checkpoint the cycle's stop produced on the platform. */
function produced(world: PlatformWorld) {
  const made = [...world.platform.held.values()].filter((c) => c.name === "air-sim shutdown");
  if (made.length !== 1) throw new Error(`${made.length} checkpoints were made by stopping`);
  return made[0]!;
}

const calls = (world: PlatformWorld, operation: string) =>
  world.platform.calls.filter((c) => c.startsWith(`${operation}:`));

describe("a schedule with action cycle", () => {
  it("stops a simulation with a checkpoint, then starts it again from exactly that checkpoint", async () => {
    const world = platformWorld();
    const older = world.platform.seed("air-sim", { name: "last week" });
    world.clock.advance(60_000);

    const planned = await planSnapshots(cycle, world);

    expect(planned).toEqual({ requested: ["sim-a"], cycled: ["air-sim"], skipped: [] });
    expect(world.stops.sent.map((s) => s.message)).toEqual([
      expect.objectContaining({
        id: requestId,
        detail: expect.objectContaining({
          simulation: "air-sim",
          snapshot: true,
          requestId,
          then: "restart",
        }),
      }),
    ]);
    expect(await deliverStops(world)).toEqual([expect.objectContaining({ outcome: "requested" })]);
    expect(await stopJob(world)).toMatchObject({
      stop: { then: "restart", checkpointOnStop: true },
    });

    expect(await nextCheck(world)).toMatchObject({ outcome: "waiting" });
    world.platform.finishSaving("air-sim");
    const checkpointId = idOf(produced(world).id);
    const restartJobId = restoreJobId(checkpointId, cycleRestartToken(stopJobId(requestId)));
    expect(await nextCheck(world)).toMatchObject({
      outcome: "stopped",
      checkpointId,
      restartJobId,
    });

    expect(await stopJob(world)).toMatchObject({
      status: "SUCCEEDED",
      checkpointId,
      stop: { then: "restart", restartJobId },
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "SUCCEEDED" },
        {
          name: "restart-simulation",
          status: "SUCCEEDED",
          message: expect.stringContaining(restartJobId),
        },
      ],
    });
    expect((await drainRestore(world)).at(-1)).toMatchObject({ outcome: "succeeded" });

    // Started from the checkpoint this cycle saved, named by id: never the older one.
    expect(calls(world, "restore")).toEqual([`restore:${produced(world).id}:same:air-sim`]);
    expect(produced(world).id).not.toBe(older.id);
    expect(world.platform.statuses.get("air-sim")).toBe("STARTED");
    expect(await world.jobs.get(restartJobId)).toMatchObject({
      kind: "restore",
      status: "SUCCEEDED",
      checkpointId,
      restore: { target: "air-sim", into: "same", from: "platform" },
    });
    expect(
      world.events.events.map((e) => [e.detailType, e.detail.checkpointId ?? e.detail.checkpoint]),
    ).toEqual([
      ["Checkpoint Completed", expect.objectContaining({ id: idOf(older.id) })],
      ["Checkpoint Completed", expect.objectContaining({ id: checkpointId, trigger: "shutdown" })],
      ["Restore Requested", checkpointId],
      ["Simulation Stopped", checkpointId],
      ["Checkpoint Restored", checkpointId],
    ]);
    documented(world.events.events);
  });

  it("is one cycle when the tick, the stop request and the checks are delivered twice", async () => {
    const world = platformWorld();

    await planSnapshots(cycle, world);
    await planSnapshots(cycle, world);
    expect(world.stops.sent).toHaveLength(2);
    const [first, second] = await deliverStops(world);
    expect(first).toMatchObject({ outcome: "requested" });
    expect(second).toMatchObject({ outcome: "duplicate", jobId: first!.jobId });

    await nextCheck(world);
    world.platform.finishSaving("air-sim");
    const last = world.statusChecks.sent[0]!.message;
    expect(await nextCheck(world)).toMatchObject({ outcome: "stopped" });
    expect(await runStatusCheck(last, world)).toEqual({ job: "stop", outcome: "stale" });
    await drainRestore(world);
    // The same slot's tick delivered once the simulation runs again finds the finished stop.
    expect(await planSnapshots(cycle, world)).toMatchObject({ cycled: ["air-sim"] });
    expect(await deliverStops(world)).toEqual([
      expect.objectContaining({ outcome: "duplicate", status: "SUCCEEDED" }),
    ]);

    expect(calls(world, "stopWithCheckpoint")).toHaveLength(1);
    expect(calls(world, "restore")).toHaveLength(1);
    expect((await world.jobs.listOpen("air-sim")).map((j) => j.kind)).toEqual([]);
    expect(
      world.events.events.filter((e) => e.detailType === "Restore Requested").map((e) => e.detail),
    ).toHaveLength(1);
  });

  it("finishes with the restart already requested when a check crashed before saving the stop", async () => {
    const world = platformWorld();
    await planSnapshots(cycle, world);
    await deliverStops(world);
    await nextCheck(world);
    world.platform.finishSaving("air-sim");
    const check = world.statusChecks.sent[0]!.message;
    // The first delivery requests the restart, then crashes before the stop is saved.
    const save = world.jobs.save.bind(world.jobs);
    world.jobs.save = async (job) => {
      if (job.kind === "stop" && job.status === "SUCCEEDED") throw new Error("crashed");
      return save(job);
    };
    await expect(nextCheck(world)).rejects.toThrow("crashed");
    world.jobs.save = save;
    expect(await stopJob(world)).toMatchObject({ status: "RUNNING" });
    // The restart ran meanwhile, so the simulation already runs when the check is redelivered.
    await drainRestore(world);
    expect(world.platform.statuses.get("air-sim")).toBe("STARTED");

    expect(await runStatusCheck(check, world)).toMatchObject({ outcome: "stopped" });

    expect((await stopJob(world)).steps?.at(-1)).toMatchObject({
      name: "restart-simulation",
      status: "SUCCEEDED",
    });
    expect(calls(world, "restore")).toHaveLength(1);
  });

  it("leaves the simulation stopped, fails the stop and says so when its checkpoint is ambiguous", async () => {
    const world = platformWorld();
    world.platform.seed("air-sim", { name: "last week" });
    world.clock.advance(60_000);
    await planSnapshots(cycle, world);
    await deliverStops(world);
    // Someone else's checkpoint after simsnap's call: which one the stop saved is not known.
    world.platform.finishSaving("air-sim");
    world.platform.seed("air-sim", { name: "someone else's" });

    expect(await nextCheck(world)).toMatchObject({ outcome: "failed" });

    expect(await stopJob(world)).toMatchObject({
      status: "FAILED",
      error: {
        code: "FinalCheckpointAmbiguous",
        message: expect.stringContaining("was not started again"),
      },
    });
    expect(world.platform.statuses.get("air-sim")).toBe("STOPPED");
    expect(calls(world, "restore")).toEqual([]);
    expect(world.restoreSteps.sent).toEqual([]);
    const failure = world.events.events.find((e) => e.detailType === "Simulation Stop Failed");
    expect(failure?.detail).toMatchObject({
      simulation: "air-sim",
      error: { message: expect.stringContaining("never from an older one") },
    });
    documented(world.events.events);
  });

  it("does not restart from anything when the platform deletes the checkpoint before it completes", async () => {
    const world = platformWorld();
    world.platform.seed("air-sim", { name: "last week" });
    await planSnapshots(cycle, world);
    await deliverStops(world);
    await nextCheck(world);
    world.platform.deleteItself(produced(world).id);

    expect(await nextCheck(world)).toMatchObject({ outcome: "failed" });

    expect(await stopJob(world)).toMatchObject({
      status: "FAILED",
      error: { code: "FinalCheckpointLost", message: expect.stringContaining("not started again") },
    });
    expect(calls(world, "restore")).toEqual([]);
    expect(world.events.events.map((e) => e.detailType)).toContain("Simulation Stop Failed");
  });

  it("says so too when the sweeper fails it at its deadline", async () => {
    const world = platformWorld();
    await planSnapshots(cycle, world);
    await deliverStops(world);
    world.clock.set((await stopJob(world)).deadline!);

    const { swept } = await sweepJobs({
      ...world,
      finalSnapshots: new MemoryQueue(),
      verificationSteps: new MemoryQueue(),
      deadlines: { snapshot: world.timing, restoreDeadlineSeconds: 3600 },
      grace: {
        statusCheck: 60,
        snapshotRequest: 300,
        restoreStep: 120,
        finalSnapshot: 60,
        verificationStep: 120,
      },
    });

    expect(swept).toEqual([expect.objectContaining({ action: "failed", status: "FAILED" })]);
    expect(await stopJob(world)).toMatchObject({
      error: { code: "DeadlineExceeded", message: expect.stringContaining("not started again") },
    });
  });

  it("waits for a simulation still STOPPING after its checkpoint is COMPLETE, then restarts it", async () => {
    const world = platformWorld();
    await planSnapshots(cycle, world);
    await deliverStops(world);
    await nextCheck(world);
    world.platform.finishSaving("air-sim");
    world.platform.statuses.set("air-sim", "STOPPING");

    expect(await nextCheck(world)).toMatchObject({ outcome: "waiting" });
    expect(world.restoreSteps.sent).toEqual([]);
    world.platform.statuses.set("air-sim", "STOPPED");
    expect(await nextCheck(world)).toMatchObject({ outcome: "stopped" });
    expect((await drainRestore(world)).at(-1)).toMatchObject({ outcome: "succeeded" });
    expect(calls(world, "restore")).toEqual([`restore:${produced(world).id}:same:air-sim`]);
  });

  it("leaves a tick that comes while its last restart is unconfirmed to the next tick", async () => {
    const world = platformWorld();
    await planSnapshots(cycle, world);
    await deliverStops(world);
    await nextCheck(world);
    world.platform.finishSaving("air-sim");
    const { restartJobId } = (await nextCheck(world)) as { restartJobId: string };
    // The restart's first step starts the simulation; its check that it runs is still to come.
    const first = world.restoreSteps.sent.shift()!.message;
    world.clock.set(first.dueAt);
    expect(await advanceRestore(first, world)).toMatchObject({ phase: "waiting" });
    expect(world.platform.statuses.get("air-sim")).toBe("STARTED");

    const soon = { ...cycle, scheduledTime: "2026-12-01T02:00:02Z" };
    expect(await planSnapshots(soon, world)).toMatchObject({ cycled: ["air-sim"] });
    expect(await deliverStops(world)).toEqual([
      expect.objectContaining({ outcome: "restart-pending", jobId: restartJobId }),
    ]);
    expect(await world.jobs.get(stopJobId(scheduledRequestId(soon, "air-sim")))).toBeUndefined();
    expect(calls(world, "stopWithCheckpoint")).toHaveLength(1);
    expect((await drainRestore(world)).at(-1)).toMatchObject({ outcome: "succeeded" });

    // Confirmed running, the simulation is cycled again by the next tick.
    await planSnapshots({ ...cycle, scheduledTime: "2026-12-01T02:00:04Z" }, world);
    expect(await deliverStops(world)).toEqual([expect.objectContaining({ outcome: "requested" })]);
    expect(calls(world, "stopWithCheckpoint")).toHaveLength(2);
  });

  it("leaves running a simulation someone else started meanwhile", async () => {
    const world = platformWorld();
    await planSnapshots(cycle, world);
    await deliverStops(world);
    await nextCheck(world);
    world.platform.finishSaving("air-sim");
    world.platform.statuses.set("air-sim", "STARTED");

    expect(await nextCheck(world)).toMatchObject({ outcome: "stopped" });

    expect((await stopJob(world)).steps?.at(-1)).toMatchObject({
      name: "restart-simulation",
      status: "SKIPPED",
      message: expect.stringContaining("started outside this cycle"),
    });
    expect(world.restoreSteps.sent).toEqual([]);
    expect(calls(world, "restore")).toEqual([]);
  });

  it("snapshots a SimSpace Weaver simulation as usual: stopping it would gain nothing", async () => {
    const world = platformWorld({});

    expect(await planSnapshots(cycle, world)).toEqual({
      requested: ["sim-a"],
      cycled: [],
      skipped: [],
    });
    expect(world.requests.sent.map((s) => s.message)).toEqual([
      expect.objectContaining({
        requestId: scheduledRequestId(tick, "sim-a"),
        simulation: "sim-a",
        trigger: "schedule",
      }),
    ]);
    expect(world.stops.sent).toEqual([]);
    expect(world.provider.stopCalls).toEqual([]);
  });

  it("skips, with the reason, a platform that cannot start a simulation from its own checkpoint", async () => {
    const world = platformWorld();
    const cloneOnly = new FakePlatformProvider(world.clock, { "clone-sim": "STARTED" }, "clones");
    Object.assign(cloneOnly.capabilities, {
      restoreInto: { newSimulation: true, sameSimulation: false, prefix: false },
    });

    const planned = await planSnapshots(cycle, {
      ...world,
      providers: directoryOf([world.provider, world.platform, cloneOnly]),
    });

    expect(planned).toEqual({
      requested: ["sim-a"],
      cycled: ["air-sim"],
      skipped: [
        {
          simulation: "clone-sim",
          provider: "clones",
          reason: expect.stringContaining("cannot start a simulation again"),
        },
      ],
    });
    expect(world.stops.sent.map((s) => s.message.detail.simulation)).toEqual(["air-sim"]);
  });

  it("is never what a schedule without an action does", async () => {
    const world = platformWorld();

    const planned = await planSnapshots(tick, world);

    expect(planned).toMatchObject({
      cycled: [],
      skipped: [{ simulation: "air-sim", reason: expect.stringContaining("action is snapshot") }],
    });
    expect(world.stops.sent).toEqual([]);
  });
});

describe("a stop request with then restart", () => {
  const request = (overrides: object) => ({
    requestId: "ops-1",
    simulation: "sim-a",
    snapshot: true,
    force: false,
    then: "restart" as const,
    ...overrides,
  });

  it("is refused, without stopping, on a platform that cannot start the simulation from it", async () => {
    const world = platformWorld();

    expect(await requestStop(request({}), world)).toMatchObject({ outcome: "failed" });

    const refused = (await world.jobs.get(stopJobId("ops-1"))) as Job;
    expect(refused).toMatchObject({
      status: "FAILED",
      error: { code: "CycleUnsupported", message: expect.stringContaining("was not stopped") },
      steps: [{ name: "final-snapshot", status: "SKIPPED" }],
    });
    expect(refused.checkpointId).toBeUndefined();
    expect(world.provider.stopCalls).toEqual([]);
    expect(world.requests.sent).toEqual([]);
  });

  it("is refused without a checkpoint to restart from", async () => {
    const world = platformWorld();

    const refused = await requestStop(request({ simulation: "air-sim", snapshot: false }), world);

    expect(refused).toMatchObject({ outcome: "failed" });
    expect(world.platform.statuses.get("air-sim")).toBe("STARTED");
    expect(calls(world, "stopSimulation")).toEqual([]);
  });

  it("leaves a simulation that is already asleep as it is", async () => {
    const world = platformWorld({ "air-sim": "STOPPED" });

    expect(await requestStop(request({ simulation: "air-sim" }), world)).toMatchObject({
      outcome: "stopped",
    });
    expect(world.restoreSteps.sent).toEqual([]);
    expect(world.platform.statuses.get("air-sim")).toBe("STOPPED");
  });

  it("restarts only from a platform's own checkpoint, never a snapshot file", async () => {
    const world = platformWorld();
    await world.checkpoints.create(checkpoint({ id: "file-1", simulation: "sim-a" }));

    await expect(
      restartFromCheckpoint({ checkpointId: "file-1", clientToken: "t-1" }, world),
    ).rejects.toThrow("is a snapshot file");
    await expect(
      restartFromCheckpoint({ checkpointId: "missing", clientToken: "t-1" }, world),
    ).rejects.toThrow("does not exist");
    expect(world.restoreSteps.sent).toEqual([]);
  });
});
