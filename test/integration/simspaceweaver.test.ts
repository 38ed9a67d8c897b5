import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  SimSpaceWeaverServiceError,
  type SimSpaceWeaverClient,
} from "../../lib/adapters/simspaceweaver/client.ts";
import type { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import { ValidationError } from "../../lib/domain/errors.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import type { LocalSimulator } from "../../lib/local/simulator.ts";
import { readZipEntries, type SnapshotState } from "../../lib/local/simulator-snapshots.ts";
import type { SimulationDetails, SimulationStatus } from "../../lib/ports/simulation-provider.ts";
import { sleep } from "../support/async.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { startLocalWeaver, type LocalWeaver } from "../support/local-weaver.ts";

const BUCKET = "weaver-snapshots";
const ROLE = "arn:aws:iam::123456789012:role/weaver";
const SCHEMA = { bucket: BUCKET, key: "schemas/demo.yaml" };
const TICK_MS = 10;

let aws: LocalAws;
let weaver: LocalWeaver;
let s3: S3Client;
let simulator: LocalSimulator;
let client: SimSpaceWeaverClient;
let provider: SimSpaceWeaverProvider;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET] });
  s3 = aws.s3;
  weaver = await startLocalWeaver({
    s3,
    startDelayMs: 200,
    stopDelayMs: 200,
    snapshotDelayMs: 400,
    tickMs: TICK_MS,
  });
  ({ simulator, client, provider } = weaver);
});

afterAll(async () => {
  await weaver?.close();
  await aws?.close();
});

/** Polls DescribeSimulation until the simulation reaches `status`, recording what it went through. */
async function waitForStatus(
  name: string,
  status: SimulationStatus,
  timeoutMs = 5_000,
): Promise<{ details: SimulationDetails; seen: SimulationStatus[] }> {
  const seen: SimulationStatus[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const details = await provider.describeSimulation(name);
    if (seen.at(-1) !== details.status) seen.push(details.status);
    if (details.status === status) return { details, seen };
    if (Date.now() > deadline) {
      throw new Error(`${name} stayed ${details.status}; seen ${seen.join(" → ")}`);
    }
    await sleep(25);
  }
}

const rejection = <T>(promise: Promise<T>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

async function listKeys(prefix: string): Promise<string[]> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listing.Contents ?? []).map((object) => object.Key ?? "");
}

async function readObject(key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}

/** The keys a snapshot requested between `before` and `after` may have (one per second). */
function candidateKeys(prefix: string, simulation: string, before: Date, after: Date): string[] {
  const keys: string[] = [];
  for (let t = Math.floor(before.getTime() / 1000); t <= after.getTime() / 1000; t++) {
    keys.push(snapshotKey(prefix, simulation, new Date(t * 1000)));
  }
  return keys;
}

/** Takes a snapshot through the provider and waits for the file; returns its key and times. */
async function snapshotOf(name: string, prefix: string) {
  const before = new Date();
  await provider.createSnapshot(name, { bucket: BUCKET, prefix });
  const after = new Date();
  await waitForStatus(name, "STARTED");
  const keys = await listKeys(`${prefix}/snapshot/${name}-`);
  expect(keys).toHaveLength(1);
  const [key = ""] = keys;
  expect(candidateKeys(prefix, name, before, after)).toContain(key);
  return { key, before, after };
}

