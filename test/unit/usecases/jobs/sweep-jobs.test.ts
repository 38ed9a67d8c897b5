import { describe, expect, it } from "vitest";
import { completeCheckpoint, type Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { EVENT_DETAIL_SCHEMAS } from "../../../../lib/domain/event-schemas.ts";
import { PRUNE_DEADLINE_SECONDS } from "../../../../lib/domain/job-deadline.ts";
import { startJob, succeedJob, type Job } from "../../../../lib/domain/job.ts";
import type { FinalSnapshotEvent, StatusCheck } from "../../../../lib/domain/messages.ts";
import type { VerificationStep } from "../../../../lib/domain/verification.ts";
import { schedulesFor, stepGraceSeconds, topology } from "../../../../lib/topology.ts";
import { advanceRestore } from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { finishStop } from "../../../../lib/usecases/stop/finish-stop.ts";
import { pruneJobFor } from "../../../../lib/usecases/retention/prune.ts";
import { requestSnapshot } from "../../../../lib/usecases/snapshot/request-snapshot.ts";
import {
  finalSnapshotRequest,
  finalSnapshotRequestId,
  requestStop,
  stopJobId,
} from "../../../../lib/usecases/stop/request-stop.ts";
import { sweepJobs } from "../../../../lib/usecases/jobs/sweep-jobs.ts";
import {
  snapshotIdsFor,
  snapshotRecordsFor,
  takeSnapshot,
} from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { apiWorld } from "../../../support/api-world.ts";
import { request } from "../../../support/snapshot-world.ts";

/** Every port of the sweeper in memory, beside the use cases whose jobs it sweeps. */
function sweepWorld() {
  const world = apiWorld();
  return {
    ...world,
    finalSnapshots: new MemoryQueue<FinalSnapshotEvent>(),
    verificationSteps: new MemoryQueue<VerificationStep>(),
    deadlines: { snapshot: world.timing, restoreDeadlineSeconds: world.restore.deadlineSeconds },
    grace: {
      statusCheck: 60,
      snapshotRequest: 300,
      restoreStep: 120,
      finalSnapshot: 60,
      verificationStep: 120,
    },
  };
}
type World = ReturnType<typeof sweepWorld>;

const T0 = "2026-11-23T10:00:00.000Z";
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** Everything the sweep can change, to prove a second sweep changes nothing. */
async function snapshotOf(world: World, jobId: string) {
  return {
    job: await world.jobs.get(jobId),
    sent: [
      world.statusChecks.sent.length,
      world.requests.sent.length,
      world.restoreSteps.sent.length,
      world.finalSnapshots.sent.length,
    ],
    events: world.events.events.length,
  };
}

async function expectSecondSweepChangesNothing(world: World, jobId: string): Promise<void> {
  const before = await snapshotOf(world, jobId);
  const again = await sweepJobs(world);
  expect(again.swept).toEqual([]);
  expect(await snapshotOf(world, jobId)).toEqual(before);
}

/** Every event published has the documented detail of its detail-type. */
function expectDocumentedEvents(world: World): void {
  for (const event of world.events.events) {
    const schema = EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS];
    expect(() => schema.parse(event.detail), event.detailType).not.toThrow();
  }
}

/** A snapshot job whose CreateSnapshot was accepted, and whose first status check was lost. */
async function requestedSnapshotWithLostCheck(world: World): Promise<Job> {
  const taken = await takeSnapshot(request(), world);
  expect(taken.outcome).toBe("requested");
  world.statusChecks.sent.splice(0);
  return (await world.jobs.get(taken.jobId)) as Job;
}

