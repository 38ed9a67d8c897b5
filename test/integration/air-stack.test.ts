import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirClient } from "../../lib/adapters/air/client.ts";
import type { Checkpoint } from "../../packages/client/src/types.ts";
import { SimsnapApiError } from "../../packages/client/src/errors.ts";
import { loadSimulationCheckpoints } from "../../lib/usecases/catalog/list-checkpoints.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";
import { captureLogs } from "../support/log-capture.ts";

/**
 * Issue 12's "done when", on the whole local stack: an NVIDIA Air simulation on the local Air
 * server, driven through simsnap's HTTP API only, with the real functions, queues, rules and
 * schedules (sync every 5 s) in between. The Air server is read through its own API, as Air's
 * side of the story.
 */

const SIMULATION = "air-lab";
let stack: RunningStack;
let air: AirClient;
let simulationId: string;
let captured: Checkpoint;

const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
const catalogOf = () => loadSimulationCheckpoints(stack.catalog, SIMULATION);
const wait = (id: string) => stack.client.jobs.wait(id, { timeoutMs: 15_000, intervalMs: 200 });

beforeAll(async () => {
  stack = await startLocalStack({
    // The demo is off: the test takes each step itself, through the API.
    config: { airDemo: false, airStateDelayMs: 50 },
    file: {
      local: { simulations: [{ name: SIMULATION, provider: "air" }] },
      // One newest checkpoint (and favorites) stays: the two seeded ones are retention's to remove.
      retention: { default: { keepLast: 1 }, maxRemoveFraction: 1 },
    },
  });
  const local = stack.info.air;
  if (!local) throw new Error("The local stack started no NVIDIA Air server");
  air = new AirClient({ endpoint: local.server.baseUrl, token: () => local.token });
  simulationId = local.server.simulations().find((s) => s.name === SIMULATION)?.id ?? "";
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe("an NVIDIA Air simulation on the local stack", () => {
  it("captures a checkpoint at shutdown, COMPLETE in the catalog with provider air", async () => {
    const stop = await stack.client.simulations.stop(SIMULATION, { snapshot: true });
    const done = await wait(stop.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", kind: "stop" });

    captured = await stack.client.checkpoints.get(done.checkpointId ?? "");
    expect(captured).toMatchObject({
      simulation: SIMULATION,
      provider: "air",
      state: "COMPLETE",
      trigger: "shutdown",
    });
    expect(captured.location).toBeUndefined();
    const onAir = await air.getCheckpoint(captured.platformId ?? "");
    expect(onAir.state).toBe("COMPLETE");
    expect((await air.getSimulation(simulationId)).state).toBe("INACTIVE");
  });

  it("favorites it through the API, and the Air server sees favorite=true", async () => {
    const updated = await stack.client.checkpoints.update(captured.id, { favorite: true });
    expect(updated.favorite).toBe(true);
    expect((await air.getCheckpoint(captured.platformId ?? "")).favorite).toBe(true);
  });

  it("prunes the older checkpoints by policy to the trash, keeping the favorite; Air keeps them until the purge", async () => {
    const deleted = await until("retention to remove the seeded checkpoints", async () => {
      const records = await catalogOf();
      const gone = records.filter((c) => c.state === "DELETED");
      return gone.length === 2 ? gone : undefined;
    });
    for (const record of deleted) {
      expect(record).toMatchObject({ trigger: "discovered", trashOnPlatform: true });
      // The platform's delete waits for the purge (trashDays 7), so an undelete can bring it back.
      expect((await air.getCheckpoint(record.platformId ?? "")).state).toBe("COMPLETE");
    }
    const deletes = stack.lines.filter((l) => /⇄ NVIDIA Air DELETE .* → 204/.test(l));
    expect(deletes).toHaveLength(0);
    expect((await stack.client.checkpoints.get(captured.id)).state).toBe("COMPLETE");
    // A sync tick (every 5 s locally; its GETs print no line) leaves the trashed records
    // DELETED, though Air still lists them COMPLETE.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect((await catalogOf()).filter((c) => c.state === "DELETED")).toHaveLength(2);
    const back = await stack.client.checkpoints.undelete(deleted[0]!.id);
    expect(back).toMatchObject({ state: "COMPLETE", favorite: true });
    // The Checkpoints Pruned event follows the catalog writes, so its line may come a moment later.
    await until("the prune's console line", async () =>
      stack.lines.some((l) => l.includes("✂ checkpoints pruned") && l.includes(SIMULATION))
        ? true
        : undefined,
    );
  });

  it("restores the checkpoint by cloning it into a new Air simulation", async () => {
    const restore = await stack.client.checkpoints.restore(captured.id, {
      simulationName: "air-lab-copy",
    });
    const done = await wait(restore.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", kind: "restore" });
    const clone = (await air.listSimulations({ name: "air-lab-copy" }))[0];
    expect(clone?.state).toBe("ACTIVE");
  });

  it("answers a refused token with a clear error and leaves the catalog as it was", async () => {
    const local = stack.info.air;
    if (!local) throw new Error("no Air");
    const before = await catalogOf();
    process.env[local.tokenEnv] = "revoked-token";
    const logs = captureLogs();
    try {
      const error = await stack.client.checkpoints
        .update(captured.id, { name: "renamed" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimsnapApiError);
      // A 500, which the client does not retry: the refusal lasts until an operator sets a token.
      expect(error).toMatchObject({ status: 500, code: "Unauthorized" });
      expect((error as Error).message).toMatch(
        /NVIDIA Air rejected the token .* the API token from the AIR_API_TOKEN environment variable is missing, malformed, expired or revoked/,
      );
      // A sync under the refused token changes nothing either.
      const synced = stack.lines.length;
      await until("a sync tick to fail", async () =>
        stack.lines.slice(synced).some((l) => l.includes("sync-checkpoints")) ? true : undefined,
      );
    } finally {
      logs.restore();
      process.env[local.tokenEnv] = local.token;
    }
    // The API's one ERROR line (one request: no retries), naming Air's answer for the operator.
    expect(logs.lines().filter((l) => l.level === "ERROR" || l.level === "WARN")).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: `PATCH /checkpoints/${captured.id} failed`,
        function_name: "api",
        error: expect.objectContaining({ status: 401, code: "Unauthorized", retryable: false }),
      }),
    ]);
    expect(await catalogOf()).toEqual(before);
    expect((await air.getCheckpoint(captured.platformId ?? "")).name).toBe(captured.name);
  });
});
