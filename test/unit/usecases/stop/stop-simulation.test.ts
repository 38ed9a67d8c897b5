import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../../../lib/domain/errors.ts";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import type { Job } from "../../../../lib/domain/job.ts";
import { FinalSnapshotEventSchema, type SnapshotRequest } from "../../../../lib/domain/messages.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { matchesPattern } from "../../../../lib/local/event-pattern.ts";
import type { SimulationStatus } from "../../../../lib/ports/simulation-provider.ts";
import { topology } from "../../../../lib/topology.ts";
import { completeSnapshot } from "../../../../lib/usecases/snapshot/complete-snapshot.ts";
import { finishStop, type FinishStopResult } from "../../../../lib/usecases/stop/finish-stop.ts";
import {
  finalSnapshotRequestId,
  requestStop,
  stopJobId,
} from "../../../../lib/usecases/stop/request-stop.ts";
import { snapshotIdsFor, takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { providerErrors } from "../../../support/fake-provider.ts";
import { MemoryQueue, type MemoryJobStore } from "../../../support/memory.ts";
import { snapshotWorld } from "../../../support/snapshot-world.ts";

function stopWorld(status: SimulationStatus = "STARTED") {
  return { ...snapshotWorld({ "sim-a": status }), requests: new MemoryQueue<SnapshotRequest>() };
}
type StopWorld = ReturnType<typeof stopWorld>;

const stop = (overrides: Partial<Parameters<typeof requestStop>[0]> = {}) => ({
  requestId: "req-1",
  simulation: "sim-a",
  snapshot: true,
  force: false,
  ...overrides,
});

/** What the snapshot-requests queue holds reaches take-snapshot, as the queue would deliver it. */
async function deliverSnapshotRequests(world: StopWorld): Promise<void> {
  for (const { message } of world.requests.sent.splice(0)) await takeSnapshot(message, world);
}

/** The provider writes the snapshot file and S3's event reaches complete-snapshot. */
async function fileAppears(world: StopWorld): Promise<void> {
  const key = snapshotKey("simsnap", "sim-a", world.clock.now());
  await world.objects.put({ bucket: "snapshots", key }, "zip-bytes");
  world.clock.advance(3_000);
  world.provider.statuses.set("sim-a", "STARTED");
  await completeSnapshot({ bucket: "snapshots", key, size: 4096, etag: "e1" }, world);
}

/**
 * Routes the published events through the topology's `final-snapshot-ended` rule to finish-stop,
 * as EventBridge, the final-snapshots queue and the function would.
 */
async function deliverFinalSnapshotEvents(world: StopWorld): Promise<FinishStopResult[]> {
  const rule = topology.rules.find((r) => r.name === "final-snapshot-ended");
  if (!rule) throw new Error("the topology has no final-snapshot-ended rule");
  const pattern = rule.pattern({ snapshotBucket: "snapshots", snapshotPrefixes: ["simsnap"] });
  if (!pattern) throw new Error("the final-snapshot-ended rule is always deployed");
  const results: FinishStopResult[] = [];
  for (const event of [...world.events.events]) {
    const envelope = { source: "simsnap", "detail-type": event.detailType, detail: event.detail };
    if (!matchesPattern(pattern, envelope)) continue;
    const parsed = FinalSnapshotEventSchema.parse(envelope);
    results.push(await finishStop(parsed.detail.checkpoint, world));
  }
  return results;
}

/** Every event the flow published has the documented detail of its detail-type. */
function expectDocumentedEvents(world: StopWorld): void {
  for (const event of world.events.events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS];
    expect(schema, event.detailType).toBeDefined();
    expect(() => schema.parse(event.detail), event.detailType).not.toThrow();
  }
}

/** Records, at the moment StopSimulation is called, what the catalog says of `checkpointId`. */
function watchStopCalls(world: StopWorld, checkpointId: string) {
  const seen: (Checkpoint | undefined)[] = [];
  const stopSimulation = world.provider.stopSimulation.bind(world.provider);
  world.provider.stopSimulation = async (name: string) => {
    seen.push(await world.checkpoints.get(checkpointId));
    await stopSimulation(name);
  };
  return seen;
}