describe("sweepJobs: snapshot jobs", () => {
  it("leaves a fresh job alone, and one whose status check is late by less than its grace", async () => {
    const world = sweepWorld();
    const job = await requestedSnapshotWithLostCheck(world);

    expect(await sweepJobs(world)).toEqual({ examined: 1, swept: [], errors: [] });
    world.clock.set(at(10 + 59));
    expect((await sweepJobs(world)).swept).toEqual([]);
    expect(await world.jobs.get(job.id)).toEqual(job);
    expect(world.statusChecks.sent).toEqual([]);
  });

  it("re-sends a lost status check once, which check-snapshot accepts, while the lost one stays stale", async () => {
    const world = sweepWorld();
    const job = await requestedSnapshotWithLostCheck(world);
    const lost: StatusCheck = { jobId: job.id, check: 0, dueAt: job.nextCheckAt as string };
    world.clock.set(at(10 + 60));

    const result = await sweepJobs(world);

    expect(result.swept).toEqual([
      {
        jobId: job.id,
        kind: "snapshot",
        simulation: "sim-a",
        action: "resent",
        step: "status-check",
      },
    ]);
    const resent = { jobId: job.id, check: 0, dueAt: at(70) };
    expect(world.statusChecks.sent).toEqual([{ message: resent, delaySeconds: 0 }]);
    expect(await world.jobs.get(job.id)).toMatchObject({ nextCheckAt: at(70), checks: 0 });
    await expectSecondSweepChangesNothing(world, job.id);

    // The lost original, should it turn up, is stale; the re-sent check runs once, then collapses.
    expect(await checkSnapshot(lost, world)).toEqual({ outcome: "stale" });
    expect(await checkSnapshot(resent, world)).toMatchObject({ outcome: "rescheduled" });
    expect(await checkSnapshot(resent, world)).toEqual({ outcome: "stale" });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Snapshot Requested"]);
  });

  it("fails a job past its deadline with the reason, its checkpoint FAILED and Checkpoint Failed published", async () => {
    const world = sweepWorld();
    const job = await requestedSnapshotWithLostCheck(world);
    world.clock.set(job.deadline as string);

    const result = await sweepJobs(world);

    expect(result.swept).toEqual([
      expect.objectContaining({
        jobId: job.id,
        action: "failed",
        status: "FAILED",
        error: expect.objectContaining({ code: "DeadlineExceeded" }),
      }),
    ]);
    const failed = await world.jobs.get(job.id);
    expect(failed).toMatchObject({ status: "FAILED", error: { code: "DeadlineExceeded" } });
    expect(failed?.error?.message).toBe(
      `The snapshot job did not end by its deadline ${at(600)}: CreateSnapshot was accepted at ${T0}, ` +
        `but no snapshot file was found (status check 0 was due at ${at(10)})`,
    );
    expect(await world.checkpoints.get(job.checkpointId as string)).toMatchObject({
      state: "FAILED",
      error: failed?.error,
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Failed",
    ]);
    expectDocumentedEvents(world);
    await expectSecondSweepChangesNothing(world, job.id);
  });

  it("re-sends a lost snapshot request, rebuilt from the job and its checkpoint, into the same snapshot", async () => {
    const world = sweepWorld();
    const job = await requestSnapshot({ simulation: "sim-a", idempotencyKey: "k-1" }, world);
    const [original] = world.requests.sent.splice(0);
    expect(job).toMatchObject({ requestId: "manual/sim-a/k-1", deadline: at(600 + 5 + 10) });

    world.clock.set(at(299));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(300));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({ jobId: job.id, action: "resent", step: "snapshot-request" }),
    ]);
    await expectSecondSweepChangesNothing(world, job.id);

    const [resent] = world.requests.sent;
    expect(resent?.message).toMatchObject({
      requestId: original?.message.requestId,
      simulation: "sim-a",
      trigger: "manual",
      requestedAt: job.startTime,
    });
    const taken = await takeSnapshot(resent?.message ?? request(), world);
    expect(taken).toEqual({
      outcome: "requested",
      jobId: job.id,
      checkpointId: job.checkpointId,
    });
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
  });

  it("fails a never-requested job whose request cannot be rebuilt (a record older than requestId)", async () => {
    const world = sweepWorld();
    const records = snapshotRecordsFor(request(), {
      provider: "fake",
      destination: world.destination,
      now: world.clock.now(),
      timing: world.timing,
    });
    const legacy: Job = { ...records.job, requestId: undefined, deadline: undefined };
    await world.checkpoints.create(records.checkpoint);
    await world.jobs.create(legacy);
    world.clock.set(at(300));

    await sweepJobs(world);

    expect(await world.jobs.get(legacy.id)).toMatchObject({
      status: "FAILED",
      error: {
        code: "RequestLost",
        message: expect.stringContaining("the job records no request id"),
      },
    });
    expect(await world.checkpoints.get(records.checkpoint.id)).toMatchObject({ state: "FAILED" });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Checkpoint Failed"]);
    expect(world.requests.sent).toEqual([]);
  });

  it("holds an old record without a deadline to its kind's deadline, counted from its start", async () => {
    const world = sweepWorld();
    const job = await requestedSnapshotWithLostCheck(world);
    await world.jobs.save({ ...job, deadline: undefined, version: job.version + 1 });
    // Held back from re-sending, to see the deadline alone.
    world.grace.statusCheck = 86_400;

    world.clock.set(at(600 + 5 + 10 - 1));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(600 + 5 + 10));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({ jobId: job.id, action: "failed" }),
    ]);
  });

  it("ends a job whose checkpoint completed before a crash kept the job RUNNING, as the checkpoint says", async () => {
    const world = sweepWorld();
    const job = await requestedSnapshotWithLostCheck(world);
    const checkpoint = (await world.checkpoints.get(job.checkpointId as string)) as Checkpoint;
    world.clock.set(at(20));
    const completed = completeCheckpoint(
      checkpoint,
      {
        location: { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-05.zip" },
        size: 4096,
        etag: "e1",
      },
      world.clock.now(),
    );
    await world.checkpoints.save(completed);

    world.clock.set(at(20 + 59));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(20 + 60));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({ jobId: job.id, action: "settled", status: "SUCCEEDED" }),
    ]);
    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "SUCCEEDED",
      stats: { objects: 1, bytes: 4096 },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Completed",
    ]);
    expectDocumentedEvents(world);
  });
});

