import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/verify-checkpoint.ts";
import { writeSnapshot } from "../../lib/local/simulator-snapshots.ts";
import { throwawayName } from "../../lib/domain/verification.ts";
import sample from "../events/sqs/verification-step.json" with { type: "json" };
import { sleep } from "../support/async.ts";
import { checkpoint, job } from "../support/checkpoint-factory.ts";
import {
  FUNCTION_ENV_NAMES,
  INVALID_MESSAGE_ID,
  invoke,
  rejectionLine,
  startFunctionEnv,
  withBody,
  withInvalidRecord,
  type FunctionEnv,
} from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv({ simulator: true });
  // The throwaway is looked at again after a second, not the 30 s AWS waits.
  process.env.SIMSNAP_RESTORE_CHECK_FIRST_SECONDS = "1";
  process.env.SIMSNAP_RESTORE_CHECK_MAX_SECONDS = "1";
  ({ handler } = await import("../../functions/verify-checkpoint.ts"));
});
afterAll(() => env?.close());

const step = JSON.parse(sample.Records[0]!.body) as { jobId: string; dueAt: string };
const location = {
  bucket: FUNCTION_ENV_NAMES.bucket,
  key: "simsnap/snapshot/traffic-sim-261201-0300-00.zip",
};

describe("functions/verify-checkpoint", () => {
  it("runs a restore test on the simulator from its first step to the deleted throwaway", async () => {
    await writeSnapshot(
      env.aws.s3,
      location,
      { simulation: "traffic-sim", executionId: "e-1", tick: 57, takenAt: "2026-12-01T03:00:00Z" },
      new Date("2026-12-01T03:00:00Z"),
    );
    const cp = checkpoint({
      id: "cp-traffic-0300",
      simulation: "traffic-sim",
      provider: "simspaceweaver",
      location,
    });
    await env.catalog.create(cp);
    const target = throwawayName(step.jobId);
    await env.jobs.create(
      job({
        id: step.jobId,
        kind: "verify",
        simulation: "traffic-sim",
        provider: "simspaceweaver",
        checkpointId: cp.id,
        startTime: step.dueAt,
        nextCheckAt: step.dueAt,
        deadline: "2099-01-01T00:00:00.000Z",
        verify: { target, phase: "starting", maximumDuration: "30m", snapshot: location },
      }),
    );

    // The sample's step, then every step the function sends itself, as the queue delivers them.
    let event: SQSEvent = withInvalidRecord(sample) as SQSEvent;
    const first = await invoke(handler, event);
    expect(first.result).toEqual({ batchItemFailures: [{ itemIdentifier: INVALID_MESSAGE_ID }] });
    expect(first.lines).toEqual([rejectionLine("verification step", first.context)]);
    expect(env.simulator!.simulation(target)?.status).toBe("STARTING");
    for (let i = 0; i < 40; i++) {
      const stored = await env.jobs.get(step.jobId);
      if (stored?.status !== "RUNNING") break;
      const [next] = await env.received("verification-steps");
      if (next === undefined) {
        await sleep(250);
        continue;
      }
      event = withBody(sample, next) as SQSEvent;
      await invoke(handler, event);
    }

    const ended = await env.jobs.get(step.jobId);
    expect(ended).toMatchObject({ status: "SUCCEEDED", verify: { verdict: { status: "PASSED" } } });
    expect((await env.catalog.get(cp.id))?.verification).toMatchObject({
      status: "PASSED",
      jobId: step.jobId,
      detail: `started from the checkpoint's file s3://${location.bucket}/${location.key}`,
    });
    expect(env.events.map((e) => e["detail-type"])).toEqual(["Checkpoint Verified"]);
    expect(["DELETED", undefined]).toContain(env.simulator!.simulation(target)?.status);
  }, 60_000);
});