describe("requestStop, then finishStop", () => {
  it("takes a final snapshot, and calls StopSimulation only once its checkpoint is COMPLETE", async () => {
    const world = stopWorld();
    const { checkpointId } = snapshotIdsFor(finalSnapshotRequestId(stopJobId("req-1")));
    const seenAtStop = watchStopCalls(world, checkpointId);

    const requested = await requestStop(stop({ reason: "maintenance" }), world);
    expect(requested.checkpointId).toBe(checkpointId);
    expect(requested).toMatchObject({ outcome: "requested", status: "RUNNING" });
    expect(world.requests.sent.map((s) => s.message)).toEqual([
      expect.objectContaining({ simulation: "sim-a", trigger: "shutdown" }),
    ]);
    expect(world.provider.stopCalls).toEqual([]);

    await deliverSnapshotRequests(world);
    expect(world.provider.stopCalls).toEqual([]);
    await fileAppears(world);
    const results = await deliverFinalSnapshotEvents(world);

    expect(results).toEqual([{ outcome: "stopped", jobId: requested.jobId }]);
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(seenAtStop).toEqual([
      expect.objectContaining({ id: checkpointId, state: "COMPLETE", trigger: "shutdown" }),
    ]);
    const job = await world.jobs.get(requested.jobId);
    expect(job).toMatchObject({
      kind: "stop",
      status: "SUCCEEDED",
      checkpointId,
      stop: { requestId: "req-1", snapshot: true, force: false, reason: "maintenance" },
    });
    expect(job?.steps?.map((s) => [s.name, s.status])).toEqual([
      ["final-snapshot", "SUCCEEDED"],
      ["stop-simulation", "SUCCEEDED"],
    ]);
    const stopped = world.events.events.find((e) => e.detailType === "Simulation Stopped");
    expect(stopped?.detail).toMatchObject({
      simulation: "sim-a",
      jobId: requested.jobId,
      finalSnapshot: "COMPLETE",
      checkpointId,
      location: { bucket: "snapshots" },
      forced: false,
      alreadyStopped: false,
    });
    expectDocumentedEvents(world);
  });

  it("does not stop the simulation when the final snapshot fails, and says why", async () => {
    const world = stopWorld();
    world.provider.snapshotFailures.push(providerErrors.validation("Simulation is not STARTED"));

    const requested = await requestStop(stop(), world);
    await deliverSnapshotRequests(world);
    const results = await deliverFinalSnapshotEvents(world);

    expect(results).toEqual([{ outcome: "refused", jobId: requested.jobId }]);
    expect(world.provider.stopCalls).toEqual([]);
    expect(world.provider.statuses.get("sim-a")).toBe("STARTED");
    const job = await world.jobs.get(requested.jobId);
    expect(job?.status).toBe("FAILED");
    expect(job?.error?.code).toBe("FinalSnapshotFailed");
    expect(job?.error?.message).toContain("ValidationException: Simulation is not STARTED");
    expect(job?.error?.message).toContain("was not stopped");
    expect(job?.steps?.map((s) => [s.name, s.status])).toEqual([["final-snapshot", "FAILED"]]);
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Failed",
      "Simulation Stop Failed",
    ]);
    expectDocumentedEvents(world);
  });

  it("stops anyway after a failed final snapshot when the request says force", async () => {
    const world = stopWorld();
    world.provider.snapshotFailures.push(providerErrors.validation());

    const requested = await requestStop(stop({ force: true }), world);
    await deliverSnapshotRequests(world);
    await deliverFinalSnapshotEvents(world);

    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(await world.jobs.get(requested.jobId)).toMatchObject({ status: "SUCCEEDED" });
    const stopped = world.events.events.find((e) => e.detailType === "Simulation Stopped");
    expect(stopped?.detail).toMatchObject({ finalSnapshot: "FAILED", forced: true });
    expectDocumentedEvents(world);
  });

  it("says the simulation was stopped elsewhere when that is why the final snapshot failed", async () => {
    const world = stopWorld();
    const requested = await requestStop(stop(), world);
    world.provider.statuses.set("sim-a", "STOPPED");
    world.provider.snapshotFailures.push(providerErrors.validation("Simulation is STOPPED"));
    await deliverSnapshotRequests(world);
    await deliverFinalSnapshotEvents(world);

    const job = await world.jobs.get(requested.jobId);
    expect(job?.error?.code).toBe("StoppedElsewhere");
    expect(job?.error?.message).toContain("already STOPPED");
    expect(world.provider.stopCalls).toEqual([]);
  });

  it("stops at once, without a snapshot, when none is asked for", async () => {
    const world = stopWorld();

    const result = await requestStop(stop({ snapshot: false }), world);

    expect(result).toMatchObject({ outcome: "stopped", status: "SUCCEEDED" });
    expect(result.checkpointId).toBeUndefined();
    expect(world.requests.sent).toEqual([]);
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    const job = await world.jobs.get(result.jobId);
    expect(job?.steps?.map((s) => [s.name, s.status, s.message])).toEqual([
      ["final-snapshot", "SKIPPED", "not requested"],
      ["stop-simulation", "SUCCEEDED", "StopSimulation accepted"],
    ]);
    expect(world.events.events.map((e) => e.detail)).toEqual([
      expect.objectContaining({ finalSnapshot: "SKIPPED", alreadyStopped: false }),
    ]);
  });

  it("retries a StopSimulation answered ConflictException instead of failing the stop", async () => {
    const world = stopWorld();
    const stopSimulation = world.provider.stopSimulation.bind(world.provider);
    let conflicts = 1;
    world.provider.stopSimulation = async (name: string) => {
      if (conflicts-- > 0) throw providerErrors.conflict();
      await stopSimulation(name);
    };

    const first = await requestStop(stop({ snapshot: false }), world).catch((e: unknown) => e);
    // Thrown as retryable, so the queue wrapper redelivers it after a short backoff.
    expect(first).toMatchObject({ code: "ConflictException", retryable: true });
    expect(await world.jobs.get(stopJobId("req-1"))).toMatchObject({ status: "RUNNING" });
    expect(world.events.events).toEqual([]);

    const again = await requestStop(stop({ snapshot: false }), world);
    expect(again).toMatchObject({ outcome: "duplicate", status: "SUCCEEDED" });
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Simulation Stopped"]);
  });

  it("fails the stop when StopSimulation refuses it for good", async () => {
    const world = stopWorld();
    world.provider.stopSimulation = async () => {
      throw providerErrors.validation("Simulation sim-a cannot be stopped now");
    };

    const result = await requestStop(stop({ snapshot: false }), world);

    expect(result).toMatchObject({ outcome: "failed", status: "FAILED" });
    expect((await world.jobs.get(result.jobId))?.error).toMatchObject({
      code: "ValidationException",
      message: "StopSimulation was refused: Simulation sim-a cannot be stopped now",
    });
  });

  it("finishes at once for a simulation that is already stopped, calling nothing", async () => {
    const world = stopWorld("STOPPED");

    const result = await requestStop(stop(), world);

    expect(result).toMatchObject({ outcome: "stopped", status: "SUCCEEDED" });
    expect(world.requests.sent).toEqual([]);
    expect(world.provider.stopCalls).toEqual([]);
    expect(world.events.events.map((e) => e.detail)).toEqual([
      expect.objectContaining({ finalSnapshot: "SKIPPED", alreadyStopped: true }),
    ]);
  });

  it("fails the job of a simulation that does not exist", async () => {
    const world = stopWorld();

    const result = await requestStop(stop({ simulation: "ghost" }), world);

    expect(result).toMatchObject({ outcome: "failed", status: "FAILED" });
    expect((await world.jobs.get(result.jobId))?.error?.code).toBe("ResourceNotFoundException");
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Simulation Stop Failed"]);
    expectDocumentedEvents(world);
  });

  it("answers a second request for a simulation already stopping with the running job", async () => {
    const world = stopWorld();
    const first = await requestStop(stop(), world);

    const second = await requestStop(stop({ requestId: "req-2" }), world);

    expect(second).toEqual({
      outcome: "already-stopping",
      jobId: first.jobId,
      checkpointId: first.checkpointId,
      status: "RUNNING",
    });
    expect(await world.jobs.get(stopJobId("req-2"))).toBeUndefined();
  });
});