describe("sweepJobs: stop jobs", () => {
  const stop = { requestId: "req-1", simulation: "sim-a", snapshot: true, force: false };

  it("re-sends a stop's lost final snapshot request", async () => {
    const world = sweepWorld();
    const requested = await requestStop(stop, world);
    const [lost] = world.requests.sent.splice(0);

    world.clock.set(at(300));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({
        jobId: requested.jobId,
        kind: "stop",
        action: "resent",
        step: "final-snapshot-request",
      }),
    ]);
    expect(world.requests.sent.map((s) => s.message)).toEqual([lost?.message]);
    const job = (await world.jobs.get(requested.jobId)) as Job;
    expect(finalSnapshotRequest(job)).toEqual(lost?.message);
    await expectSecondSweepChangesNothing(world, requested.jobId);
  });

  it("re-drives finish-stop when the final snapshot ended but its event never arrived", async () => {
    const world = sweepWorld();
    const requested = await requestStop(stop, world);
    const [snapshotRequest] = world.requests.sent.splice(0);
    await takeSnapshot(snapshotRequest?.message ?? request(), world);
    // complete-snapshot's writes, whose Checkpoint Completed event is then lost.
    const { checkpointId, jobId } = snapshotIdsFor(finalSnapshotRequestId(requested.jobId));
    world.clock.set(at(5));
    const checkpoint = (await world.checkpoints.get(checkpointId)) as Checkpoint;
    await world.checkpoints.save(
      completeCheckpoint(
        checkpoint,
        {
          location: { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-02.zip" },
          size: 10,
          etag: "e",
        },
        world.clock.now(),
      ),
    );
    const snapshotJob = (await world.jobs.get(jobId)) as Job;
    await world.jobs.save(succeedJob(snapshotJob, world.clock.now()));

    world.clock.set(at(5 + 59));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(5 + 60));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({
        jobId: requested.jobId,
        action: "resent",
        step: "final-snapshot-ended",
      }),
    ]);
    await expectSecondSweepChangesNothing(world, requested.jobId);

    const [ended] = world.finalSnapshots.sent;
    expect(ended?.message).toMatchObject({
      source: "simsnap",
      "detail-type": "Checkpoint Completed",
      detail: { checkpoint: { id: checkpointId, state: "COMPLETE", trigger: "shutdown" } },
    });
    const finished = await finishStop(
      (ended?.message as FinalSnapshotEvent).detail.checkpoint,
      world,
    );
    expect(finished).toEqual({ outcome: "stopped", jobId: requested.jobId });
    expect(world.provider.stopCalls).toEqual(["sim-a"]);
    expect(await world.jobs.get(requested.jobId)).toMatchObject({ status: "SUCCEEDED" });
  });

  it("fails a stop past its deadline, naming the final snapshot it waited for, with Simulation Stop Failed", async () => {
    const world = sweepWorld();
    const requested = await requestStop(stop, world);
    const job = (await world.jobs.get(requested.jobId)) as Job;
    // Its final snapshot's deadline (600 s and 15 s of conflict retries), plus the stop's margin.
    expect(job.deadline).toBe(at(600 + 15 + 600));
    world.clock.set(job.deadline as string);

    await sweepJobs(world);

    const failed = await world.jobs.get(requested.jobId);
    const { checkpointId } = snapshotIdsFor(finalSnapshotRequestId(stopJobId("req-1")));
    expect(failed).toMatchObject({
      status: "FAILED",
      error: {
        code: "DeadlineExceeded",
        message: `The stop job did not end by its deadline ${job.deadline}: it was waiting for its final snapshot (checkpoint ${checkpointId} was never created)`,
      },
    });
    expect(failed?.steps?.map((s) => [s.name, s.status])).toEqual([["final-snapshot", "FAILED"]]);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Simulation Stop Failed"]);
    expectDocumentedEvents(world);
    expect(world.provider.stopCalls).toEqual([]);
    await expectSecondSweepChangesNothing(world, requested.jobId);
  });
});