describe("SimSpace Weaver client and provider on the local simulator", () => {
  it("lists simulations page by page with MaxResults and NextToken", async () => {
    const names = ["page-a", "page-b", "page-c", "page-d", "page-e"];
    for (const name of names) simulator.createSimulation(name);
    simulator.setStatus("page-c", "STOPPED");

    const first = await client.listSimulations({ MaxResults: 2 });
    expect(first.Simulations?.map((s) => s.Name)).toEqual(["page-a", "page-b"]);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await client.listSimulations({ MaxResults: 2, NextToken: first.NextToken });
    expect(second.Simulations?.map((s) => s.Name)).toEqual(["page-c", "page-d"]);

    const pages: string[][] = [];
    for await (const page of client.paginateSimulations({ MaxResults: 2 })) {
      pages.push((page.Simulations ?? []).map((s) => s.Name ?? ""));
    }
    expect(pages).toEqual([["page-a", "page-b"], ["page-c", "page-d"], ["page-e"]]);

    const all = await provider.listSimulations();
    expect(all.filter((s) => s.name.startsWith("page-")).map((s) => s.name)).toEqual(names);
    const stopped = all.find((s) => s.name === "page-c");
    expect(stopped).toMatchObject({
      status: "STOPPED",
      targetStatus: "STOPPED",
      arn: "arn:aws:simspaceweaver:us-east-1:123456789012:simulation/page-c",
    });
    expect(stopped?.creationTime).toBeInstanceOf(Date);
  });

  it("refuses a NextToken it did not issue and a MaxResults below 1", async () => {
    for (const input of [{ NextToken: "bm90LWEtdG9rZW4" }, { MaxResults: 0 }]) {
      expect(await rejection(client.listSimulations(input))).toMatchObject({
        code: "ValidationException",
        status: 400,
      });
    }
  });

  it("describes a simulation with its run's ExecutionId, creation time and settings", async () => {
    const creationTime = new Date("2025-03-04T05:06:07.250Z");
    const seeded = simulator.createSimulation("describe-me", {
      description: "ocean model",
      maximumDuration: "2D",
      creationTime,
    });

    const details = await provider.describeSimulation("describe-me");
    expect(details).toEqual({
      name: "describe-me",
      status: "STARTED",
      targetStatus: "STARTED",
      arn: "arn:aws:simspaceweaver:us-east-1:123456789012:simulation/describe-me",
      creationTime,
      executionId: seeded.executionId,
      maximumDuration: "2D",
    });
    const raw = await client.describeSimulation({ Simulation: "describe-me" });
    expect(raw).toMatchObject({
      Description: "ocean model",
      LiveSimulationState: { Clocks: [{ Status: "STARTED", TargetStatus: "STARTED" }] },
    });
  });

  it("starts a simulation: STARTING, then STARTED after the delay, then its clock ticks", async () => {
    const started = await provider.startSimulation({
      name: "fresh",
      roleArn: ROLE,
      schema: SCHEMA,
      description: "a new run",
    });
    expect(started.arn).toBe("arn:aws:simspaceweaver:us-east-1:123456789012:simulation/fresh");
    expect(started.executionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await provider.describeSimulation("fresh")).status).toBe("STARTING");

    const { details, seen } = await waitForStatus("fresh", "STARTED");
    expect(seen).toEqual(["STARTING", "STARTED"]);
    expect(details.executionId).toBe(started.executionId);
    const tick = simulator.simulation("fresh")?.tick ?? -1;
    await sleep(TICK_MS * 5);
    expect(simulator.simulation("fresh")?.tick).toBeGreaterThan(tick);
  });

  it("answers a repeated StartSimulation with the same ClientToken with the same run", async () => {
    const input = { name: "idempotent", roleArn: ROLE, schema: SCHEMA, clientToken: "tok-1" };
    const first = await provider.startSimulation(input);
    const second = await provider.startSimulation(input);
    expect(second).toEqual(first);

    const taken = await rejection(provider.startSimulation({ ...input, clientToken: "tok-2" }));
    expect(taken).toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(taken).toMatchObject({
      code: "ValidationException",
      message: "A simulation named idempotent already exists.",
    });
  });

  it("refuses a start without a schema or snapshot, and with a role that is not an ARN", async () => {
    const noSource = await rejection(provider.startSimulation({ name: "nothing", roleArn: ROLE }));
    expect(noSource).toMatchObject({ code: "ValidationException", status: 400 });
    expect((noSource as Error).message).toContain("SchemaS3Location or SnapshotS3Location");

    const badRole = await rejection(
      provider.startSimulation({ name: "bad-role", roleArn: "weaver", schema: SCHEMA }),
    );
    expect(badRole).toMatchObject({ code: "ValidationException" });
    expect((badRole as Error).message).toContain("RoleArn");
  });

  it("takes a snapshot: SNAPSHOT_IN_PROGRESS, a zip with state.json at the right key, STARTED", async () => {
    const seeded = simulator.createSimulation("snap-sim", { tick: 1_000 });
    const before = new Date();
    await provider.createSnapshot("snap-sim", { bucket: BUCKET, prefix: "runs/2025" });
    const after = new Date();

    expect((await provider.describeSimulation("snap-sim")).status).toBe("SNAPSHOT_IN_PROGRESS");
    expect(await listKeys("runs/2025/snapshot/")).toEqual([]);

    const { seen } = await waitForStatus("snap-sim", "STARTED");
    expect(seen).toEqual(["SNAPSHOT_IN_PROGRESS", "STARTED"]);
    const keys = await listKeys("runs/2025/snapshot/");
    expect(keys).toHaveLength(1);
    const [key = ""] = keys;
    expect(candidateKeys("runs/2025", "snap-sim", before, after)).toContain(key);
    expect(key).toMatch(/^runs\/2025\/snapshot\/snap-sim-\d{6}-\d{4}-\d{2}\.zip$/);

    const bytes = await readObject(key);
    expect(Buffer.from(bytes.subarray(0, 4)).toString("hex")).toBe("504b0304");
    const entries = readZipEntries(bytes);
    expect([...entries.keys()]).toEqual(["state.json"]);
    const state = JSON.parse(entries.get("state.json")?.toString("utf8") ?? "") as SnapshotState;
    expect(state).toMatchObject({ simulation: "snap-sim", executionId: seeded.executionId });
    expect(state.tick).toBeGreaterThanOrEqual(1_000);
    const takenAt = Date.parse(state.takenAt);
    expect(takenAt).toBeGreaterThanOrEqual(before.getTime());
    expect(takenAt).toBeLessThanOrEqual(after.getTime());
  });

  it("answers a second snapshot during one in progress with a typed ConflictException", async () => {
    simulator.createSimulation("busy");
    await provider.createSnapshot("busy", { bucket: BUCKET, prefix: "busy" });

    const error = await rejection(provider.createSnapshot("busy", { bucket: BUCKET, prefix: "b" }));
    expect(error).toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(error).toMatchObject({
      code: "ConflictException",
      status: 409,
      retryable: false,
      message: "A snapshot of simulation busy is already in progress.",
    });
    expect((error as SimSpaceWeaverServiceError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForStatus("busy", "STARTED");
    expect(await listKeys("b/")).toEqual([]);
  });

  it("never names two snapshots of one simulation alike: each stays in progress past its second", async () => {
    simulator.createSimulation("quick-twice");
    // Early in a second, so the 400 ms snapshot would end, and the next begin, within it.
    while (Date.now() % 1000 > 50) await sleep(5);
    const first = await snapshotOf("quick-twice", "twice");
    expect(Date.now()).toBeGreaterThanOrEqual(
      (Math.floor(first.before.getTime() / 1000) + 1) * 1000,
    );
    await provider.createSnapshot("quick-twice", { bucket: BUCKET, prefix: "twice" });
    await waitForStatus("quick-twice", "STARTED");
    const keys = await listKeys("twice/snapshot/quick-twice-");
    expect(keys).toHaveLength(2);
    expect(keys).toContain(first.key);
  });

  it("refuses a snapshot of a simulation that is not STARTED with a ValidationException", async () => {
    simulator.createSimulation("not-running", { status: "STOPPED" });
    simulator.createSimulation("warming-up", { status: "STARTING" });
    for (const name of ["not-running", "warming-up"]) {
      const error = await rejection(provider.createSnapshot(name, { bucket: BUCKET, prefix: "x" }));
      expect(error).toBeInstanceOf(SimSpaceWeaverServiceError);
      expect(error).toMatchObject({ code: "ValidationException", status: 400, retryable: false });
      expect((error as Error).message).toContain("a snapshot needs a STARTED simulation");
    }
  });

  it("rejects a bad name in the provider before any call, and in the service as well", async () => {
    const local = await rejection(provider.describeSimulation("bad name!"));
    expect(local).toBeInstanceOf(ValidationError);

    const remote = await rejection(client.describeSimulation({ Simulation: "bad name!" }));
    expect(remote).toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(remote).toMatchObject({ code: "ValidationException", status: 400 });
    expect((remote as Error).message).toContain("simulation");

    const tooLong = await rejection(
      client.createSnapshot({ Simulation: "x".repeat(65), Destination: { BucketName: BUCKET } }),
    );
    expect(tooLong).toMatchObject({ code: "ValidationException" });
  });

  it("refuses a name simsnap allows but SimSpace Weaver does not, at its boundary, calling nothing", async () => {
    // "My First Simulation" is a fine simsnap (and NVIDIA Air) name; SimSpace Weaver has none such.
    const name = "My First Simulation";
    const spies = (
      [
        "describeSimulation",
        "createSnapshot",
        "stopSimulation",
        "deleteSimulation",
        "startSimulation",
      ] as const
    ).map((operation) => vi.spyOn(client, operation));
    try {
      const calls: (() => Promise<unknown>)[] = [
        () => provider.describeSimulation(name),
        () => provider.createSnapshot(name, { bucket: BUCKET, prefix: "" }),
        () => provider.stopSimulation(name),
        () => provider.deleteSimulation(name),
        () => provider.startSimulation({ name, roleArn: ROLE, schema: SCHEMA }),
      ];
      for (const call of calls) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toBe(
          "Invalid SimSpace Weaver simulation name: (root): must match ^[a-zA-Z0-9_.-]+$ (letters, digits, _ . -)",
        );
      }
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(provider.simulationNameRefusal(name)).toBe(
      "SimSpace Weaver simulation names must match ^[a-zA-Z0-9_.-]+$ (letters, digits, _ . -)",
    );
    expect(provider.simulationNameRefusal("x".repeat(65))).toMatch(/must be 1 to 64 characters/);
    expect(provider.simulationNameRefusal("Sim_1.v-2")).toBeUndefined();
  });

  it("answers ResourceNotFoundException for a simulation that does not exist", async () => {
    const calls: (() => Promise<unknown>)[] = [
      () => provider.describeSimulation("ghost"),
      () => provider.createSnapshot("ghost", { bucket: BUCKET, prefix: "" }),
      () => provider.stopSimulation("ghost"),
      () => provider.deleteSimulation("ghost"),
    ];
    for (const call of calls) {
      expect(await rejection(call())).toMatchObject({
        code: "ResourceNotFoundException",
        status: 404,
        retryable: false,
        message: "Simulation ghost does not exist.",
      });
    }
  });

  it("denies requests whose SigV4 scope does not name simspaceweaver, checking only the scope", async () => {
    const url = `${simulator.endpoint}/listsimulations`;
    const unsigned = await fetch(url);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")?.split(":")[0]).toBe("AccessDeniedException");
    expect(((await unsigned.json()) as { message: string }).message).toContain("simspaceweaver");

    const scope = (service: string) =>
      `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/${service}/aws4_request, ` +
      `SignedHeaders=host, Signature=${"0".repeat(64)}`;
    const wrongService = await fetch(url, { headers: { authorization: scope("s3") } });
    expect(wrongService.status).toBe(403);
    const rightScope = await fetch(url, { headers: { authorization: scope("simspaceweaver") } });
    expect(rightScope.status).toBe(200);
  });

  it("stops a simulation for good: STOPPING, STOPPED, no snapshot, no restart under its name", async () => {
    await provider.startSimulation({ name: "to-stop", roleArn: ROLE, schema: SCHEMA });
    await waitForStatus("to-stop", "STARTED");
    await provider.stopSimulation("to-stop");

    const { details, seen } = await waitForStatus("to-stop", "STOPPED");
    expect(seen).toEqual(["STOPPING", "STOPPED"]);
    expect(details.targetStatus).toBe("STOPPED");
    const tick = simulator.simulation("to-stop")?.tick;
    await sleep(TICK_MS * 5);
    expect(simulator.simulation("to-stop")?.tick).toBe(tick);

    expect(
      await rejection(provider.createSnapshot("to-stop", { bucket: BUCKET, prefix: "s" })),
    ).toMatchObject({ code: "ValidationException" });
    expect(
      await rejection(provider.startSimulation({ name: "to-stop", roleArn: ROLE, schema: SCHEMA })),
    ).toMatchObject({ code: "ValidationException" });
  });

  it("deletes a simulation: DELETING, DELETED, then it is gone", async () => {
    simulator.createSimulation("to-delete", { status: "STOPPED" });
    await provider.deleteSimulation("to-delete");
    expect(await provider.describeSimulation("to-delete")).toMatchObject({
      status: "DELETING",
      targetStatus: "DELETED",
    });
    await waitForStatus("to-delete", "DELETED");

    const deadline = Date.now() + 5_000;
    let error: unknown;
    while (error === undefined && Date.now() < deadline) {
      error = await provider.describeSimulation("to-delete").then(
        () => undefined,
        (e: unknown) => e,
      );
      await sleep(25);
    }
    expect(error).toMatchObject({ code: "ResourceNotFoundException" });
    expect((await provider.listSimulations()).map((s) => s.name)).not.toContain("to-delete");
  });

  it("restores a new simulation from a snapshot at the snapshot's tick", async () => {
    simulator.createSimulation("origin", { tick: 50_000 });
    const { key } = await snapshotOf("origin", "restore");
    const zip = readZipEntries(await readObject(key));
    const state = JSON.parse(zip.get("state.json")?.toString("utf8") ?? "") as SnapshotState;

    const restored = await provider.startSimulation({
      name: "restored",
      roleArn: ROLE,
      snapshot: { bucket: BUCKET, key },
    });
    const { details } = await waitForStatus("restored", "STARTED");
    expect(details.executionId).toBe(restored.executionId);
    expect(details.executionId).not.toBe(state.executionId);

    const tick = simulator.simulation("restored")?.tick ?? -1;
    expect(tick).toBeGreaterThanOrEqual(state.tick);
    expect(tick).toBeLessThan(state.tick + 1_000);
    const raw = await client.describeSimulation({ Simulation: "restored" });
    expect(raw.SnapshotS3Location).toEqual({ BucketName: BUCKET, ObjectKey: key });
    // The provider hands it on: what a restore test holds the throwaway to.
    expect(details.startedFrom).toEqual({ bucket: BUCKET, key });
    expect(simulator.simulation("restored")?.restoredTick).toBe(state.tick);
  });

  it("loses the clock of a restore when told to (misrestoreNextStart): the simulation starts at tick 0", async () => {
    simulator.createSimulation("origin-2", { tick: 40_000 });
    const { key } = await snapshotOf("origin-2", "misrestore");
    simulator.misrestoreNextStart();
    await provider.startSimulation({
      name: "misrestored",
      roleArn: ROLE,
      snapshot: { bucket: BUCKET, key },
    });
    await waitForStatus("misrestored", "STARTED");
    expect(simulator.simulation("misrestored")?.restoredTick).toBe(0);
    const clock = await fetch(`${simulator.endpoint}/_local/clock?simulation=misrestored`);
    expect(await clock.json()).toMatchObject({ simulation: "misrestored", restoredTick: 0 });
  });

  it("fails a restore from a snapshot file that does not exist, with a StartError", async () => {
    const key = "restore/snapshot/missing-250101-0000-00.zip";
    await provider.startSimulation({
      name: "doomed",
      roleArn: ROLE,
      snapshot: { bucket: BUCKET, key },
    });
    const { details } = await waitForStatus("doomed", "FAILED");
    expect(details.startError).toContain(`s3://${BUCKET}/${key}`);
  });

  it("lets tests fail or stall the next snapshot and force a status", async () => {
    simulator.createSimulation("hooked");
    simulator.failNextSnapshot("hooked");
    await provider.createSnapshot("hooked", { bucket: BUCKET, prefix: "hooked" });
    const { seen } = await waitForStatus("hooked", "STARTED");
    expect(seen).toEqual(["SNAPSHOT_IN_PROGRESS", "STARTED"]);
    expect(await listKeys("hooked/")).toEqual([]);

    simulator.stallNextSnapshot("hooked");
    await provider.createSnapshot("hooked", { bucket: BUCKET, prefix: "hooked" });
    await sleep(800);
    expect((await provider.describeSimulation("hooked")).status).toBe("SNAPSHOT_IN_PROGRESS");
    expect(await listKeys("hooked/")).toEqual([]);

    simulator.setStatus("hooked", "FAILED");
    expect((await provider.describeSimulation("hooked")).status).toBe("FAILED");
  });
});
