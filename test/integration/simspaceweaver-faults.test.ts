import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SimSpaceWeaverServiceError } from "../../lib/adapters/simspaceweaver/client.ts";
import type { FaultRate } from "../../lib/local/faults.ts";
import type { SimulatorApiCall } from "../../lib/local/simulator.ts";
import { INJECTABLE_ERRORS, type InjectedFault } from "../../lib/local/simulator-faults.ts";
import type { SimulatorOperation } from "../../lib/local/simulator-wire.ts";
import { sleep } from "../support/async.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { startLocalWeaver, type LocalWeaver } from "../support/local-weaver.ts";

const BUCKET = "chaos-snapshots";
const ARN = (name: string) => `arn:aws:simspaceweaver:us-east-1:123456789012:simulation/${name}`;

let aws: LocalAws;
const running: LocalWeaver[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET] });
});

afterEach(async () => {
  for (const weaver of running.splice(0)) await weaver.close();
});

afterAll(async () => {
  await aws?.close();
});

/** A simulator (with faults from the start, or none) and a real client pointed at it. */
async function weaver(
  faults?: FaultRate,
  onApiCall?: (call: SimulatorApiCall) => void,
): Promise<LocalWeaver & { injected: InjectedFault[] }> {
  const injected: InjectedFault[] = [];
  const started = await startLocalWeaver({
    s3: aws.s3,
    startDelayMs: 50,
    stopDelayMs: 50,
    snapshotDelayMs: 100,
    faults,
    onApiCall,
    onFault: (fault) => injected.push(fault),
  });
  running.push(started);
  return { ...started, injected };
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
    const listed = await aws.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "chaos/" }),
    );
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
