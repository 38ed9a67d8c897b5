import { describe, expect, it } from "vitest";
import { failJob, startJob, succeedJob, type Job } from "../../../lib/domain/job.ts";
import {
  bindingJobsStartedWithin,
  bindSnapshotFile,
  SNAPSHOT_STAMP_SKEW_MS,
  snapshotWindow,
  type StampedFile,
} from "../../../lib/domain/snapshot-binding.ts";

const at = (time: string): Date => new Date(`2026-11-23T${time}Z`);
const now = at("11:00:00");

/** An open snapshot job whose CreateSnapshot call ran from `from` to `to` (times of day). */
function job(id: string, from?: string, to?: string, changes: Partial<Job> = {}): Job {
  return startJob(
    {
      id,
      kind: "snapshot",
      simulation: "sim-a",
      checkpointId: `checkpoint-${id}`,
      destination: { bucket: "snapshots", prefix: "simsnap" },
      deadline: at("12:00:00").toISOString(),
      ...(from === undefined ? {} : { callStartedAt: at(from).toISOString() }),
      ...(to === undefined ? {} : { requestedAt: at(to).toISOString() }),
      ...changes,
    },
    at("09:00:00"),
  );
}

const file = (time: string, changes: Partial<StampedFile> = {}): StampedFile => ({
  bucket: "snapshots",
  prefix: "simsnap",
  simulation: "sim-a",
  time: at(time),
  ...changes,
});

const boundTo = (binding: ReturnType<typeof bindSnapshotFile>) =>
  binding.kind === "bind" ? binding.job.id : binding.kind;

describe("snapshotWindow", () => {
  it("runs from the second the call started in to the call's answer, widened by the skew", () => {
    const exact = snapshotWindow(job("a", "10:00:00.700", "10:00:01.200"));
    const wide = snapshotWindow(job("a", "10:00:00.700", "10:00:01.200"), SNAPSHOT_STAMP_SKEW_MS);

    expect(exact).toEqual({ from: at("10:00:00"), to: at("10:00:01.200") });
    expect(wide).toEqual({ from: at("09:59:55"), to: at("10:00:06.200") });
  });

  it("is undefined for a job without a recorded call, as older records are", () => {
    expect(snapshotWindow(job("a"))).toBeUndefined();
    expect(snapshotWindow(job("a", undefined, "10:00:00"))).toBeUndefined();
    expect(snapshotWindow(job("a", "10:00:00"))).toBeUndefined();
  });

  it("uses seconds, not minutes, of skew", () => {
    expect(SNAPSHOT_STAMP_SKEW_MS).toBeLessThanOrEqual(10_000);
  });
});

