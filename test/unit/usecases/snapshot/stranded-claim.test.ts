import { describe, expect, it } from "vitest";
import type { Checkpoint, S3Location } from "../../../../lib/domain/checkpoint.ts";
import type { FinalSnapshotEvent, StatusCheck } from "../../../../lib/domain/messages.ts";
import { reconcileCursorLocation } from "../../../../lib/domain/snapshot-reconcile.ts";
import type { VerificationStep } from "../../../../lib/domain/verification.ts";
import type { ObjectInfo } from "../../../../lib/ports/object-store.ts";
import { sweepJobs } from "../../../../lib/usecases/jobs/sweep-jobs.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { completeSnapshot } from "../../../../lib/usecases/snapshot/complete-snapshot.ts";
import { reconcileSnapshotFiles } from "../../../../lib/usecases/snapshot/reconcile-snapshots.ts";
import { discoveredCheckpointId } from "../../../../lib/usecases/snapshot/snapshot-job.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { apiWorld } from "../../../support/api-world.ts";
import { MemoryCheckpointStore, MemoryObjectStore, MemoryQueue } from "../../../support/memory.ts";
import { providerWritesFiles, request } from "../../../support/snapshot-world.ts";

/**
 * A catalog whose process can be killed between a completion's two writes: once `armed`, the
 * save that would record a checkpoint COMPLETE throws, after the file's claim was written.
 * `legacyClaims` hides claims from `claimsOf`, as claims written before that lookup existed are.
 */
class KillableCheckpoints extends MemoryCheckpointStore {
  armed = false;
  legacyClaims = false;

  override async save(next: Checkpoint): Promise<void> {
    if (this.armed && next.state === "COMPLETE") {
      this.armed = false;
      throw new Error("killed between the claim and the checkpoint's write");
    }
    return super.save(next);
  }

  override async claimsOf(checkpointId: string): Promise<S3Location[]> {
    return this.legacyClaims ? [] : super.claimsOf(checkpointId);
  }
}

/** The snapshot ports, the sweeper's, and the reconciling scan's, on one clock. */
function world() {
  const base = apiWorld();
  const checkpoints = new KillableCheckpoints();
  return {
    ...base,
    checkpoints,
    objects: new MemoryObjectStore(base.clock),
    finalSnapshots: new MemoryQueue<FinalSnapshotEvent>(),
    verificationSteps: new MemoryQueue<VerificationStep>(),
    deadlines: { snapshot: base.timing, restoreDeadlineSeconds: base.restore.deadlineSeconds },
    grace: {
      statusCheck: 60,
      snapshotRequest: 300,
      restoreStep: 120,
      finalSnapshot: 60,
      verificationStep: 120,
    },
    cursorAt: reconcileCursorLocation(base.destination),
    graceSeconds: 1200,
  };
}
type World = ReturnType<typeof world>;

/**
 * A snapshot taken at 10:00:00 (deadline 10:10:00) whose S3 event's completion is killed after
 * it claimed the file for the job's checkpoint and before it recorded the checkpoint COMPLETE.
 */
async function killedCompletion() {
  const w = world();
  const files = providerWritesFiles(w);
  const ids = await takeSnapshot(request(), w);
  const file = files[0] as ObjectInfo;
  w.checkpoints.armed = true;
  await expect(completeSnapshot(file, w)).rejects.toThrow("killed");
  return { w, ids, file };
}

async function dueCheck(w: World, jobId: string): Promise<StatusCheck> {
  const job = await w.jobs.get(jobId);
  return { jobId, check: job!.checks, dueAt: job!.nextCheckAt! };
}

const owner = async (w: World, file: S3Location) =>
  (await w.checkpoints.locationOwners([file])).get(`${file.bucket}/${file.key}`);

