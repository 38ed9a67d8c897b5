import { describe, expect, it } from "vitest";
import type { Checkpoint, S3Location } from "../../../lib/domain/checkpoint.ts";
import type { Job } from "../../../lib/domain/job.ts";
import { snapshotKey } from "../../../lib/domain/snapshot-key.ts";
import {
  auditChaosRun,
  CHAOS_VIOLATION_KINDS,
  type ChaosAuditInput,
  type ChaosViolationKind,
} from "../../../lib/local/chaos-audit.ts";
import { checkpoint, job } from "../../support/checkpoint-factory.ts";

const BUCKET = "snapshots";
const at = (time: string): Date => new Date(`2026-12-01T${time}Z`);
const iso = (time: string): string => at(time).toISOString();
const hot = (time: string, simulation = "sim-a", prefix = "simsnap"): S3Location => ({
  bucket: BUCKET,
  key: snapshotKey(prefix, simulation, at(time)),
});

/** A snapshot job that called CreateSnapshot between `from` and `to`, and its checkpoint. */
function requested(
  name: string,
  window: { from: string; to: string },
  changes: { job?: Partial<Job>; checkpoint?: Partial<Checkpoint> } = {},
): { job: Job; checkpoint: Checkpoint } {
  return {
    job: {
      ...job({
        id: `job-${name}`,
        checkpointId: `cp-${name}`,
        status: "SUCCEEDED",
        startTime: iso(window.from),
        requestedAt: iso(window.to),
        deadline: new Date(at(window.to).getTime() + 90_000).toISOString(),
      }),
      callStartedAt: iso(window.from),
      ...changes.job,
    },
    checkpoint: checkpoint({
      id: `cp-${name}`,
      jobId: `job-${name}`,
      createdAt: iso(window.from),
      location: hot(window.from.slice(0, 8)),
      ...changes.checkpoint,
    }),
  };
}

const foreignFile: S3Location = {
  bucket: BUCKET,
  key: "otherteam/snapshot/sim-a-261201-1000-10.zip",
};

/**
 * A run where every promise held: a completed checkpoint, one pruned (its archive copy kept), a
 * discovered file, a job that failed with a reason, one still running within its deadline, and a
 * foreign file left alone.
 */
function healthyRun(): ChaosAuditInput {
  const done = requested("done", { from: "10:00:10.200", to: "10:00:10.450" });
  const pruned = requested(
    "pruned",
    { from: "10:00:20.100", to: "10:00:20.300" },
    {
      checkpoint: {
        state: "DELETED",
        archive: {
          bucket: "archive",
          key: "sim-a/2026/12/sim-a-261201-1000-20.zip",
          storageClass: "STANDARD_IA",
          archivedAt: iso("10:00:25"),
        },
      },
    },
  );
  const discovered = checkpoint({
    id: "cp-discovered",
    trigger: "discovered",
    location: hot("10:00:35"),
  });
  const failed = requested(
    "failed",
    { from: "10:00:30", to: "10:00:30.100" },
    {
      job: { status: "FAILED", error: { code: "ThrottlingException", message: "Rate exceeded" } },
      checkpoint: {
        state: "FAILED",
        location: undefined,
        error: { code: "ThrottlingException", message: "Rate exceeded" },
      },
    },
  );
  const running = requested(
    "running",
    { from: "10:00:50", to: "10:00:50.200" },
    { job: { status: "RUNNING" }, checkpoint: { state: "PENDING", location: undefined } },
  );
  return {
    checkpoints: [
      done.checkpoint,
      pruned.checkpoint,
      discovered,
      failed.checkpoint,
      running.checkpoint,
    ],
    jobs: [done.job, pruned.job, failed.job, running.job],
    objects: [
      hot("10:00:10"),
      { bucket: "archive", key: "sim-a/2026/12/sim-a-261201-1000-20.zip" },
      hot("10:00:35"),
      foreignFile,
    ],
    owned: { bucket: BUCKET, prefixes: ["simsnap"] },
    foreign: [foreignFile],
    now: at("10:01:00"),
    skewMs: 2_000,
  };
}