describe("bindSnapshotFile", () => {
  it("binds a file to the job whose exact window holds its stamp, even with a whole-second stamp", () => {
    const jobs = [job("a", "10:00:00.700", "10:00:01.100"), job("b", "10:00:09", "10:00:10")];

    expect(boundTo(bindSnapshotFile(file("10:00:00"), jobs, now))).toBe("a");
    expect(boundTo(bindSnapshotFile(file("10:00:09"), jobs, now))).toBe("b");
  });

  it("gives every file of a chain its own job, whatever the order (the issue's crash scenario)", () => {
    const starts = [0, 9, 21, 54, 60].map((s) => 600 + s);
    const time = (seconds: number, ms = 0) =>
      `10:${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}.${String(ms).padStart(3, "0")}`;
    const jobs = starts.map((s, i) => job(`j${i}`, time(s, 300), time(s, 900)));

    for (const [i, s] of starts.entries()) {
      expect(boundTo(bindSnapshotFile(file(time(s)), jobs, now))).toBe(`j${i}`);
      expect(boundTo(bindSnapshotFile(file(time(s)), [...jobs].reverse(), now))).toBe(`j${i}`);
    }
  });

  it("falls back to the skew-widened window when no exact window holds the stamp", () => {
    const jobs = [job("a", "10:00:00", "10:00:01"), job("b", "10:01:00", "10:01:01")];

    expect(boundTo(bindSnapshotFile(file("10:00:04"), jobs, now))).toBe("a");
    expect(boundTo(bindSnapshotFile(file("10:00:57"), jobs, now))).toBe("b");
    expect(bindSnapshotFile(file("10:00:07"), jobs, now)).toMatchObject({ kind: "none" });
    expect(bindSnapshotFile(file("09:59:54"), jobs, now)).toMatchObject({ kind: "none" });
  });

  it("prefers the one exact window over skew-widened ones", () => {
    const jobs = [job("a", "10:00:00", "10:00:01"), job("b", "10:00:04", "10:00:05")];

    expect(boundTo(bindSnapshotFile(file("10:00:01"), jobs, now))).toBe("a");
    expect(boundTo(bindSnapshotFile(file("10:00:04"), jobs, now))).toBe("b");
  });

  it("binds nothing when several windows hold the stamp, exactly or widened", () => {
    const sameSecond = [
      job("a", "10:00:00.100", "10:00:00.300"),
      job("b", "10:00:00.600", "10:00:00.800"),
    ];
    const between = [job("a", "10:00:00", "10:00:01"), job("b", "10:00:07", "10:00:08")];

    expect(bindSnapshotFile(file("10:00:00"), sameSecond, now)).toMatchObject({
      kind: "none",
      reason: expect.stringContaining("2 jobs"),
    });
    expect(bindSnapshotFile(file("10:00:04"), between, now)).toMatchObject({ kind: "none" });
  });

  it("waits while a call that may have made the file has not answered and its claim holds", () => {
    const calling = job("a", "10:00:00", undefined, { claimedUntil: "2026-11-23T10:01:00.000Z" });
    const during = at("10:00:01");

    expect(bindSnapshotFile(file("10:00:00"), [calling], during)).toMatchObject({
      kind: "wait",
      seconds: 5,
    });
    // Even when another job's window holds the stamp: the call could be the file's.
    const answered = job("b", "09:59:58", "10:00:00.500");
    expect(bindSnapshotFile(file("10:00:00"), [answered, calling], during)).toMatchObject({
      kind: "wait",
    });
    // Never longer than the claim.
    expect(bindSnapshotFile(file("10:00:00"), [calling], at("10:00:58.500"))).toMatchObject({
      kind: "wait",
      seconds: 2,
    });
  });

  it("does not wait for a call that started after the stamp, beyond the skew", () => {
    const calling = job("b", "10:01:00", undefined, { claimedUntil: "2026-11-23T10:02:00.000Z" });
    const answered = job("a", "10:00:00", "10:00:01");

    expect(boundTo(bindSnapshotFile(file("10:00:00"), [answered, calling], at("10:01:01")))).toBe(
      "a",
    );
  });

  it("gives a call whose claim expired without an answer no window, so its file is unbound", () => {
    const lost = job("a", "10:00:00", undefined, { claimedUntil: "2026-11-23T10:01:00.000Z" });
    const refused = job("b", "10:00:00"); // claim released after a refusal

    expect(bindSnapshotFile(file("10:00:00"), [lost], at("10:01:00"))).toMatchObject({
      kind: "none",
    });
    expect(bindSnapshotFile(file("10:00:00"), [refused], now)).toMatchObject({ kind: "none" });
  });

  it("never binds to a job without a recorded window (older records)", () => {
    const old = job("a", undefined, "10:00:00");

    expect(bindSnapshotFile(file("10:00:00"), [old], now)).toMatchObject({ kind: "none" });
  });

  it("binds only to an open snapshot job of the same simulation, bucket and prefix", () => {
    const a = job("a", "10:00:00", "10:00:01", {
      destination: { bucket: "snapshots", prefix: "/simsnap/" },
    });

    expect(boundTo(bindSnapshotFile(file("10:00:00"), [a], now))).toBe("a");
    for (const other of [
      file("10:00:00", { bucket: "elsewhere" }),
      file("10:00:00", { prefix: "other" }),
      file("10:00:00", { simulation: "sim-b" }),
    ]) {
      expect(bindSnapshotFile(other, [a], now)).toMatchObject({ kind: "none" });
    }
    const finished = { ...a, status: "SUCCEEDED" as const };
    expect(bindSnapshotFile(file("10:00:00"), [finished], now)).toMatchObject({ kind: "none" });
    const restore = { ...a, kind: "restore" as const };
    expect(bindSnapshotFile(file("10:00:00"), [restore], now)).toMatchObject({ kind: "none" });
  });
});

