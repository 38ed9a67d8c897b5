import { describe, expect, it } from "vitest";
import { RetryLaterError } from "../../../../lib/domain/errors.ts";
import type { Job } from "../../../../lib/domain/job.ts";
import { snapshotIdsFor, takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { providerErrors } from "../../../support/fake-provider.ts";
import { request, snapshotWorld } from "../../../support/snapshot-world.ts";

describe("takeSnapshot", () => {
  it("records a PENDING checkpoint and a RUNNING job, calls CreateSnapshot and schedules a check", async () => {
    const world = snapshotWorld();
    const result = await takeSnapshot(request(), world);

    expect(result.outcome).toBe("requested");
    const checkpoint = await world.checkpoints.get(result.checkpointId);
    expect(checkpoint).toMatchObject({
      state: "PENDING",
      simulation: "sim-a",
      trigger: "schedule",
      jobId: result.jobId,
    });
    const job = await world.jobs.get(result.jobId);
    expect(job).toMatchObject({
      status: "RUNNING",
      kind: "snapshot",
      attempts: 1,
      callStartedAt: "2026-11-23T10:00:00.000Z",
      requestedAt: "2026-11-23T10:00:00.000Z",
      nextCheckAt: "2026-11-23T10:00:10.000Z",
      deadline: "2026-11-23T10:10:00.000Z",
      destination: { bucket: "snapshots", prefix: "simsnap" },
    });
    expect(world.provider.snapshotCalls).toEqual([
      { simulation: "sim-a", destination: { bucket: "snapshots", prefix: "simsnap" } },
    ]);
    expect(world.statusChecks.sent).toEqual([
      {
        message: { jobId: result.jobId, check: 0, dueAt: "2026-11-23T10:00:10.000Z" },
        delaySeconds: 10,
      },
    ]);
    expect(world.events.events.map((e) => e.detailType)).toEqual(["Snapshot Requested"]);
  });

  it("records the call's window: its start saved with the claim before the call, its end after the answer", async () => {
    const world = snapshotWorld();
    const { jobId } = snapshotIdsFor(request().requestId);
    const createSnapshot = world.provider.createSnapshot.bind(world.provider);
    let duringCall: Job | undefined;
    world.provider.createSnapshot = async (simulation, destination) => {
      duringCall = await world.jobs.get(jobId);
      world.clock.advance(1_500); // the call takes 1.5 s
      await createSnapshot(simulation, destination);
    };
    world.clock.advance(250);

    await takeSnapshot(request(), world);

    expect(duringCall).toMatchObject({
      callStartedAt: "2026-11-23T10:00:00.250Z",
      claimedUntil: "2026-11-23T10:01:00.250Z",
    });
    expect(duringCall?.requestedAt).toBeUndefined();
    expect(await world.jobs.get(jobId)).toMatchObject({
      callStartedAt: "2026-11-23T10:00:00.250Z",
      requestedAt: "2026-11-23T10:00:01.750Z",
    });
  });

  it("opens a new window for each attempt, and none for a refused call", async () => {
    const world = snapshotWorld();
    world.provider.snapshotFailures.push(providerErrors.conflict());
    const { jobId } = snapshotIdsFor(request().requestId);

    await expect(takeSnapshot(request(), world)).rejects.toBeInstanceOf(RetryLaterError);
    const refused = await world.jobs.get(jobId);
    world.clock.advance(5_000);
    await takeSnapshot(request(), world);

    expect(refused).toMatchObject({ callStartedAt: "2026-11-23T10:00:00.000Z" });
    expect(refused?.requestedAt).toBeUndefined();
    expect(refused?.claimedUntil).toBeUndefined();
    expect(await world.jobs.get(jobId)).toMatchObject({
      callStartedAt: "2026-11-23T10:00:05.000Z",
      requestedAt: "2026-11-23T10:00:05.000Z",
    });
  });

  it("turns a duplicate delivery into no second snapshot and no second checkpoint", async () => {
    const world = snapshotWorld();
    const first = await takeSnapshot(request(), world);
    world.clock.advance(3_000);
    const second = await takeSnapshot(request(), world);

    expect(second).toEqual({ ...first, outcome: "duplicate" });
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(world.events.events).toHaveLength(1);
    // The duplicate re-sends the very same status check, which the check collapses.
    expect(world.statusChecks.sent[1]?.message).toEqual(world.statusChecks.sent[0]?.message);
    expect(world.statusChecks.sent[1]?.delaySeconds).toBe(7);
  });

  it("retries a snapshot already in progress with exponential backoff, then succeeds", async () => {
    const world = snapshotWorld();
    world.provider.snapshotFailures.push(providerErrors.conflict(), providerErrors.conflict());

    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      const error = await takeSnapshot(request(), world).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryLaterError);
      delays.push((error as RetryLaterError).delaySeconds);
    }
    const result = await takeSnapshot(request(), world);

    expect(delays).toEqual([5, 10]);
    expect(result.outcome).toBe("requested");
    expect(world.provider.snapshotCalls).toHaveLength(3);
    expect(await world.jobs.get(result.jobId)).toMatchObject({ status: "RUNNING", attempts: 3 });
  });

  it("makes no call once the job's deadline has passed, so no window lies beyond it", async () => {
    const world = snapshotWorld();
    world.provider.snapshotFailures.push(providerErrors.conflict());
    await expect(takeSnapshot(request(), world)).rejects.toBeInstanceOf(RetryLaterError);
    const { jobId } = snapshotIdsFor(request().requestId);
    const deadline = (await world.jobs.get(jobId))!.deadline!;
    world.clock.set(new Date(deadline));

    const late = await takeSnapshot(request(), world);

    expect(late.outcome).toBe("failed");
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect(await world.jobs.get(jobId)).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
  });

  it("fails the job when the conflict outlasts the attempts", async () => {
    const world = snapshotWorld();
    world.provider.snapshotFailures.push(
      providerErrors.conflict(),
      providerErrors.conflict(),
      providerErrors.conflict(),
    );
    await expect(takeSnapshot(request(), world)).rejects.toBeInstanceOf(RetryLaterError);
    await expect(takeSnapshot(request(), world)).rejects.toBeInstanceOf(RetryLaterError);
    const result = await takeSnapshot(request(), world);

    expect(result.outcome).toBe("failed");
    expect(await world.jobs.get(result.jobId)).toMatchObject({
      status: "FAILED",
      error: {
        code: "ConflictException",
        message: "A snapshot is already in progress (gave up after 3 attempts)",
      },
    });
    expect(await world.checkpoints.get(result.checkpointId)).toMatchObject({ state: "FAILED" });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Failed",
    ]);
    expect(world.statusChecks.sent).toEqual([]);
  });

  it.each([
    ["ValidationException", providerErrors.validation()],
    ["ResourceNotFoundException", providerErrors.notFound("sim-a")],
  ])("fails the job at once on %s with the provider's message", async (code, error) => {
    const world = snapshotWorld();
    world.provider.snapshotFailures.push(error);
    const result = await takeSnapshot(request(), world);

    expect(result.outcome).toBe("failed");
    expect(await world.jobs.get(result.jobId)).toMatchObject({
      status: "FAILED",
      error: { code, message: error.message },
    });
    expect(await world.checkpoints.get(result.checkpointId)).toMatchObject({
      state: "FAILED",
      error: { code, message: error.message },
    });
    // A redelivery of the failed request changes nothing.
    expect((await takeSnapshot(request(), world)).outcome).toBe("duplicate");
    expect(world.provider.snapshotCalls).toHaveLength(1);
  });

  it("lets a second delivery wait while the first one holds the job", async () => {
    const world = snapshotWorld();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const original = world.provider.createSnapshot.bind(world.provider);
    world.provider.createSnapshot = async (name, destination) => {
      await held;
      return original(name, destination);
    };

    const first = takeSnapshot(request(), world);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await takeSnapshot(request(), world).catch((e: unknown) => e);
    release();

    expect(second).toBeInstanceOf(RetryLaterError);
    expect((await first).outcome).toBe("requested");
    expect(world.provider.snapshotCalls).toHaveLength(1);
  });
});