/** The kinds of the violations found, to compare against exactly what a case broke. */
const kinds = (input: ChaosAuditInput): ChaosViolationKind[] =>
  auditChaosRun(input).details.map((v) => v.kind);

const replaceCheckpoint = (input: ChaosAuditInput, id: string, changes: Partial<Checkpoint>) => ({
  ...input,
  checkpoints: input.checkpoints.map((c) => (c.id === id ? { ...c, ...changes } : c)),
});
const replaceJob = (input: ChaosAuditInput, id: string, changes: Partial<Job>) => ({
  ...input,
  jobs: input.jobs.map((j) => (j.id === id ? { ...j, ...changes } : j)),
});

describe("auditChaosRun", () => {
  it("finds nothing wrong in a run where every promise held, and counts what happened", () => {
    const report = auditChaosRun(healthyRun());
    expect(report.details).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.jobs).toEqual({
      total: 4,
      SUCCEEDED: 2,
      FAILED: 1,
      ABORTED: 0,
      RUNNING: 1,
      OVERDUE: 0,
    });
    expect(report.failureCodes).toEqual({ ThrottlingException: 1 });
    expect(report.checkpoints).toEqual({
      total: 5,
      discovered: 1,
      platformHeld: 0,
      objectSets: 0,
      PENDING: 1,
      COMPLETE: 2,
      FAILED: 1,
      DELETED: 1,
    });
    expect(report.violations).toEqual({
      total: 0,
      ...Object.fromEntries(CHAOS_VIOLATION_KINDS.map((kind) => [kind, 0])),
    });
  });

  it("reports a job FAILED without a reason", () => {
    const run = replaceJob(healthyRun(), "job-failed", { error: undefined });
    expect(kinds(run)).toEqual(["failed-without-reason"]);
    expect(auditChaosRun(run).ok).toBe(false);
  });

  it("reports a job RUNNING past its deadline, once the sweeper's grace is over", () => {
    const run = replaceJob(healthyRun(), "job-running", { deadline: iso("10:00:40") });
    expect(kinds({ ...run, deadlineGraceMs: 30_000 })).toEqual([]);
    expect(kinds({ ...run, deadlineGraceMs: 10_000 })).toEqual(["open-past-deadline"]);
    expect(auditChaosRun(run).jobs.OVERDUE).toBe(1);
    expect(auditChaosRun(run).jobsByKind.snapshot?.OVERDUE).toBe(1);
  });

  it("reports a job RUNNING with no deadline", () => {
    const run = replaceJob(healthyRun(), "job-running", { deadline: undefined });
    expect(kinds(run)).toEqual(["open-without-deadline"]);
  });

  it("reports a checkpoint bound to a file stamped outside its own job's window", () => {
    // The shift of the original defect: bound to the next job's file, 10 s later.
    const later = replaceCheckpoint(healthyRun(), "cp-done", { location: hot("10:00:21") });
    const earlier = replaceCheckpoint(healthyRun(), "cp-done", { location: hot("10:00:07") });
    for (const run of [later, earlier]) {
      run.objects = [...run.objects, run.checkpoints[0]?.location as S3Location];
      expect(kinds(run)).toEqual(["mis-bound"]);
    }
    expect(auditChaosRun(later).details[0]?.message).toContain("+8.55 s outside job job-done");
  });

  it("accepts a stamp inside the window give or take the skew (stamps are whole seconds)", () => {
    const run = healthyRun();
    // `done`'s call started at 10:00:10.200: its file, stamped 10:00:10, is fine without skew.
    expect(kinds({ ...run, skewMs: 0 })).toEqual([]);
    // A file stamped 10:00:09 was written at 10:00:09.999 at the latest, 201 ms before the call.
    const early = replaceCheckpoint(run, "cp-done", { location: hot("10:00:09") });
    early.objects = [...early.objects, hot("10:00:09")];
    expect(kinds({ ...early, skewMs: 200 })).toEqual(["mis-bound"]);
    expect(kinds({ ...early, skewMs: 202 })).toEqual([]);
    // And one stamped after the call answered (10:00:10.450) is late by the whole second.
    const late = replaceCheckpoint(run, "cp-done", { location: hot("10:00:11") });
    late.objects = [...late.objects, hot("10:00:11")];
    expect(kinds({ ...late, skewMs: 549 })).toEqual(["mis-bound"]);
    expect(kinds({ ...late, skewMs: 550 })).toEqual([]);
  });

  it("reports a checkpoint bound to another simulation's file, or to a file that is no snapshot", () => {
    for (const location of [
      hot("10:00:10", "sim-b"),
      { bucket: BUCKET, key: "simsnap/reports/x.json" },
    ]) {
      const run = replaceCheckpoint(healthyRun(), "cp-done", { location });
      run.objects = [...run.objects, location];
      expect(kinds(run)).toEqual(["mis-bound"]);
    }
  });

  it("reports a requested checkpoint whose binding cannot be checked", () => {
    const noWindow = replaceJob(healthyRun(), "job-done", { callStartedAt: undefined });
    expect(kinds(noWindow)).toEqual(["binding-unverifiable"]);
    const noJob = { ...healthyRun(), jobs: healthyRun().jobs.filter((j) => j.id !== "job-done") };
    expect(kinds(noJob)).toEqual(["binding-unverifiable"]);
    // A DELETED checkpoint was bound once too: its archive copy is restored as its state.
    const deleted = replaceJob(healthyRun(), "job-pruned", { requestedAt: undefined });
    expect(kinds(deleted)).toEqual(["binding-unverifiable"]);
  });

  it("reports a COMPLETE checkpoint whose file is not there, or that has no file at all", () => {
    const run = healthyRun();
    const missing = { ...run, objects: run.objects.filter((o) => o.key !== hot("10:00:35").key) };
    expect(kinds(missing)).toEqual(["phantom-complete"]);
    const noLocation = replaceCheckpoint(healthyRun(), "cp-discovered", { location: undefined });
    expect(kinds(noLocation)).toEqual(["phantom-complete"]);
  });

  it("counts a COMPLETE checkpoint its platform holds instead of calling it a phantom", () => {
    const held = replaceCheckpoint(healthyRun(), "cp-discovered", {
      location: undefined,
      platformId: "air-checkpoint-1",
      provider: "air",
    });
    const report = auditChaosRun(held);
    expect(kinds(held)).toEqual([]);
    expect(report.checkpoints.platformHeld).toBe(1);
  });

  it("counts a checkpoint another tool wrote instead of judging it as a snapshot file", () => {
    const set = replaceCheckpoint(healthyRun(), "cp-discovered", {
      location: { bucket: "training", key: "training/runs/bert-demo/checkpoint-100/" },
      provider: "files",
    });
    const report = auditChaosRun(set);
    expect(kinds(set)).toEqual([]);
    expect(report.checkpoints.objectSets).toBe(1);
  });

  it("reports a DELETED checkpoint whose hot file is still there, not its archive copy", () => {
    const run = healthyRun();
    expect(run.objects).toContainEqual({
      bucket: "archive",
      key: "sim-a/2026/12/sim-a-261201-1000-20.zip",
    });
    const withFile = { ...run, objects: [...run.objects, hot("10:00:20")] };
    expect(kinds(withFile)).toEqual(["deleted-with-file"]);
  });

  it("accepts the original a move to the trash left beside its copy, but not one without a copy", () => {
    const trash = { bucket: BUCKET, key: "simsnap/trash/cp-pruned/v1/sim-a-261201-1000-20.zip" };
    const trashed = replaceCheckpoint(healthyRun(), "cp-pruned", { trash });
    const leftover = { ...trashed, objects: [...trashed.objects, hot("10:00:20"), trash] };
    expect(kinds(leftover)).toEqual([]);
    const copyGone = { ...trashed, objects: [...trashed.objects, hot("10:00:20")] };
    expect(kinds(copyGone)).toEqual(["deleted-with-file"]);
  });

  it("reports a foreign file that was cataloged, planted or merely outside the owned prefixes", () => {
    const planted = {
      ...healthyRun(),
      checkpoints: [
        ...healthyRun().checkpoints,
        checkpoint({ id: "cp-foreign", trigger: "discovered", location: foreignFile }),
      ],
    };
    expect(kinds(planted)).toEqual(["foreign-cataloged"]);
    // `simsnap-old/` merely starts like the owned `simsnap` prefix.
    const sibling = hot("10:00:40", "sim-a", "simsnap-old");
    const outside = {
      ...healthyRun(),
      objects: [...healthyRun().objects, sibling],
      checkpoints: [
        ...healthyRun().checkpoints,
        checkpoint({ id: "cp-sibling", trigger: "discovered", location: sibling }),
      ],
    };
    expect(kinds(outside)).toEqual(["foreign-cataloged"]);
  });

  it("reports a foreign file that is gone", () => {
    const run = healthyRun();
    expect(kinds({ ...run, objects: run.objects.filter((o) => o !== foreignFile) })).toEqual([
      "foreign-deleted",
    ]);
  });

  it("reports two checkpoints naming one file", () => {
    const run = healthyRun();
    run.checkpoints = [
      ...run.checkpoints,
      checkpoint({ id: "cp-twin", trigger: "discovered", location: hot("10:00:10") }),
    ];
    expect(kinds(run)).toEqual(["duplicate-location"]);
    expect(auditChaosRun(run).details[0]?.message).toContain(
      "cp-done (COMPLETE), cp-twin (COMPLETE)",
    );
  });

  it("reports two COMPLETE checkpoints from one job", () => {
    const run = healthyRun();
    const second = hot("10:00:11");
    run.checkpoints = [
      ...run.checkpoints,
      checkpoint({ id: "cp-second", jobId: "job-done", location: second }),
    ];
    run.objects = [...run.objects, second];
    expect(kinds(run)).toEqual(["duplicate-complete"]);
  });

  it("reports a snapshot file of ours that no checkpoint names, once it is past the grace", () => {
    const lost = hot("10:00:40");
    const run = {
      ...healthyRun(),
      objects: [
        ...healthyRun().objects,
        lost,
        // Too young to judge (by its stamp, or by its write); not a snapshot file; in an owned
        // prefix's trash; another tool's.
        hot("10:00:55"),
        { ...hot("10:00:20", "sim-b"), lastModified: at("10:00:50") },
        { bucket: BUCKET, key: "simsnap/snapshot/notes.txt" },
        { bucket: BUCKET, key: "simsnap/trash/cp-x/v2/sim-a-261201-1000-41.zip" },
        hot("10:00:42", "sim-a", "otherteam"),
      ],
      uncatalogedGraceMs: 15_000,
    };
    expect(auditChaosRun(run).details).toEqual([
      {
        kind: "uncataloged",
        subject: `${BUCKET}/${lost.key}`,
        message:
          "snapshot file stamped 2026-12-01T10:00:40.000Z, 20 s old at the stop, has no checkpoint",
      },
    ]);
    // Named by any checkpoint, in any state, it is cataloged; without a grace nothing is judged.
    const named = {
      ...run,
      checkpoints: [
        ...run.checkpoints,
        checkpoint({ id: "cp-l", trigger: "discovered", location: lost }),
      ],
    };
    expect(kinds(named)).toEqual([]);
    expect(kinds({ ...run, uncatalogedGraceMs: undefined })).toEqual([]);
  });

  it("reports a PENDING checkpoint that nothing will finish", () => {
    const ended = replaceJob(healthyRun(), "job-running", {
      status: "FAILED",
      error: { code: "Timeout", message: "deadline passed" },
    });
    expect(kinds(ended)).toEqual(["pending-after-job-ended"]);
    const orphan = {
      ...healthyRun(),
      jobs: healthyRun().jobs.filter((j) => j.id !== "job-running"),
    };
    expect(kinds(orphan)).toEqual(["pending-without-job"]);
  });
});
