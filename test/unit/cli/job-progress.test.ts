import { describe, expect, it } from "vitest";
import { describeJob } from "../../../cli/job-progress.ts";
import type { Job } from "../../../packages/client/src/types.ts";

const restoreJob = (status: Job["status"], from?: "hot" | "archive"): Job => ({
  id: "8d3b0000-0000-8000-8000-000000000000",
  kind: "restore",
  simulation: "ocean-currents",
  status,
  startTime: "2026-12-01T10:00:00.000Z",
  ...(status === "RUNNING" ? {} : { endTime: "2026-12-01T10:00:05.000Z" }),
  aborted: false,
  stats: { objects: 1, bytes: 214 },
  attempts: 1,
  restore: { target: "ocean-currents-r1", phase: "waiting", ...(from ? { from } : {}) },
});

describe("the detail view of a job", () => {
  it("shows a running restore's phase", () => {
    expect(describeJob(restoreJob("RUNNING"))).toContain("restore:    ocean-currents-r1 (waiting)");
  });

  it("does not say (waiting) once the restore is finished, but where it came from", () => {
    const done = describeJob(restoreJob("SUCCEEDED", "archive"));
    expect(done).toContain("restore:    ocean-currents-r1 (from its archive copy)");
    expect(done.join("\n")).not.toContain("waiting");
    expect(describeJob(restoreJob("FAILED"))).toContain("restore:    ocean-currents-r1");
  });

  it("shows where a files checkpoint was restored: its prefix while running, its URI once done", () => {
    const running = restoreJob("RUNNING");
    running.restore = { target: "exp7", phase: "copying", prefix: "runs/restored/exp7/" };
    expect(describeJob(running)).toContain("restore:    runs/restored/exp7/ (copying)");
    const done = restoreJob("SUCCEEDED", "archive");
    done.restore = {
      ...running.restore,
      from: "archive",
      uri: "s3://training/runs/restored/exp7/",
    };
    expect(describeJob(done)).toContain(
      "restore:    s3://training/runs/restored/exp7/ (from its archive, matches its manifest)",
    );
  });

  it("carries the zone with every time", () => {
    expect(describeJob(restoreJob("SUCCEEDED"))).toEqual(
      expect.arrayContaining([
        "started:    2026-12-01 10:00:00 UTC",
        "ended:      2026-12-01 10:00:05 UTC",
      ]),
    );
  });
});
