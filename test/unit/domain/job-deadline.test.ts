import { describe, expect, it } from "vitest";
import {
  jobDeadline,
  PRUNE_DEADLINE_SECONDS,
  snapshotDeadline,
  STOP_DEADLINE_MARGIN_SECONDS,
  stopDeadline,
} from "../../../lib/domain/job-deadline.ts";
import { JobKindSchema } from "../../../lib/domain/job.ts";

const start = new Date("2026-11-23T10:00:00.000Z");
const after = (seconds: number) => new Date(start.getTime() + seconds * 1000).toISOString();
// The functions' defaults: a 3600 s snapshot deadline, conflict retries from 30 s, 8 attempts.
const timing = { deadlineSeconds: 3600, conflictRetrySeconds: 30, conflictMaxAttempts: 8 };

describe("job deadlines", () => {
  it("gives a snapshot its deadline plus every conflict wait before its last attempt, each at most 900 s", () => {
    const conflictWaits = 30 + 60 + 120 + 240 + 480 + 900 + 900;
    expect(snapshotDeadline(start, timing)).toBe(after(3600 + conflictWaits));
    expect(snapshotDeadline(start, { ...timing, conflictMaxAttempts: 1 })).toBe(after(3600));
  });

  it("lets a stop outlive its final snapshot by a margin, to hear how the snapshot ended", () => {
    expect(
      Date.parse(stopDeadline(start, timing)) - Date.parse(snapshotDeadline(start, timing)),
    ).toBe(STOP_DEADLINE_MARGIN_SECONDS * 1000);
  });

  it("keeps a job's own deadline, and gives an older record without one its kind's, from its start", () => {
    const defaults = { snapshot: timing, restoreDeadlineSeconds: 172_800 };
    const job = (kind: string, deadline?: string) => ({
      kind: JobKindSchema.parse(kind),
      startTime: start.toISOString(),
      deadline,
    });
    expect(jobDeadline(job("snapshot", after(5)), defaults)).toBe(after(5));
    expect(jobDeadline(job("snapshot"), defaults)).toBe(snapshotDeadline(start, timing));
    expect(jobDeadline(job("stop"), defaults)).toBe(stopDeadline(start, timing));
    expect(jobDeadline(job("restore"), defaults)).toBe(after(172_800));
    expect(jobDeadline(job("prune"), defaults)).toBe(after(PRUNE_DEADLINE_SECONDS));
    // simsnap records no archive jobs (archiving is tracked on the checkpoint); should one exist,
    // it still ends.
    expect(jobDeadline(job("archive"), defaults)).toBe(after(86_400));
  });
});