describe("sweepJobs: restore jobs", () => {
  /** A restore waiting for its new simulation to start, whose next step's message was lost. */
  async function waitingRestore(world: World): Promise<Job> {
    const job = startJob(
      {
        id: "restore-1",
        kind: "restore",
        simulation: "sim-a",
        checkpointId: "c-1",
        deadline: at(3600),
        nextCheckAt: at(30),
        checks: 2,
        restore: {
          target: "sim-a-copy",
          clientToken: "t-1",
          phase: "waiting",
          from: "hot",
          snapshot: { bucket: "snapshots", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
        },
      },
      world.clock.now(),
    );
    await world.jobs.create(job);
    world.provider.statuses.set("sim-a-copy", "STARTING");
    return job;
  }

  it("re-sends an overdue step once, which the restore takes up", async () => {
    const world = sweepWorld();
    const job = await waitingRestore(world);

    world.clock.set(at(30 + 119));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(30 + 120));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({ jobId: job.id, action: "resent", step: "restore-step" }),
    ]);
    const resent = { jobId: job.id, step: 2, dueAt: at(150) };
    expect(world.restoreSteps.sent).toEqual([{ message: resent, delaySeconds: 0 }]);
    await expectSecondSweepChangesNothing(world, job.id);

    expect(await advanceRestore({ ...resent, dueAt: at(30) }, world)).toEqual({
      outcome: "stale",
    });
    expect(await advanceRestore(resent, world)).toMatchObject({
      outcome: "waiting",
      phase: "waiting",
    });
  });

  it("fails a restore past its deadline with Restore Failed", async () => {
    const world = sweepWorld();
    const job = await waitingRestore(world);
    world.clock.set(at(3600));

    await sweepJobs(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: {
        code: "DeadlineExceeded",
        message: `The restore job did not end by its deadline ${at(3600)}: it was waiting, its step due at ${at(30)}`,
      },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Restore Failed"]);
    expectDocumentedEvents(world);
    expect(world.restoreSteps.sent).toEqual([]);
    await expectSecondSweepChangesNothing(world, job.id);
  });
});

describe("sweepJobs: prune and other jobs", () => {
  it("fails a prune job whose run died, at its deadline only", async () => {
    const world = sweepWorld();
    const job = pruneJobFor("run-1", "sim-a", world.clock.now());
    await world.jobs.create(job);

    world.clock.set(at(PRUNE_DEADLINE_SECONDS - 1));
    expect((await sweepJobs(world)).swept).toEqual([]);
    world.clock.set(at(PRUNE_DEADLINE_SECONDS));
    expect((await sweepJobs(world)).swept).toEqual([
      expect.objectContaining({ jobId: job.id, kind: "prune", action: "failed" }),
    ]);
    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: {
        code: "DeadlineExceeded",
        message: `The prune job did not end by its deadline ${at(PRUNE_DEADLINE_SECONDS)}: its run stopped before it recorded a result`,
      },
    });
    await expectSecondSweepChangesNothing(world, job.id);
  });

  it("keeps sweeping the other jobs when one cannot be swept, and reports it", async () => {
    const world = sweepWorld();
    const doomed = pruneJobFor("run-1", "sim-a", world.clock.now());
    const other = pruneJobFor("run-1", "sim-b", world.clock.now());
    for (const job of [doomed, other]) await world.jobs.create(job);
    const save = world.jobs.save.bind(world.jobs);
    world.jobs.save = async (next) => {
      if (next.id === doomed.id) throw new Error("DynamoDB is down");
      return save(next);
    };
    world.clock.set(at(PRUNE_DEADLINE_SECONDS));

    const result = await sweepJobs(world);

    expect(result.errors).toEqual([
      { jobId: doomed.id, kind: "prune", simulation: "sim-a", message: "DynamoDB is down" },
    ]);
    expect(result.swept.map((s) => s.jobId)).toEqual([other.id]);
    expect(result.examined).toBe(2);
  });
});

describe("the sweep's schedule and margins", () => {
  it("runs every 5 minutes on AWS and every 5 seconds on the local stack", () => {
    const config = { schedules: [] };
    const of = (where: "aws" | "local") =>
      schedulesFor(config, where).find((s) => s.name === "sweep-jobs");
    expect(of("aws")).toMatchObject({ expression: "rate(5 minutes)", target: "sweep-jobs" });
    expect(of("local")).toMatchObject({ expression: "rate(5 seconds)", target: "sweep-jobs" });
  });

  it("waits out a step's redelivery before taking it for lost", () => {
    // The queue's visibility timeout (a failed delivery comes back after it) and its consumer's
    // timeout (a delivery in flight has ended).
    expect(stepGraceSeconds("status-checks")).toBe(180 + 30);
    expect(stepGraceSeconds("restore-steps")).toBe(1800 + 900);
  });

  it("gives a prune job time for one redelivery of its request to run to its timeout", () => {
    const queue = topology.queues["prune-requests"];
    const timeout = topology.functions.prune.timeoutSeconds;
    expect(PRUNE_DEADLINE_SECONDS).toBeGreaterThan(
      queue.deliveryDelaySeconds + queue.visibilityTimeoutSeconds + timeout,
    );
  });
});
