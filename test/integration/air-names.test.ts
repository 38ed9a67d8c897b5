import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirClient } from "../../lib/adapters/air/client.ts";
import { AirProvider } from "../../lib/adapters/air/provider.ts";
import { SimsnapClient } from "../../packages/client/src/client.ts";
import { SimsnapValidationError } from "../../packages/client/src/errors.ts";
import type { Checkpoint } from "../../packages/client/src/types.ts";
import { apiRoutes } from "../../lib/http/api-routes.ts";
import { httpApi } from "../../lib/http/router.ts";
import { startAirServer, type AirScope, type AirServer } from "../../lib/local/air/server.ts";
import { serveHttpApi, type LocalHttpServer } from "../../lib/local/http-server.ts";
import { logger } from "../../lib/observability/logger.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import { runStatusCheck } from "../../lib/usecases/jobs/run-status-check.ts";
import { advanceRestore } from "../../lib/usecases/restore/restore-checkpoint.ts";
import { syncAllPlatformCheckpoints } from "../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { apiWorld } from "../support/api-world.ts";
import { LOCAL_CREDENTIALS } from "../support/local-aws.ts";
import { startLocalWeaver, type LocalWeaver } from "../support/local-weaver.ts";

/**
 * NVIDIA Air names are free text ("My First Simulation", in any script), which simsnap's name
 * rule admits everywhere: the real Air adapter on the local Air server, beside the real SimSpace
 * Weaver adapter (whose stricter rule must not get in the way), behind the real router served
 * over HTTP and driven by the real client, with the catalog and queues in memory.
 */

const TOKEN = "names-token";
const SCOPES: AirScope[] = [
  "air:simulation_read",
  "air:simulation_edit",
  "air:simulation_start_stop",
  "air:simulation_create",
];
const FIRST = "My First Simulation";
const TOKYO = "東京 Überwachung 🌊";
const COPY = "My First Simulation (copy) ✓";
const SLASHED = "team/lab";

let air: AirServer;
let weaver: LocalWeaver;
let api: LocalHttpServer;
let client: SimsnapClient;
const world = apiWorld({});

const idOf = (name: string): string =>
  air.simulations().find((simulation) => simulation.name === name)?.id ?? "";

beforeAll(async () => {
  // Every request logs a line: keep the test's output to its results.
  logger.setLogLevel("SILENT");
  air = await startAirServer({
    tokens: { [TOKEN]: SCOPES },
    delays: 5,
    simulations: [
      {
        name: FIRST,
        state: "ACTIVE",
        checkpoints: [{ name: "before the demo", created: new Date("2026-11-30T09:00:00Z") }],
      },
      { name: TOKYO, checkpoints: [{ name: "朝", created: new Date("2026-11-29T09:00:00Z") }] },
      // Air allows a `/`; simsnap's keys and paths do not.
      { name: SLASHED, checkpoints: [{ name: "kept on Air only" }] },
    ],
  });
  // SimSpace Weaver's simulator, for its adapter only: no snapshot is taken, so S3 is never called.
  weaver = await startLocalWeaver({
    s3: new S3Client({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: LOCAL_CREDENTIALS,
    }),
  });
  weaver.simulator.createSimulation("weaver-lab");
  const provider = new AirProvider(new AirClient({ endpoint: air.endpoint, token: () => TOKEN }));
  world.providers = directoryOf([weaver.provider, provider]);
  api = await serveHttpApi({ handler: httpApi(apiRoutes(world)), port: 0 });
  client = new SimsnapClient({ endpoint: api.endpoint, retries: 0 });
}, 30_000);

afterAll(async () => {
  await api?.close();
  await weaver?.close();
  await air?.close();
});

/** Runs the status checks the stop queued, at their due times, until the job is finished. */
async function finishStop(jobId: string) {
  for (let i = 0; i < 20; i++) {
    const job = await world.jobs.get(jobId);
    if (job?.status !== "RUNNING") return job;
    const sent = world.statusChecks.sent.shift();
    if (!sent) throw new Error(`stop job ${jobId} is RUNNING with no status check queued`);
    world.clock.set(sent.message.dueAt);
    await runStatusCheck(sent.message, world);
  }
  throw new Error(`stop job ${jobId} never finished`);
}

