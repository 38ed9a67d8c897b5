import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimSpaceWeaverServiceError } from "../../lib/adapters/simspaceweaver/client.ts";
import type { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import type { LocalSimulator, SimulatorApiCall } from "../../lib/local/simulator.ts";
import { LOCAL_CREDENTIALS } from "../support/local-aws.ts";
import { startLocalWeaver, type LocalWeaver } from "../support/local-weaver.ts";

let weaver: LocalWeaver;
let simulator: LocalSimulator;
let provider: SimSpaceWeaverProvider;
const calls: SimulatorApiCall[] = [];

beforeAll(async () => {
  // Neither tags nor stop and delete touch S3; the client is never used.
  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: LOCAL_CREDENTIALS,
  });
  weaver = await startLocalWeaver({
    s3,
    startDelayMs: 50,
    stopDelayMs: 50,
    onApiCall: (call) => calls.push(call),
  });
  ({ simulator, provider } = weaver);
});

afterAll(async () => {
  await weaver.close();
});

describe("ListTagsForResource against the simulator", () => {
  it("returns the tags a simulation was started with, by the ARN its listing carries", async () => {
    await provider.startSimulation({
      name: "tagged-sim",
      roleArn: "arn:aws:iam::123456789012:role/weaver",
      schema: { bucket: "weaver-snapshots", key: "schemas/demo.yaml" },
      tags: { team: "oceans", "cost-center": "42" },
    });
    simulator.createSimulation("untagged-sim");

    const listed = await provider.listSimulations();
    const arnOf = (name: string) => listed.find((s) => s.name === name)?.arn ?? "";

    expect(arnOf("tagged-sim")).toBe(
      "arn:aws:simspaceweaver:us-east-1:123456789012:simulation/tagged-sim",
    );
    expect(await provider.listTags(arnOf("tagged-sim"))).toEqual({
      team: "oceans",
      "cost-center": "42",
    });
    expect(await provider.listTags(arnOf("untagged-sim"))).toEqual({});
  });

  it("answers ResourceNotFoundException for an ARN it does not know", async () => {
    const error = await provider
      .listTags("arn:aws:simspaceweaver:us-east-1:123456789012:simulation/ghost")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(error).toMatchObject({ code: "ResourceNotFoundException", status: 404 });
  });
});

describe("the simulator's CloudTrail hook", () => {
  it("reports accepted StopSimulation and DeleteSimulation calls, not refused ones", async () => {
    simulator.createSimulation("short-lived");
    calls.length = 0;

    await provider.stopSimulation("short-lived");
    await provider.deleteSimulation("short-lived");
    await provider.stopSimulation("ghost").catch(() => undefined);

    expect(calls.map((c) => [c.eventName, c.requestParameters])).toEqual([
      ["StopSimulation", { simulation: "short-lived" }],
      ["DeleteSimulation", { simulation: "short-lived" }],
    ]);
  });
});
