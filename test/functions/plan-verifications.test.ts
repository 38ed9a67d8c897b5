import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as entry from "../../functions/plan-verifications.ts";
import tick from "../events/scheduler/verification-tick.json" with { type: "json" };
import { checkpoint } from "../support/checkpoint-factory.ts";
import { invoke, startFunctionEnv, type FunctionEnv } from "../support/function-env.ts";

let env: FunctionEnv;
let handler: typeof entry.handler;

beforeAll(async () => {
  env = await startFunctionEnv();
  ({ handler } = await import("../../functions/plan-verifications.ts"));
});
afterAll(() => env?.close());

describe("functions/plan-verifications", () => {
  it("starts a restore test of the newest checkpoint of each simulation the tick selects", async () => {
    const newest = checkpoint({
      simulation: "traffic-sim",
      provider: "simspaceweaver",
      createdAt: "2026-12-01T03:00:00.000Z",
    });
    await env.catalog.create(
      checkpoint({
        simulation: "traffic-sim",
        provider: "simspaceweaver",
        createdAt: "2026-12-01T02:00:00.000Z",
      }),
    );
    await env.catalog.create(newest);
    await env.catalog.create(checkpoint({ simulation: "ocean-sim", provider: "simspaceweaver" }));

    const { result, lines } = await invoke(handler, tick);

    expect(result?.planned).toEqual([
      expect.objectContaining({ checkpointId: newest.id, outcome: "started", reason: "latest" }),
    ]);
    const [jobId] = (result?.planned ?? []).map((p) => p.jobId);
    expect(await env.jobs.get(jobId ?? "")).toMatchObject({ kind: "verify", status: "RUNNING" });
    expect(await env.received("verification-steps")).toEqual([
      expect.objectContaining({ jobId, step: 0 }),
    ]);
    expect(lines).toEqual([expect.objectContaining({ message: "Verifications planned" })]);
  });

  it("refuses an input that is not a verification tick, naming the field", async () => {
    const { error } = await invoke(handler, { ...tick, maxConcurrent: 0 });
    expect(error).toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/^Invalid verification tick: maxConcurrent: /),
    });
  });
});
