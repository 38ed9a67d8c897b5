import { describe, expect, it } from "vitest";
import { SimsnapConfigSchema } from "../../../lib/domain/config-file.ts";
import { sweepDecision } from "../../../lib/domain/job-sweep.ts";
import { startJob } from "../../../lib/domain/job.ts";
import {
  isThrowawayName,
  judgeResume,
  throwawayName,
  userCheckFor,
  VerificationConfigSchema,
  verdictDeadline,
} from "../../../lib/domain/verification.ts";
import { SimSpaceWeaverNameSchema } from "../../../lib/domain/names.ts";
import { schedulesFor } from "../../../lib/topology.ts";

const issues = (input: unknown) => {
  const result = VerificationConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("the verification config", () => {
  it("has the cost guard's defaults: two at a time, 30 minutes each, the newest of each simulation", () => {
    expect(VerificationConfigSchema.parse({ expression: "rate(1 day)" })).toMatchObject({
      maxConcurrent: 2,
      maximumDuration: "30m",
      checkpoints: { latest: true, favorites: false, sample: 0 },
      enabled: true,
      timeZone: "UTC",
    });
  });

  it("names the field and the rule of every mistake", () => {
    expect(issues({ expression: "rate(5 seconds)" })).toEqual([
      expect.stringMatching(/^expression: .*second/),
    ]);
    expect(issues({ expression: "rate(1 day)", maxConcurrent: 0 })).toEqual([
      "maxConcurrent: must be at least 1",
    ]);
    expect(issues({ expression: "rate(1 day)", maximumDuration: "15d" })).toEqual([
      "maximumDuration: must be at most 14d (20160m), SimSpace Weaver's limit",
    ]);
    expect(issues({ expression: "rate(1 day)", selector: { tags: { team: "x" } } })).toEqual([
      expect.stringMatching(/^selector\.tags: must not select by tags/),
    ]);
    expect(issues({ expression: "rate(1 day)", check: { timeoutSeconds: 10 } })).toEqual([
      "check.lambdaArn: name a lambdaArn (AWS), a command (local), or both; leave check out otherwise",
    ]);
    expect(issues({ expression: "rate(1 day)", check: { lambdaArn: "my-function" } })).toEqual([
      "check.lambdaArn: must be a Lambda function ARN",
    ]);
    expect(
      SimsnapConfigSchema.safeParse({ verification: { expression: "rate(1 day)", extra: 1 } })
        .success,
    ).toBe(false);
  });

  it("runs the Lambda check in AWS and the command locally, each only where it is set", () => {
    const check = {
      lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:check",
      command: ["./check.sh"],
      timeoutSeconds: 20,
    };
    expect(userCheckFor(check, "aws")).toEqual({ lambdaArn: check.lambdaArn, timeoutSeconds: 20 });
    expect(userCheckFor(check, "local")).toEqual({ command: ["./check.sh"], timeoutSeconds: 20 });
    expect(userCheckFor({ command: ["x"], timeoutSeconds: 5 }, "aws")).toBeUndefined();
    expect(userCheckFor(undefined, "local")).toBeUndefined();
  });

  it("becomes one schedule of plan-verifications, whose name a snapshot schedule may not take", () => {
    const config = SimsnapConfigSchema.parse({
      verification: { expression: "cron(0 4 * * ? *)", localExpression: "rate(20 seconds)" },
    });
    const local = schedulesFor(config, "local").find((s) => s.target === "plan-verifications");
    expect(local).toMatchObject({ name: "verify-checkpoints", expression: "rate(20 seconds)" });
    expect(
      schedulesFor(config, "aws").find((s) => s.name === "verify-checkpoints")?.expression,
    ).toBe("cron(0 4 * * ? *)");
    expect(schedulesFor({ schedules: [] }, "aws").map((s) => s.target)).not.toContain(
      "plan-verifications",
    );
    const clash = SimsnapConfigSchema.parse({
      schedules: [{ name: "verify-checkpoints", expression: "rate(1 hour)" }],
    });
    expect(() => schedulesFor(clash, "aws")).toThrow(/reserved by simsnap/);
  });
});

describe("throwaway simulations", () => {
  it("are named recognisably, within SimSpace Weaver's rule, the same for every step of a job", () => {
    const name = throwawayName("job-1");
    expect(name).toMatch(/^simsnap-verify-[0-9a-f]{16}$/);
    expect(SimSpaceWeaverNameSchema.safeParse(name).success).toBe(true);
    expect(throwawayName("job-1")).toBe(name);
    expect(throwawayName("job-2")).not.toBe(name);
    expect(isThrowawayName(name)).toBe(true);
    expect(isThrowawayName("simsnap-verify-mine")).toBe(false);
    expect(isThrowawayName("ocean-currents")).toBe(false);
  });
});

describe("judgeResume", () => {
  const file = { bucket: "b", key: "simsnap/snapshot/a.zip" };

  it("holds a platform that names the snapshot it started from to that name", () => {
    expect(judgeResume("snapshot-location", file, { startedFrom: file }).ok).toBe(true);
    expect(judgeResume("snapshot-location", file, { startedFrom: { ...file, key: "x" } })).toEqual({
      ok: false,
      detail: expect.stringContaining("not from the checkpoint's file") as unknown as string,
    });
    expect(judgeResume("snapshot-location", file, {}).ok).toBe(false);
  });

  it("claims no more than that it started on a platform that says nothing more", () => {
    expect(judgeResume("started", file, {})).toEqual({
      ok: true,
      detail: "started (the platform reports nothing more about what it resumed from)",
    });
  });
});

describe("the sweeper and a verification job", () => {
  const now = new Date("2026-12-01T10:00:00.000Z");
  const grace = {
    statusCheck: 60,
    snapshotRequest: 300,
    restoreStep: 120,
    finalSnapshot: 60,
    verificationStep: 120,
  };
  const verifyJob = (verdict?: boolean) =>
    startJob(
      {
        id: "j",
        kind: "verify",
        simulation: "s",
        deadline: verdictDeadline(now, "30m"),
        nextCheckAt: now.toISOString(),
        verify: {
          target: throwawayName("j"),
          phase: verdict ? "deleting" : "waiting",
          maximumDuration: "30m",
          ...(verdict
            ? { verdict: { status: "PASSED", detail: "ok", at: now.toISOString() } }
            : {}),
        },
      },
      now,
    );
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

  it("re-sends a step overdue past its grace, and fails it at its deadline naming what it waited for", () => {
    const job = verifyJob();
    const context = (m: number) => ({ now: at(m), deadline: job.deadline ?? "", grace });
    expect(sweepDecision(job, context(1))).toEqual({ action: "none" });
    expect(sweepDecision(job, context(3))).toEqual({ action: "resend", step: "verification-step" });
    expect(sweepDecision(job, context(30))).toMatchObject({
      action: "fail",
      error: { message: expect.stringContaining("reached no verdict") },
    });
    expect(sweepDecision(verifyJob(true), context(30))).toMatchObject({
      action: "fail",
      error: { message: expect.stringContaining("MaximumDuration 30m stops") },
    });
  });
});