describe("a completion killed between its claim and its checkpoint's write", () => {
  it("leaves the file claimed by a PENDING checkpoint that does not name it, its job RUNNING", async () => {
    const { w, ids, file } = await killedCompletion();

    expect(await owner(w, file)).toBe(ids.checkpointId);
    const checkpoint = await w.checkpoints.get(ids.checkpointId);
    expect(checkpoint).toMatchObject({ state: "PENDING" });
    expect(checkpoint?.location).toBeUndefined();
    expect(await w.jobs.get(ids.jobId)).toMatchObject({ status: "RUNNING" });
  });

  it("is finished by the event's redelivery while the job is open", async () => {
    const { w, ids, file } = await killedCompletion();

    expect(await completeSnapshot(file, w)).toMatchObject({
      outcome: "completed",
      checkpointId: ids.checkpointId,
    });
    expect(await w.checkpoints.get(ids.checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { key: file.key },
    });
  });

  it("is finished by the status check that would fail the job at its deadline, after a new HEAD", async () => {
    const { w, ids, file } = await killedCompletion();
    // The platform still reports a snapshot in progress, so the check never lists the folder.
    expect(w.provider.statuses.get("sim-a")).toBe("SNAPSHOT_IN_PROGRESS");
    w.clock.set(new Date("2026-11-23T10:10:00.000Z"));

    expect(await checkSnapshot(await dueCheck(w, ids.jobId), w)).toMatchObject({
      outcome: "completed",
    });
    expect(await w.checkpoints.get(ids.checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { key: file.key },
      size: file.size,
    });
    expect(await w.jobs.get(ids.jobId)).toMatchObject({ status: "SUCCEEDED" });
  });

  it("fails at the deadline when the claimed file is gone, handing its claim on", async () => {
    const { w, ids, file } = await killedCompletion();
    await w.objects.deleteMany(file.bucket, [file.key]);
    w.clock.set(new Date("2026-11-23T10:10:00.000Z"));

    expect(await checkSnapshot(await dueCheck(w, ids.jobId), w)).toEqual({ outcome: "failed" });
    expect(await owner(w, file)).toBe(discoveredCheckpointId(file));
  });

  it("when the sweeper fails the job, hands the claim to the file's discovered record, which the scan catalogs", async () => {
    const { w, ids, file } = await killedCompletion();
    w.clock.set(new Date("2026-11-23T10:10:01.000Z"));

    const swept = await sweepJobs(w);

    expect(swept.swept).toMatchObject([{ jobId: ids.jobId, action: "failed" }]);
    expect(await w.checkpoints.get(ids.checkpointId)).toMatchObject({ state: "FAILED" });
    expect(await owner(w, file)).toBe(discoveredCheckpointId(file));

    w.clock.set(new Date("2026-11-23T10:30:00.000Z"));
    const scan = await reconcileSnapshotFiles(w);

    expect(scan.cataloged).toEqual([
      { key: file.key, checkpointId: discoveredCheckpointId(file), outcome: "discovered" },
    ]);
    const discovered = await w.checkpoints.get(discoveredCheckpointId(file));
    expect(discovered).toMatchObject({ state: "COMPLETE", trigger: "discovered", size: file.size });
    expect(discovered?.description).toContain(`job ${ids.jobId} (FAILED at`);
    // Nothing brought the failed checkpoint back.
    expect(await w.checkpoints.get(ids.checkpointId)).toMatchObject({ state: "FAILED" });
  });

  it("takes over a claim a FAILED checkpoint still holds (written before claims could be found), saying so", async () => {
    const { w, ids, file } = await killedCompletion();
    w.checkpoints.legacyClaims = true;
    w.clock.set(new Date("2026-11-23T10:10:01.000Z"));
    await sweepJobs(w);
    expect(await owner(w, file)).toBe(ids.checkpointId);

    const redelivered = await completeSnapshot(file, w);

    expect(redelivered).toEqual({
      outcome: "discovered",
      checkpointId: discoveredCheckpointId(file),
    });
    expect(await owner(w, file)).toBe(discoveredCheckpointId(file));
    const discovered = await w.checkpoints.get(discoveredCheckpointId(file));
    expect(discovered?.description).toContain(
      `Claimed by checkpoint ${ids.checkpointId} of job ${ids.jobId}, which failed (DeadlineExceeded)`,
    );
    expect(await w.checkpoints.get(ids.checkpointId)).toMatchObject({ state: "FAILED" });
  });
});
