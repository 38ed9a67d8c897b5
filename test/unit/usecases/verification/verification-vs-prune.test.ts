import { describe, expect, it } from "vitest";
import { jobView } from "../../../../lib/http/views.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { VerificationTickSchema } from "../../../../lib/domain/verification.ts";
import { prune, type PruneDeps } from "../../../../lib/usecases/retention/prune.ts";
import { advanceVerification } from "../../../../lib/usecases/verification/advance-verification.ts";
import { planVerifications } from "../../../../lib/usecases/verification/plan-verifications.ts";
import { checkpoint } from "../../../support/checkpoint-factory.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";
import { drive, verificationWorld } from "../../../support/verification-world.ts";

const tick = VerificationTickSchema.parse({
  schedule: "verify-checkpoints",
  scheduledTime: "2026-12-01T10:00:00.000Z",
  maxConcurrent: 2,
  maximumDuration: "30m",
});

/**
 * A simulation's checkpoint `old`, its file in a bucket that also holds the trash; retention keeps
 * the newest only, so once `new` completes a prune removes `old`. The fake platform starts a
 * throwaway as SimSpace Weaver does: from the file, FAILED ("Could not load snapshot") when the
 * file is no longer there when it loads.
 */
async function world() {
  const w = verificationWorld();
  const store = new MemoryArchiveStore({ clock: w.clock, checksums: false });
  const at = (time: string) => ({
    createdAt: time,
    location: { bucket: "snapshots", key: snapshotKey("simsnap", "sim-a", new Date(time)) },
  });
  const old = checkpoint({ id: "old", favorite: false, ...at("2026-12-01T09:00:00.000Z") });
  const newest = checkpoint({ id: "new", ...at("2026-12-01T09:30:00.000Z") });
  const add = async (cp: typeof old) => {
    await w.checkpoints.create(cp);
    await store.put(cp.location!, "zip");
  };
  await add(old);
  const settle = w.platform.settle.bind(w.platform);
  w.platform.settle = () => {
    w.platform.startsAs = store.text(old.location!) === undefined ? "FAILED" : "STARTED";
    settle();
  };
  const pruneDeps: PruneDeps = {
    checkpoints: w.checkpoints,
    jobs: w.jobs,
    objects: store,
    events: w.events,
    clock: w.clock,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 1 }, maxRemoveFraction: 1 }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: w.providers,
    trash: { days: 7, store },
  };
  return { ...w, store, pruneDeps, addNewest: () => add(newest) };
}
type World = Awaited<ReturnType<typeof world>>;

/**
 * Plans a run that tests `old` and starts it (claim, start). The run read the catalog before `new`
 * completed (as one that ran a moment earlier did), so `old` was the newest of its simulation.
 */
async function startTest(w: World) {
  const listBySimulation = w.checkpoints.listBySimulation.bind(w.checkpoints);
  const before = Object.create(w.checkpoints) as typeof w.checkpoints;
  before.listBySimulation = async (simulation, options) => {
    const page = await listBySimulation(simulation, options);
    return { ...page, items: page.items.filter((c) => c.id !== "new") };
  };
  const planned = await planVerifications(tick, { ...w, checkpoints: before });
  const jobId = planned.planned[0]?.jobId ?? "";
  for (let i = 0; i < 2; i++) {
    const step = w.steps.sent.at(-1)?.message;
    if (step) await advanceVerification(step, w.deps);
  }
  return jobId;
}

const verificationEvents = (w: World) =>
  w.events.events.map((e) => e.detailType).filter((t) => t.startsWith("Checkpoint Verif"));

