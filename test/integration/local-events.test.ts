import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { SimSpaceWeaverClient } from "../../lib/adapters/simspaceweaver/client.ts";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { SimsnapConfigSchema } from "../../lib/domain/config-file.ts";
import type { Job } from "../../lib/domain/job.ts";
import { LocalConfigSchema } from "../../lib/local/demo-config.ts";
import { runLocal, type LocalStackInfo } from "../../lib/local/runtime.ts";
import { sleep } from "../support/async.ts";
import { LOCAL_CREDENTIALS } from "../support/local-aws.ts";

const REGION = "us-east-1";
/** Under a prefix the config adopts: cataloged as discovered. */
const FOREIGN_KEY = "other-tool/snapshot/gamma-261123-1000-00.zip";
/** Under a prefix nobody adopted: never cataloged. */
const UNOWNED_KEY = "unowned/snapshot/delta-261123-1000-00.zip";

interface Observed {
  alphaJobs: Job[];
  alphaCheckpoints: Checkpoint[];
  betaJobs: Job[];
  gammaCheckpoints: Checkpoint[];
  deltaCheckpoints: Checkpoint[];
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean) {
  const deadline = Date.now() + 9_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * What a user and other tools do while the stack runs: ask on the bus for alpha to stop, drop a
 * foreign snapshot file into the bucket twice, and stop beta behind simsnap's back while its
 * snapshot is in progress. Returns the catalog as it stands once all of that has played out.
 */
async function drive(stack: LocalStackInfo): Promise<Observed> {
  const clients = { region: REGION, credentials: LOCAL_CREDENTIALS };
  const bus = new EventBridgeClient({ ...clients, endpoint: stack.endpoints.eventBridge });
  const s3 = new S3Client({ ...clients, endpoint: stack.endpoints.s3, forcePathStyle: true });
  const weaver = new SimSpaceWeaverClient({ ...clients, endpoint: stack.endpoints.simulator });
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...clients, endpoint: stack.endpoints.dynamodb }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const jobs = new DynamoDbJobStore(doc, "simsnap-catalog");
  const checkpoints = new DynamoDbCheckpointStore(doc, "simsnap-catalog");
  const jobsOf = async (s: string) => (await jobs.listBySimulation(s)).items;
  const checkpointsOf = async (s: string) => (await checkpoints.listBySimulation(s)).items;

  stack.simulator.stallNextSnapshot("beta");
  await bus.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: "simsnap",
          Source: "com.example.operations",
          DetailType: "Simulation Stop Requested",
          Detail: JSON.stringify({ simulation: "alpha", reason: "end of experiment" }),
        },
      ],
    }),
  );
  for (let i = 0; i < 2; i++) {
    await s3.send(
      new PutObjectCommand({ Bucket: "simsnap-snapshots", Key: FOREIGN_KEY, Body: "zip" }),
    );
  }
  await s3.send(
    new PutObjectCommand({ Bucket: "simsnap-snapshots", Key: UNOWNED_KEY, Body: "zip" }),
  );
  await waitFor(
    "beta's snapshot to start",
    async () => stack.simulator.simulation("beta")?.status,
    (status) => status === "SNAPSHOT_IN_PROGRESS",
  );
  await weaver.stopSimulation({ Simulation: "beta" });

  const alphaJobs = await waitFor(
    "alpha's stop",
    () => jobsOf("alpha"),
    (list) => list.some((j) => j.kind === "stop" && j.status === "SUCCEEDED"),
  );
  const betaJobs = await waitFor(
    "beta's job to fail",
    () => jobsOf("beta"),
    (list) => list.some((j) => j.kind === "snapshot" && j.status === "FAILED"),
  );
  await waitFor(
    "the foreign file",
    () => checkpointsOf("gamma"),
    (list) => list.length > 0,
  );
  await sleep(1_500); // the second Object Created event has had time to arrive
  return {
    alphaJobs,
    alphaCheckpoints: await checkpointsOf("alpha"),
    betaJobs,
    gammaCheckpoints: await checkpointsOf("gamma"),
    deltaCheckpoints: await checkpointsOf("delta"),
  };
}

describe("event reactions in the local stack", () => {
  it("stops with a final snapshot, fails jobs of a simulation stopped elsewhere, and catalogs a file of an adopted prefix once, none of another", async () => {
    const lines: string[] = [];
    let driven: Promise<Observed> | undefined;
    await runLocal({
      config: LocalConfigSchema.parse({
        snapshotDelayMs: 500,
        // Status checks would also fail beta's job: keep them out of the way of the CloudTrail path.
        statusCheckFirstSeconds: 60,
        pruneDebounceSeconds: 1,
        favoriteFirstCheckpoint: false,
      }),
      configFile: SimsnapConfigSchema.parse({
        destination: { adoptPrefixes: ["other-tool"] },
        schedules: [
          {
            name: "team-b",
            expression: "rate(1 minute)",
            localExpression: "rate(2 seconds)",
            selector: { tags: { team: "b" } },
          },
        ],
        local: {
          simulations: [
            { name: "alpha", tags: { team: "a" } },
            { name: "beta", tags: { team: "b" } },
          ],
        },
      }),
      dataDir: mkdtempSync(join(tmpdir(), "simsnap-events-")),
      durationSeconds: 11,
      apiPort: 0,
      print: (line) => lines.push(line),
      onReady: (stack) => {
        driven = drive(stack);
        driven.catch(() => undefined);
      },
    });
    const observed = await driven;
    if (!observed) throw new Error("the stack never became ready");

    // The stop request: a COMPLETE shutdown checkpoint exists before StopSimulation is called.
    const stopJob = observed.alphaJobs.find((j) => j.kind === "stop");
    const final = observed.alphaCheckpoints.find((c) => c.id === stopJob?.checkpointId);
    expect(final).toMatchObject({ state: "COMPLETE", trigger: "shutdown" });
    const stopStep = stopJob?.steps?.find((s) => s.name === "stop-simulation");
    expect(stopJob?.steps?.map((s) => [s.name, s.status])).toEqual([
      ["final-snapshot", "SUCCEEDED"],
      ["stop-simulation", "SUCCEEDED"],
    ]);
    expect(Date.parse(final?.completedAt ?? "")).toBeLessThanOrEqual(
      Date.parse(stopStep?.startedAt ?? ""),
    );
    expect(lines.some((l) => l.includes("■ simulation stopped") && l.includes("alpha"))).toBe(true);
    // The schedule's tag selector picks beta only: alpha's one checkpoint is its final snapshot.
    expect(observed.alphaCheckpoints.map((c) => c.trigger)).toEqual(["shutdown"]);

    // Beta was stopped by another tool: CloudTrail's event failed its pending job.
    const failed = observed.betaJobs.find((j) => j.kind === "snapshot" && j.status === "FAILED");
    expect(failed?.error?.code).toBe("SimulationEnded");
    expect(failed?.error?.message).toMatch(/^Simulation beta was stopped \(StopSimulation at /);

    // The foreign file, put twice, is one discovered checkpoint.
    expect(observed.gammaCheckpoints).toEqual([
      expect.objectContaining({
        state: "COMPLETE",
        trigger: "discovered",
        location: { bucket: "simsnap-snapshots", key: FOREIGN_KEY },
      }),
    ]);
    // The file under a prefix the config does not adopt never reaches the catalog.
    expect(observed.deltaCheckpoints).toEqual([]);
  }, 60_000);
});