describe("bindSnapshotFile with jobs that already ended", () => {
  const failed = (j: Job) =>
    failJob(j, { code: "DeadlineExceeded", message: "no file by the deadline" }, at("10:10:00"));

  it("never gives an ended job's file to an open neighbour whose widened window holds it", () => {
    // A's slow snapshot failed at its deadline; B called three seconds after A.
    const a = failed(job("a", "10:00:00.100", "10:00:00.400"));
    const b = job("b", "10:00:03", "10:00:03.300");

    for (const jobs of [
      [a, b],
      [b, a],
    ]) {
      const binding = bindSnapshotFile(file("10:00:00"), jobs, at("10:10:01"));
      expect(binding).toMatchObject({ kind: "none", ended: [{ id: "a" }] });
      expect(binding.kind === "none" && binding.reason).toContain("a (FAILED at");
    }
    // Without A, B would take it: the widened window holds the stamp.
    expect(boundTo(bindSnapshotFile(file("10:00:00"), [b], at("10:10:01")))).toBe("b");
  });

  it("still binds to the open job whose exact window holds the stamp", () => {
    const a = failed(job("a", "10:00:00", "10:00:00.400"));
    const b = job("b", "10:00:03", "10:00:03.300");

    expect(boundTo(bindSnapshotFile(file("10:00:03"), [a, b], now))).toBe("b");
  });

  it("leaves ambiguous a stamp only widened windows hold, one of them an ended job's", () => {
    const a = succeedJob(job("a", "10:00:00", "10:00:01"), at("10:00:30"));
    const b = job("b", "10:00:07", "10:00:08");

    expect(bindSnapshotFile(file("10:00:04"), [a, b], now)).toMatchObject({
      kind: "none",
      ended: [{ id: "a" }],
    });
  });

  it("never binds a file to an ended job, even one whose exact window holds it alone", () => {
    const a = failed(job("a", "10:00:00", "10:00:01"));

    expect(bindSnapshotFile(file("10:00:00"), [a], now)).toMatchObject({
      kind: "none",
      reason: expect.stringContaining("ended before its file was bound"),
      ended: [{ id: "a", status: "FAILED" }],
    });
  });

  it("judges a job listed twice by its latest version, and never waits for an ended call", () => {
    const claimed = { claimedUntil: "2026-11-23T10:01:00.000Z" };
    const calling = job("a", "10:00:00", undefined, claimed);
    const ended = failed(calling);
    const b = job("b", "10:00:03", "10:00:03.300");

    // The open listing may still show the job as calling; the later record says it ended.
    expect(bindSnapshotFile(file("10:00:00"), [calling, ended, b], at("10:00:05"))).toMatchObject({
      kind: "bind",
      job: { id: "b" },
    });
    expect(bindSnapshotFile(file("10:00:00"), [ended, calling], at("10:00:05"))).toMatchObject({
      kind: "none",
    });
  });
});

describe("bindingJobsStartedWithin", () => {
  it("reaches back over a job's whole deadline budget and one call, and forward past the skew", () => {
    const timing = { deadlineSeconds: 600, conflictRetrySeconds: 5, conflictMaxAttempts: 3 };
    const range = bindingJobsStartedWithin({ from: at("10:00:00"), to: at("10:00:10") }, timing);

    // 600 s + conflict backoffs of 5 s and 10 s, one call of at most 900 s, and 5 s of skew.
    expect(range).toEqual({ from: at("09:34:40"), to: at("10:00:16") });
  });
});