describe("a prune while a restore test of its checkpoint runs", () => {
  it("keeps the checkpoint with reason `verifying`, in the dry run as in the run, and the test passes", async () => {
    const w = await world();
    const jobId = await startTest(w);
    expect(w.platform.calls).toContain(`start ${(await w.jobs.get(jobId))?.verify?.target}`);
    await w.addNewest();

    const [dry] = await prune({ runId: "dry", dryRun: true, force: false }, w.pruneDeps);
    const [run] = await prune({ runId: "run-1", dryRun: false, force: false }, w.pruneDeps);
    for (const result of [dry, run]) {
      expect(result?.plan.remove).toEqual([]);
      expect(result?.plan.keep).toEqual([
        { id: "new", reasons: ["last snapshot"] },
        { id: "old", reasons: ["verifying"] },
      ]);
    }
    expect(run?.removed).toEqual([]);
    expect((await w.checkpoints.get("old"))?.state).toBe("COMPLETE");

    const results = await drive(w);
    expect(results.at(-1)).toMatchObject({ outcome: "passed" });
    expect((await w.checkpoints.get("old"))?.verification).toMatchObject({ status: "PASSED" });
    expect(w.platform.names()).toEqual([]);

    // Deferred, not spared: once the test has ended, the next run removes it.
    const [next] = await prune({ runId: "run-2", dryRun: false, force: false }, w.pruneDeps);
    expect(next?.trashed).toEqual(["old"]);
  });

  it("keeps a checkpoint whose test began after the plan was made: each batch reads the open tests again", async () => {
    const w = await world();
    await w.addNewest();
    const getMany = w.checkpoints.getMany.bind(w.checkpoints);
    let began = false;
    w.checkpoints.getMany = async (ids) => {
      if (!began) {
        began = true;
        await startTest(w);
      }
      return getMany(ids);
    };
    const [run] = await prune({ runId: "run-1", dryRun: false, force: false }, w.pruneDeps);

    expect(run?.plan.remove).toEqual([{ id: "old" }]);
    expect(run?.removed).toEqual([]);
    expect(run?.skipped).toEqual([
      expect.objectContaining({ id: "old", reason: expect.stringContaining("restore test") }),
    ]);
    expect((await w.checkpoints.get("old"))?.state).toBe("COMPLETE");
    expect((await drive(w)).at(-1)).toMatchObject({ outcome: "passed" });
  });
});

describe("a restore test whose checkpoint a prune removes under it", () => {
  it("ends neither PASSED nor FAILED when the test starts while the file moves to the trash, and still deletes its throwaway", async () => {
    const w = await world();
    // The prune has read its batch (no test open yet); the test is planned and starts from the
    // file while the trash copies it; then the original is removed and the throwaway cannot
    // load it.
    await w.addNewest();
    const copy = w.store.copy.bind(w.store);
    let jobId = "";
    w.store.copy = async (...args) => {
      if (!jobId) jobId = await startTest(w);
      return copy(...args);
    };
    const [run] = await prune({ runId: "run-1", dryRun: false, force: false }, w.pruneDeps);
    expect(run?.trashed).toEqual(["old"]);

    const results = await drive(w);
    expect(results.at(-1)).toMatchObject({ outcome: "abandoned" });
    const job = await w.jobs.get(jobId);
    expect(job?.status).toBe("FAILED");
    expect(job?.error?.code).toBe("CheckpointDeleted");
    expect(job?.error?.message).toContain("was deleted during the test");
    expect(job?.verify?.abandoned).toContain("did not start");
    // GET /jobs says why the verdict it shows was not recorded.
    expect(jobView(job!).verify?.abandoned).toBe(job?.verify?.abandoned);
    const old = await w.checkpoints.get("old");
    expect(old?.state).toBe("DELETED");
    expect(old?.verification).toBeUndefined();
    expect(verificationEvents(w)).toEqual([]);
    expect(w.platform.calls.some((c) => c.startsWith("delete simsnap-verify-"))).toBe(true);
    expect(w.platform.names()).toEqual([]);
  });

  it("starts nothing for a checkpoint deleted before its test began, and records no verdict", async () => {
    const w = await world();
    const planned = await planVerifications(tick, w);
    const jobId = planned.planned[0]?.jobId ?? "";
    const cp = (await w.checkpoints.get("old"))!;
    await w.checkpoints.save({ ...cp, state: "DELETED", version: cp.version + 1 });

    expect((await drive(w)).at(-1)).toMatchObject({ outcome: "abandoned" });
    expect((await w.jobs.get(jobId))?.error?.code).toBe("CheckpointDeleted");
    expect((await w.checkpoints.get("old"))?.verification).toBeUndefined();
    expect(verificationEvents(w)).toEqual([]);
    expect(w.platform.calls.filter((c) => c.startsWith("start"))).toEqual([]);
  });

  it("still records a real failure: a COMPLETE checkpoint whose file is gone does not restore", async () => {
    const w = await world();
    const { location } = (await w.checkpoints.get("old"))!;
    await w.store.deleteMany(location!.bucket, [location!.key]);
    const jobId = await startTest(w);
    expect((await drive(w)).at(-1)).toMatchObject({ outcome: "failed" });
    expect((await w.jobs.get(jobId))?.error?.code).toBe("VerificationFailed");
    expect((await w.checkpoints.get("old"))?.verification?.status).toBe("FAILED");
    expect(verificationEvents(w)).toEqual(["Checkpoint Verification Failed"]);
  });
});
