import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  SimSpaceWeaverClient,
  SimSpaceWeaverServiceError,
} from "../../lib/adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import { startLocalServers, type LocalServers } from "../../lib/local/servers.ts";
import {
  INJECTABLE_ERRORS,
  startSimulator,
  type InjectedFault,
  type LocalSimulator,
  type SimulatorApiCall,
  type SimulatorOperation,
} from "../../lib/local/simulator.ts";
import type { FaultRate } from "../../lib/local/faults.ts";

const BUCKET = "chaos-snapshots";
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const ARN = (name: string) => `arn:aws:simspaceweaver:us-east-1:123456789012:simulation/${name}`;

let dataDir: string;
let servers: LocalServers;
let s3: S3Client;
const running: { simulator: LocalSimulator; client: SimSpaceWeaverClient }[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "simsnap-faults-"));
  servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
  s3 = new S3Client({
    region: "us-east-1",
    endpoint: servers.s3.endpoint,
    forcePathStyle: true,
    credentials: CREDENTIALS,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterEach(async () => {
  for (const { simulator, client } of running.splice(0)) {
    client.destroy();
    await simulator.close();
  }
});

afterAll(async () => {
  s3?.destroy();
  await servers?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A simulator (with faults from the start, or none) and a real client pointed at it. */
async function weaver(
  faults?: FaultRate,
  onApiCall?: (call: SimulatorApiCall) => void,
): Promise<{
  simulator: LocalSimulator;
  client: SimSpaceWeaverClient;
  provider: SimSpaceWeaverProvider;
  injected: InjectedFault[];
}> {
  const injected: InjectedFault[] = [];
  const simulator = await startSimulator({
    s3,
    startDelayMs: 50,
    stopDelayMs: 50,
    snapshotDelayMs: 100,
    faults,
    onApiCall,
    onFault: (fault) => injected.push(fault),
  });
  const client = new SimSpaceWeaverClient({
    region: "us-east-1",
    endpoint: simulator.endpoint,
    credentials: CREDENTIALS,
  });
  running.push({ simulator, client });
  return { simulator, client, provider: new SimSpaceWeaverProvider(client), injected };
}

/** What each call answered: "ok" or the service error's code. */
async function outcomes(calls: number, call: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < calls; i++) {
    try {
      await call();
      seen.push("ok");
    } catch (error) {
      if (!(error instanceof SimSpaceWeaverServiceError)) throw error;
      seen.push(error.code);
    }
  }
  return seen;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("chaos mode in the local SimSpace Weaver simulator, through the real client", () => {
  it("fails the share of calls it is told to, each with a typed, retryable service error", async () => {
    const { simulator, client, injected } = await weaver({ rate: 0.3, seed: 7 });
    simulator.createSimulation("steady");
    const errors: SimSpaceWeaverServiceError[] = [];
    for (let i = 0; i < 400; i++) {
      await client.describeSimulation({ Simulation: "steady" }).catch((error: unknown) => {
        if (!(error instanceof SimSpaceWeaverServiceError)) throw error;
        errors.push(error);
      });
    }

    expect(errors.length / 400).toBeGreaterThan(0.24);
    expect(errors.length / 400).toBeLessThan(0.36);
    expect(injected).toHaveLength(errors.length);
    for (const error of errors) {
      expect(["InternalServerException", "ThrottlingException"]).toContain(error.code);
      expect(error.status).toBe(error.code === "ThrottlingException" ? 400 : 500);
      expect(error.retryable).toBe(true);
      expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(new Set(errors.map((e) => e.code)).size).toBe(2);
  });

  it("answers in the service's wire shape: status, x-amzn-errortype, request id, JSON message", async () => {
    const { simulator } = await weaver({ rate: 1, seed: 1 });
    simulator.createSimulation("wire");
    const response = await fetch(`${simulator.endpoint}/describesimulation?simulation=wire`, {
      headers: {
        authorization:
          "AWS4-HMAC-SHA256 Credential=S3RVER/20261201/us-east-1/simspaceweaver/aws4_request, SignedHeaders=host, Signature=0",
      },
    });
    const errorType = response.headers.get("x-amzn-errortype") ?? "";
    const [name, namespace] = errorType.split(/:(.*)/s);
    expect(["InternalServerException", "ThrottlingException"]).toContain(name);
    expect(namespace).toBe("http://internal.amazon.com/coral/com.amazonaws.simspaceweaver/");
    expect(response.status).toBe(name === "ThrottlingException" ? 400 : 500);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ message: expect.stringContaining("fault injected") });
  });

  it("draws the same faults from the same seed, and other faults from another", async () => {
    const run = async (seed: number) => {
      const { simulator, client } = await weaver({ rate: 0.3, seed });
      simulator.createSimulation("seeded");
      return outcomes(60, () => client.describeSimulation({ Simulation: "seeded" }));
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
    expect(first.filter((o) => o !== "ok").length).toBeGreaterThan(0);
  });

  it("injects only errors each operation can return, as the service model declares them", async () => {
    const { simulator, client } = await weaver({ rate: 1, seed: 3 });
    simulator.createSimulation("target");
    const calls: Record<SimulatorOperation, () => Promise<unknown>> = {
      CreateSnapshot: () =>
        client.createSnapshot({ Simulation: "target", Destination: { BucketName: BUCKET } }),
      DescribeSimulation: () => client.describeSimulation({ Simulation: "target" }),
      ListSimulations: () => client.listSimulations(),
      StartSimulation: () =>
        client.startSimulation({
          Name: "never-started",
          RoleArn: "arn:aws:iam::123456789012:role/chaos",
          SchemaS3Location: { BucketName: BUCKET, ObjectKey: "schema.yaml" },
        }),
      StopSimulation: () => client.stopSimulation({ Simulation: "target" }),
      DeleteSimulation: () => client.deleteSimulation({ Simulation: "target" }),
      ListTagsForResource: () => client.listTagsForResource({ ResourceArn: ARN("target") }),
    };
    for (const [operation, call] of Object.entries(calls) as [
      SimulatorOperation,
      () => Promise<unknown>,
    ][]) {
      const seen = new Set(await outcomes(40, call));
      expect([...seen].sort(), operation).toEqual([...INJECTABLE_ERRORS[operation]].sort());
    }
    expect(INJECTABLE_ERRORS.ListTagsForResource).toEqual(["ThrottlingException"]);
    expect(INJECTABLE_ERRORS.DescribeSimulation).not.toContain("ConflictException");
  });

  it("fails a call before it takes effect: no snapshot file, no stop, no start, no CloudTrail event", async () => {
    const calls: SimulatorApiCall[] = [];
    const { simulator, provider } = await weaver({ rate: 1, seed: 9 }, (call) => calls.push(call));
    simulator.createSimulation("untouched");

    await expect(
      provider.createSnapshot("untouched", { bucket: BUCKET, prefix: "chaos" }),
    ).rejects.toBeInstanceOf(SimSpaceWeaverServiceError);
    await expect(provider.stopSimulation("untouched")).rejects.toBeInstanceOf(
      SimSpaceWeaverServiceError,
    );
    await expect(provider.deleteSimulation("untouched")).rejects.toBeInstanceOf(
      SimSpaceWeaverServiceError,
    );
    await expect(
      provider.startSimulation({
        name: "not-created",
        roleArn: "arn:aws:iam::123456789012:role/chaos",
        schema: { bucket: BUCKET, key: "schema.yaml" },
      }),
    ).rejects.toBeInstanceOf(SimSpaceWeaverServiceError);
    await sleep(300);

    expect(simulator.simulation("untouched")?.status).toBe("STARTED");
    expect(simulator.simulation("not-created")).toBeUndefined();
    expect(calls).toEqual([]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "chaos/" }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it("is turned on and off at run time, and a rate of 0 disturbs nothing", async () => {
    const { simulator, client } = await weaver();
    simulator.createSimulation("switch");
    const describe = () => client.describeSimulation({ Simulation: "switch" });

    expect(await outcomes(20, describe)).toEqual(Array(20).fill("ok"));
    simulator.injectFaults({ rate: 1, seed: 5 });
    expect((await outcomes(5, describe)).every((o) => o !== "ok")).toBe(true);
    simulator.injectFaults({ rate: 0, seed: 5 });
    expect(await outcomes(20, describe)).toEqual(Array(20).fill("ok"));
    simulator.injectFaults({ rate: 1, seed: 5 });
    simulator.injectFaults(undefined);
    expect(await outcomes(5, describe)).toEqual(Array(5).fill("ok"));
  });
});
