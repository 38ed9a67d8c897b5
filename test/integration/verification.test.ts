import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isThrowawayName } from "../../lib/domain/verification.ts";
import type { Job } from "../../packages/client/src/types.ts";
import { sleep } from "../support/async.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

/** Polls `probe` until it answers something, or fails after `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 40_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe("restore tests on the local stack", () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      simulations: ["alpha"],
      file: {
        verification: {
          expression: "rate(1 hour)",
          localExpression: "rate(3 seconds)",
          maxConcurrent: 1,
          maximumDuration: "10m",
          // The tick check the demo config runs: the throwaway's clock against its snapshot's.
          check: {
            command: ["node", "--import", "tsx", "lib/local/verify-tick.ts"],
            timeoutSeconds: 30,
          },
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const verifyJobs = async (): Promise<Job[]> =>
    (await stack.client.jobs.page({ simulation: "alpha", kind: "verify", limit: 100 })).items;

  /** Every finished restore test left no throwaway behind (gone, or DELETED on its way out). */
  async function expectThrowawaysGone(): Promise<void> {
    for (const job of await verifyJobs()) {
      if (job.status === "RUNNING") continue;
      const target = job.verify?.target ?? "";
      expect(isThrowawayName(target), target).toBe(true);
      expect([undefined, "DELETED"], target).toContain(
        stack.info.simulator.simulation(target)?.status,
      );
    }
  }

  it("restores a new checkpoint into a throwaway, checks its tick, records PASSED and deletes the throwaway", async () => {
    const job = await stack.client.simulations.snapshot("alpha");
    const done = await stack.client.jobs.wait(job.id, { timeoutMs: 20_000 });
    const checkpointId = done.checkpointId ?? "";

    const verified = await eventually(async () => {
      const cp = await stack.client.checkpoints.get(checkpointId);
      return cp.verification;
    }, "the checkpoint's verification");
    expect(verified.status, verified.detail).toBe("PASSED");
    expect(verified.detail).toMatch(/started from the checkpoint's file s3:\/\/.*alpha-/);
    expect(verified.detail).toMatch(/resumed at tick (\d+), the tick its snapshot recorded/);

    // The job is one of GET /jobs, with its throwaway and verdict.
    const jobs = await verifyJobs();
    const test = jobs.find((j) => j.id === verified.jobId);
    expect(test).toMatchObject({ kind: "verify", checkpointId, status: "SUCCEEDED" });
    expect(test?.verify?.verdict?.status).toBe("PASSED");
    expect(stack.lines.some((l) => l.includes("✔ verified PASSED") && l.includes("alpha"))).toBe(
      true,
    );
    await expectThrowawaysGone();
  }, 60_000);

  it("records FAILED when the throwaway resumes at another tick than its snapshot's, and still deletes it", async () => {
    stack.info.simulator.misrestoreNextStart(1);
    const failed = await eventually(
      async () => (await verifyJobs()).find((j) => j.status === "FAILED"),
      "a failed restore test",
    );
    expect(failed.error?.code).toBe("VerificationFailed");
    expect(failed.error?.message).toMatch(/resumed at tick 0, but its snapshot recorded tick \d+/);
    const cp = await stack.client.checkpoints.get(failed.checkpointId ?? "");
    // A later run may have tested the checkpoint again since; the event says what this one found.
    expect(cp.verification).toBeDefined();
    expect(stack.lines.some((l) => l.includes("✗ verified FAILED") && l.includes("tick 0"))).toBe(
      true,
    );
    await expectThrowawaysGone();
  }, 60_000);

  it("keeps within the cost guard: with maxConcurrent 1, no two restore tests overlap", async () => {
    const spans = (await verifyJobs())
      .filter((j) => j.endTime)
      .map((j) => [Date.parse(j.startTime), Date.parse(j.endTime ?? "")] as const)
      .sort((a, b) => a[0] - b[0]);
    expect(spans.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
    }
  });
});