describe("a duplicate of any event changes nothing", () => {
  it("Simulation Stop Requested delivered twice: one job, one snapshot, one stop", async () => {
    const world = stopWorld();
    const first = await requestStop(stop(), world);
    const again = await requestStop(stop(), world);

    expect(again).toMatchObject({ outcome: "duplicate", jobId: first.jobId });
    await deliverSnapshotRequests(world);
    await fileAppears(world);
    await deliverFinalSnapshotEvents(world);
    const after = await requestStop(stop(), world);

    expect(after).toMatchObject({ outcome: "duplicate", status: "SUCCEEDED" });
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(world.events.events.filter((e) => e.detailType === "Simulation Stopped")).toHaveLength(
      1,
    );
  });

  it("the final snapshot's event delivered twice: one StopSimulation, one Simulation Stopped", async () => {
    const world = stopWorld();
    const requested = await requestStop(stop(), world);
    await deliverSnapshotRequests(world);
    await fileAppears(world);
    await deliverFinalSnapshotEvents(world);
    const job = await world.jobs.get(requested.jobId);
    const events = world.events.events.length;

    const again = await deliverFinalSnapshotEvents(world);

    expect(again).toEqual([{ outcome: "ignored" }]);
    expect(await world.jobs.get(requested.jobId)).toEqual(job);
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(world.events.events).toHaveLength(events);
  });

  it("a redelivery after a crash between StopSimulation and saving the job calls it once", async () => {
    const world = stopWorld();
    const requested = await requestStop(stop(), world);
    await deliverSnapshotRequests(world);
    await fileAppears(world);
    // The first attempt to save the finished stop job is lost, as if the function crashed.
    const jobs = world.jobs as MemoryJobStore;
    const save = jobs.save.bind(jobs);
    let lost = false;
    jobs.save = async (next: Job) => {
      if (next.kind === "stop" && next.status === "SUCCEEDED" && !lost) {
        lost = true;
        throw new ConcurrentModificationError("lost");
      }
      await save(next);
    };

    await expect(deliverFinalSnapshotEvents(world)).rejects.toThrow("lost");
    await deliverFinalSnapshotEvents(world);

    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(await world.jobs.get(requested.jobId)).toMatchObject({ status: "SUCCEEDED" });
    const stopSteps = (await world.jobs.get(requested.jobId))?.steps;
    expect(stopSteps?.find((s) => s.name === "stop-simulation")).toMatchObject({
      status: "SKIPPED",
      message: "simulation was already STOPPED",
    });
  });
});