async function all(query: { simulation: string }): Promise<Checkpoint[]> {
  const found: Checkpoint[] = [];
  for await (const checkpoint of client.checkpoints.list(query)) found.push(checkpoint);
  return found;
}

describe("NVIDIA Air simulations named as Air names them", () => {
  it("are listed with their names, beside SimSpace Weaver's", async () => {
    const listed = await client.simulations.list();
    expect(listed.map((s) => [s.name, s.provider, s.status])).toEqual(
      expect.arrayContaining([
        [FIRST, "air", "STARTED"],
        [TOKYO, "air", "STOPPED"],
        [SLASHED, "air", "STOPPED"],
        ["weaver-lab", "simspaceweaver", "STARTED"],
      ]),
    );
  });

  it("stops one with a checkpoint, through the API, and catalogs the checkpoint under its name", async () => {
    const stop = await client.simulations.stop(FIRST, { snapshot: true });
    expect(stop).toMatchObject({ kind: "stop", simulation: FIRST });

    await air.idle(idOf(FIRST));
    const done = await finishStop(stop.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", simulation: FIRST });
    expect(air.simulations().find((s) => s.name === FIRST)?.state).toBe("INACTIVE");

    const captured = await client.checkpoints.get(done?.checkpointId ?? "");
    expect(captured).toMatchObject({
      simulation: FIRST,
      provider: "air",
      state: "COMPLETE",
      trigger: "shutdown",
    });
    expect((await client.jobs.get(stop.id)).simulation).toBe(FIRST);
  });

  it("mirrors every checkpoint of every Air simulation, listed by name through the API", async () => {
    const results = await syncAllPlatformCheckpoints(world);
    // A name simsnap cannot hold is refused with its rule, and nothing is written under it.
    expect(results.filter((r) => "error" in r)).toEqual([
      {
        simulation: SLASHED,
        provider: "air",
        error: expect.stringContaining(
          '(rename it there for simsnap to manage it): (root): must not contain "/"',
        ),
      },
    ]);
    expect(await world.checkpoints.listSimulations()).not.toContain(SLASHED);

    const first = (await all({ simulation: FIRST })).map((c) => [c.name, c.state]);
    expect(first).toHaveLength(2);
    expect(first).toEqual(
      expect.arrayContaining([
        ["before the demo", "COMPLETE"],
        [expect.stringMatching(/^Checkpoint /), "COMPLETE"],
      ]),
    );
    expect((await all({ simulation: TOKYO })).map((c) => [c.simulation, c.name])).toEqual([
      [TOKYO, "朝"],
    ]);
    const listed = await client.simulations.list();
    expect(listed.find((s) => s.name === FIRST)?.checkpoints.COMPLETE).toBe(2);
  });

  it("clones one into a new simulation whose name has spaces and unicode too", async () => {
    const [first] = (await all({ simulation: FIRST })).filter((c) => c.name === "before the demo");
    const job = await client.checkpoints.restore(first?.id ?? "", { simulationName: COPY });
    expect(job).toMatchObject({ kind: "restore", simulation: FIRST });

    for (let i = 0; i < 20 && world.restoreSteps.sent.length > 0; i++) {
      const sent = world.restoreSteps.sent.shift();
      if (!sent) break;
      world.clock.set(sent.message.dueAt);
      await advanceRestore(sent.message, world);
      const clone = idOf(COPY);
      if (clone !== "") await air.idle(clone);
    }
    expect(await client.jobs.get(job.id)).toMatchObject({ status: "SUCCEEDED" });
    expect(air.simulations().find((s) => s.name === COPY)?.state).toBe("ACTIVE");
  });

  it("still refuses, by name, what simsnap's rule forbids", async () => {
    for (const name of [" lab", "team/lab", "line\nbreak"]) {
      const error = await client.simulations.stop(name).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(SimsnapValidationError);
    }
  });
});
