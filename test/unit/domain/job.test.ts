import { describe, expect, it } from "vitest";
import { IllegalTransitionError } from "../../../lib/domain/errors.ts";
import {
  abortJob,
  failJob,
  isJobFinished,
  succeedJob,
  updateRunningJob,
  type Job,
} from "../../../lib/domain/job.ts";

const now = new Date("2026-11-23T12:00:00Z");
const running: Job = {
  id: "j1",
  version: 3,
  kind: "snapshot",
  simulation: "sim-a",
  status: "RUNNING",
  startTime: "2026-11-23T11:00:00.000Z",
  aborted: false,
  stats: { objects: 0, bytes: 0 },
  attempts: 1,
  checks: 0,
  claimedUntil: "2026-11-23T12:01:00.000Z",
  nextCheckAt: "2026-11-23T12:00:30.000Z",
};

describe("job state machine", () => {
  it("finishes a running job as SUCCEEDED, FAILED or ABORTED, clearing its schedule", () => {
    expect(succeedJob(running, now, { objects: 1, bytes: 5 })).toMatchObject({
      status: "SUCCEEDED",
      endTime: now.toISOString(),
      stats: { objects: 1, bytes: 5 },
      version: 4,
      nextCheckAt: undefined,
      claimedUntil: undefined,
    });
    expect(failJob(running, { code: "E", message: "m" }, now)).toMatchObject({
      status: "FAILED",
      error: { code: "E", message: "m" },
      version: 4,
    });
    expect(abortJob(running, now)).toMatchObject({ status: "ABORTED", aborted: true, version: 4 });
  });

  it("freezes finished jobs", () => {
    for (const finished of [
      succeedJob(running, now),
      failJob(running, { code: "E", message: "m" }, now),
      abortJob(running, now),
    ]) {
      expect(isJobFinished(finished)).toBe(true);
      expect(() => succeedJob(finished, now)).toThrow(IllegalTransitionError);
      expect(() => failJob(finished, { code: "E", message: "m" }, now)).toThrow(
        IllegalTransitionError,
      );
      expect(() => abortJob(finished, now)).toThrow(IllegalTransitionError);
      expect(() => updateRunningJob(finished, { attempts: 9 })).toThrow(
        `Job j1 is ${finished.status} and cannot become updated`,
      );
    }
  });

  it("updates a running job's bookkeeping without letting it change status", () => {
    const next = updateRunningJob(running, { attempts: 2, status: "SUCCEEDED" });
    expect(next).toMatchObject({ attempts: 2, status: "RUNNING", version: 4 });
    expect(isJobFinished(next)).toBe(false);
  });
});
