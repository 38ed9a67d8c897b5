import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../packages/client/src/types.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

/**
 * A `cycle` schedule on the whole local stack: an NVIDIA Air simulation on the local Air server
 * is stopped with a checkpoint by the scheduled tick, and started again from exactly that
 * checkpoint, as Air's own run records say (`started_from`).
 */

const SIMULATION = "air-nap";
let stack: RunningStack;
let simulationId: string;

const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

/** The simulation's jobs of one kind, oldest first. */
async function jobsOf(kind: Job["kind"]): Promise<Job[]> {
  const jobs: Job[] = [];
  for await (const job of stack.client.jobs.list({ simulation: SIMULATION, kind })) jobs.push(job);
  return jobs.reverse();
}

beforeAll(async () => {
  stack = await startLocalStack({
    config: { airDemo: false, airStateDelayMs: 50 },
    file: {
      local: { simulations: [{ name: SIMULATION, provider: "air" }] },
      schedules: [
        {
          name: "nap",
          expression: "cron(0 3 * * ? *)",
          localExpression: "rate(2 seconds)",
          selector: { providers: ["air"] },
          action: "cycle",
        },
      ],
    },
  });
  const local = stack.info.air;
  if (!local) throw new Error("The local stack started no NVIDIA Air server");
  simulationId = local.server.simulations().find((s) => s.name === SIMULATION)?.id ?? "";
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe("a cycle schedule on the local stack", () => {
  it("stops an Air simulation with a checkpoint and starts it again from exactly that checkpoint", async () => {
    const stop = await until("a cycle's stop to finish", async () =>
      (await jobsOf("stop")).find((job) => job.status !== "RUNNING"),
    );
    expect(stop).toMatchObject({
      status: "SUCCEEDED",
      steps: [
        { name: "stop-simulation", status: "SUCCEEDED" },
        { name: "final-snapshot", status: "SUCCEEDED" },
        { name: "restart-simulation", status: "SUCCEEDED" },
      ],
    });
    const checkpoint = await stack.client.checkpoints.get(stop.checkpointId ?? "");
    expect(checkpoint).toMatchObject({ provider: "air", state: "COMPLETE", trigger: "shutdown" });

    const restart = await until("the restart to finish", async () =>
      (await jobsOf("restore")).find(
        (job) => job.checkpointId === checkpoint.id && job.status !== "RUNNING",
      ),
    );
    expect(restart).toMatchObject({
      status: "SUCCEEDED",
      restore: { target: SIMULATION, from: "platform" },
    });
    expect(stop.steps?.at(-1)?.message).toContain(restart.id);

    // Air's side: the run that followed the cycle's checkpoint started from it, by id.
    const local = stack.info.air!;
    const response = await fetch(
      `${local.server.baseUrl}simulations/runs/?simulation=${simulationId}`,
      {
        headers: { authorization: `Bearer ${local.token}` },
      },
    );
    const runs = ((await response.json()) as { results: { started_from: string | null }[] })
      .results;
    expect(runs.map((run) => run.started_from)).toContain(checkpoint.platformId);
  });
});
