import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { S3ArchiveStore } from "../../lib/adapters/s3/archive-store.ts";
import type { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import { ArchiveManifestSchema } from "../../lib/domain/archive.ts";
import { markCheckpointDeleted, type Checkpoint } from "../../lib/domain/checkpoint.ts";
import { ConflictError, RetryLaterError } from "../../lib/domain/errors.ts";
import type { RestoreStep } from "../../lib/domain/restore.ts";
import { snapshotFolder } from "../../lib/domain/snapshot-key.ts";
import type { LocalSimulator } from "../../lib/local/simulator.ts";
import { readZipEntries } from "../../lib/local/simulator-snapshots.ts";
import type { CopyOptions, StoredObject } from "../../lib/ports/archive-store.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import type { S3Location } from "../../lib/domain/checkpoint.ts";
import {
  archiveCheckpoint,
  type ArchiveCheckpointDeps,
} from "../../lib/usecases/archive/archive-checkpoint.ts";
import {
  advanceRestore,
  restoreCheckpoint,
  type RestoreDeps,
} from "../../lib/usecases/restore/restore-checkpoint.ts";
import { sleep } from "../support/async.ts";
import { checkpoint as makeCheckpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { startLocalWeaver, type LocalWeaver } from "../support/local-weaver.ts";
import { ManualClock, MemoryEventPublisher, MemoryQueue } from "../support/memory.ts";

const HOT = "snapshots";
const ARCHIVE = "archive";
const TABLE = "archive-it";
const MiB = 1024 ** 2;
const TICK = 4242;

/** Counts the S3 requests of one client by command, as the SDK sends them. */
function countRequests(s3: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "?";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countArchiveRequests" },
  );
  return counts;
}

/** The real adapter, with a copy that is really corrupted on s3rver after S3 wrote it. */
class CorruptingArchiveStore extends S3ArchiveStore {
  constructor(private readonly raw: S3Client) {
    super(raw);
  }

  override async copy(source: StoredObject, destination: S3Location, options: CopyOptions) {
    const result = await super.copy(source, destination, options);
    const copy = await this.raw.send(
      new GetObjectCommand({ Bucket: destination.bucket, Key: destination.key }),
    );
    const bytes = Buffer.from((await copy.Body?.transformToByteArray()) ?? []);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    await this.raw.send(
      new PutObjectCommand({ Bucket: destination.bucket, Key: destination.key, Body: bytes }),
    );
    return result;
  }
}

let aws: LocalAws;
let weaver: LocalWeaver;
let simulator: LocalSimulator;
let provider: SimSpaceWeaverProvider;
let requests: Map<string, number>;
let checkpoints: DynamoDbCheckpointStore;
let archiveDeps: ArchiveCheckpointDeps;
let restoreDeps: RestoreDeps & { clock: ManualClock; restoreSteps: MemoryQueue<RestoreStep> };

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [HOT, ARCHIVE], catalogTables: [TABLE] });
  requests = countRequests(aws.s3);
  // A tick that never advances: a snapshot and its restore record the same tick.
  weaver = await startLocalWeaver({
    s3: aws.s3,
    startDelayMs: 200,
    snapshotDelayMs: 100,
    tickMs: 1e9,
  });
  ({ simulator, provider } = weaver);
  checkpoints = new DynamoDbCheckpointStore(aws.doc, TABLE);
  const clock = new ManualClock(new Date());
  const storage = new S3ArchiveStore(aws.s3, {
    copy: { thresholdBytes: 8 * MiB, partBytes: 5 * MiB },
  });
  archiveDeps = {
    checkpoints,
    storage,
    events: new MemoryEventPublisher(),
    clock,
    owned: { bucket: HOT, prefixes: ["simsnap"] },
    providers: directoryOf([provider]),
    archive: {
      bucket: ARCHIVE,
      storageClass: "STANDARD_IA",
      checksumAlgorithm: "CRC64NVME",
      retrySeconds: 30,
    },
  };
  restoreDeps = {
    checkpoints,
    jobs: new DynamoDbJobStore(aws.doc, TABLE),
    storage,
    providers: directoryOf([provider]),
    restoreSteps: new MemoryQueue<RestoreStep>(),
    events: new MemoryEventPublisher(),
    clock,
    owned: { bucket: HOT, prefixes: ["simsnap"] },
    restore: {
      roleArn: "arn:aws:iam::123456789012:role/simsnap-restore",
      snapshotBucket: HOT,
      snapshotPrefix: "simsnap",
      archiveBucket: ARCHIVE,
      checksumAlgorithm: "CRC64NVME",
      deadlineSeconds: 600,
      firstCheckSeconds: 1,
      maxCheckSeconds: 2,
      thaw: { days: 1, tier: "Standard" },
    },
  };
}, 60_000);

afterAll(async () => {
  await weaver?.close();
  await aws?.close();
});

beforeEach(() => requests.clear());

async function read(location: S3Location): Promise<Buffer> {
  const object = await aws.s3.send(
    new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

let sequence = 0;

/** A COMPLETE checkpoint of a real snapshot taken by the simulator (its zip records `TICK`). */
async function snapshotCheckpoint(simulation: string): Promise<Checkpoint> {
  simulator.createSimulation(simulation, { tick: TICK });
  await provider.createSnapshot(simulation, { bucket: HOT, prefix: "simsnap" });
  let key: string | undefined;
  for (let i = 0; i < 100 && !key; i++) {
    await sleep(50);
    for await (const object of archiveDeps.storage.list(HOT, snapshotFolder("simsnap"))) {
      if (object.key.includes(`/${simulation}-`)) key = object.key;
    }
  }
  if (!key) throw new Error(`no snapshot of ${simulation}`);
  return checkpointFor(simulation, { bucket: HOT, key }, (await read({ bucket: HOT, key })).length);
}

async function checkpointFor(
  simulation: string,
  location: S3Location,
  size: number,
): Promise<Checkpoint> {
  const createdAt = new Date(Date.UTC(2026, 10, 23, 10, 0, sequence++)).toISOString();
  const checkpoint = makeCheckpoint({
    id: `${simulation}-checkpoint`,
    simulation,
    provider: "simspaceweaver",
    name: simulation,
    createdAt,
    location,
    size,
  });

  await checkpoints.create(checkpoint);
  return checkpoint;
}

const archiveOf = (checkpoint: Checkpoint): S3Location => {
  const file = checkpoint.location?.key.split("/").at(-1) ?? "";
  const month = checkpoint.createdAt.slice(5, 7);
  return { bucket: ARCHIVE, key: `${checkpoint.simulation}/2026/${month}/${file}` };
};

/** Runs the restore job's steps as the queue would deliver them, until it finishes. */
async function runRestore(jobId: string) {
  for (let i = 0; i < 100; i++) {
    const job = await restoreDeps.jobs.get(jobId);
    if (job?.status !== "RUNNING") return job;
    const step = restoreDeps.restoreSteps.sent.at(-1)?.message as RestoreStep;
    restoreDeps.clock.set(step.dueAt);
    await advanceRestore(step, restoreDeps);
    await sleep(100);
  }
  throw new Error(`restore job ${jobId} did not finish`);
}

describe("archive on the local S3", () => {
  it("copies the file into the archive layout in its storage class and writes its manifest", async () => {
    const checkpoint = await snapshotCheckpoint("archive-copy");
    const target = archiveOf(checkpoint);

    const result = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);

    expect(result).toMatchObject({ outcome: "archived", copied: true, archive: target });
    expect(await read(target)).toEqual(await read(checkpoint.location as S3Location));
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: ARCHIVE, Key: target.key }));
    expect(head.StorageClass).toBe("STANDARD_IA");
    expect(head.Metadata).toMatchObject({ "simsnap-checkpoint-id": checkpoint.id });
    expect(await checkpoints.get(checkpoint.id)).toMatchObject({
      version: 2,
      archive: { ...target, storageClass: "STANDARD_IA" },
      checksum: expect.stringMatching(/^sha256:[A-Za-z0-9+/]{43}=$/),
    });

    const manifest = ArchiveManifestSchema.parse(
      JSON.parse((await read({ bucket: ARCHIVE, key: `${target.key}.manifest.json` })).toString()),
    );
    expect(manifest).toMatchObject({
      manifestVersion: "1",
      simsnapVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
      checkpoint: { id: checkpoint.id, simulation: "archive-copy", state: "COMPLETE" },
      source: { ...checkpoint.location, size: checkpoint.size, etag: expect.any(String) },
      archive: { ...target, storageClass: "STANDARD_IA", copiedWith: "CopyObject", parts: 1 },
      // s3rver keeps no checksums: both objects were streamed and hashed.
      checksum: { algorithm: "SHA256", verification: "sha256-stream" },
      times: { checkpointCreatedAt: checkpoint.createdAt, archivedAt: expect.any(String) },
    });
    expect((await checkpoints.get(checkpoint.id))?.checksum).toBe(
      `sha256:${manifest.checksum.value}`,
    );
  });

  it("detects a corrupted copy, retries it and never records it as archived", async () => {
    const checkpoint = await snapshotCheckpoint("archive-corrupt");
    const corrupting = { ...archiveDeps, storage: new CorruptingArchiveStore(aws.s3) };

    const failure = archiveCheckpoint({ checkpointId: checkpoint.id, attempt: 1 }, corrupting);

    await expect(failure).rejects.toBeInstanceOf(RetryLaterError);
    await expect(failure).rejects.toThrow(/does not match its source: SHA-256 .* ≠ source/);
    expect((await checkpoints.get(checkpoint.id))?.archive).toBeUndefined();
    await expect(
      read({ bucket: ARCHIVE, key: `${archiveOf(checkpoint).key}.manifest.json` }),
    ).rejects.toThrow();

    // The redelivery finds the bad copy, does not accept it, and copies again.
    requests.clear();
    const retried = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);
    expect(retried).toMatchObject({ outcome: "archived", copied: true });
    expect(requests.get("CopyObjectCommand")).toBe(1);
    expect(await read(archiveOf(checkpoint))).toEqual(
      await read(checkpoint.location as S3Location),
    );
  });

  it("skips a checkpoint deleted between HeadObject and CopyObject, S3's NoSuchKey included", async () => {
    const checkpoint = await snapshotCheckpoint("archive-deleted-mid-copy");
    // A person's delete lands mid-request: the file goes first, then the record becomes DELETED.
    class DeletedMidCopy extends S3ArchiveStore {
      override async copy(source: StoredObject, destination: S3Location, options: CopyOptions) {
        await aws.s3.send(new DeleteObjectCommand({ Bucket: HOT, Key: source.key }));
        await checkpoints.save(markCheckpointDeleted(checkpoint, new Date()));
        return super.copy(source, destination, options);
      }
    }
    const storage = new DeletedMidCopy(aws.s3);

    const result = await archiveCheckpoint(
      { checkpointId: checkpoint.id },
      { ...archiveDeps, storage },
    );

    expect(result).toEqual({
      outcome: "skipped",
      checkpointId: checkpoint.id,
      reason: "checkpoint is DELETED: its file was deleted before it could be archived",
    });
    expect((await checkpoints.get(checkpoint.id))?.archive).toBeUndefined();
    expect(await storage.describe(archiveOf(checkpoint))).toBeUndefined();
  });

  it("copies a file above the threshold in parts with UploadPartCopy", async () => {
    const body = randomBytes(12 * MiB + 7);
    const location = { bucket: HOT, key: "simsnap/snapshot/archive-big-261123-1000-00.zip" };
    await aws.s3.send(new PutObjectCommand({ Bucket: HOT, Key: location.key, Body: body }));
    const checkpoint = await checkpointFor("archive-big", location, body.length);
    requests.clear();

    await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);

    expect(requests.get("CreateMultipartUploadCommand")).toBe(1);
    expect(requests.get("UploadPartCopyCommand")).toBe(3);
    expect(requests.get("CompleteMultipartUploadCommand")).toBe(1);
    expect(requests.get("CopyObjectCommand")).toBeUndefined();
    expect((await read(archiveOf(checkpoint))).equals(body)).toBe(true);
    const manifest = JSON.parse(
      (
        await read({ bucket: ARCHIVE, key: `${archiveOf(checkpoint).key}.manifest.json` })
      ).toString(),
    ) as { archive: { copiedWith: string; parts: number; size: number } };
    expect(manifest.archive).toMatchObject({
      copiedWith: "UploadPartCopy",
      parts: 3,
      size: body.length,
    });
  });

  it("copies once when the same request is delivered twice", async () => {
    const checkpoint = await snapshotCheckpoint("archive-twice");

    const first = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);
    const second = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);

    expect(first.outcome).toBe("archived");
    expect(second).toMatchObject({ outcome: "already-archived", archive: first.archive });
    expect(requests.get("CopyObjectCommand")).toBe(1);
  });

  it("does not copy again after a crash between the copy and the record", async () => {
    const checkpoint = await snapshotCheckpoint("archive-crash");
    const source = (await archiveDeps.storage.describe(checkpoint.location as S3Location))!;
    await archiveDeps.storage.copy(source, archiveOf(checkpoint), {
      storageClass: "STANDARD_IA",
      checksumAlgorithm: "CRC64NVME",
    });
    requests.clear();

    const result = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);

    expect(result).toMatchObject({ outcome: "archived", copied: false });
    expect(requests.get("CopyObjectCommand")).toBeUndefined();
    expect(requests.get("GetObjectCommand")).toBe(2);
  });

  it("keeps the archive of a simulation named .. inside the archive bucket's folder on s3rver", async () => {
    const directory = aws.servers.s3.directory;
    const before = (await readdir(directory)).sort();
    const checkpoint = await snapshotCheckpoint("..");
    const file = checkpoint.location?.key.split("/").at(-1) ?? "";
    expect(file).toMatch(/^\.\.-\d{6}-\d{4}-\d{2}\.zip$/);

    const result = await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);

    const key = `!dotdot/2026/11/${file}`;
    expect(result).toMatchObject({ outcome: "archived", archive: { bucket: ARCHIVE, key } });
    expect(await read({ bucket: ARCHIVE, key })).toEqual(await read(checkpoint.location!));
    // Nothing landed beside the buckets (a `../2026/…` key would have made a folder `2026`).
    expect((await readdir(directory)).sort()).toEqual(before);
    const inArchive = (await readdir(join(directory, ARCHIVE), { recursive: true })).map(String);
    expect(inArchive.some((path) => path.startsWith(join("!dotdot", "2026", "11", file)))).toBe(
      true,
    );

    // And it restores from there: the copy back reads the `!dotdot` key through CopySource.
    await aws.s3.send(new DeleteObjectCommand({ Bucket: HOT, Key: checkpoint.location?.key }));
    const archived = (await checkpoints.get(checkpoint.id)) as Checkpoint;
    await checkpoints.save(markCheckpointDeleted(archived, new Date()));
    const { job } = await restoreCheckpoint(
      { checkpointId: checkpoint.id, clientToken: "dotdot-1", simulationName: "from-dotdot" },
      restoreDeps,
    );
    const done = await runRestore(job.id);
    const copyBack = { bucket: HOT, key: `simsnap/restore/${checkpoint.id}/${file}` };
    expect(done).toMatchObject({ status: "SUCCEEDED", restore: { snapshot: copyBack } });
    expect(await read(copyBack)).toEqual(await read({ bucket: ARCHIVE, key }));
  });
});

describe("restore on the local S3 and simulator", () => {
  it("starts a new simulation from the hot snapshot file, at the snapshot's tick", async () => {
    const checkpoint = await snapshotCheckpoint("restore-hot");
    const state = JSON.parse(
      readZipEntries(await read(checkpoint.location as S3Location))
        .get("state.json")
        ?.toString() ?? "{}",
    ) as { tick: number };
    expect(state.tick).toBe(TICK);

    const { job, simulationName } = await restoreCheckpoint(
      { checkpointId: checkpoint.id, clientToken: "hot-1", maximumDuration: "600m" },
      restoreDeps,
    );
    const done = await runRestore(job.id);

    expect(done).toMatchObject({
      status: "SUCCEEDED",
      restore: { from: "hot", snapshot: checkpoint.location },
    });
    expect(simulator.simulation(simulationName)).toMatchObject({ status: "STARTED", tick: TICK });
    expect((await provider.describeSimulation(simulationName)).maximumDuration).toBe("600m");
  });

  it("restores from the archive after the hot file was pruned", async () => {
    const checkpoint = await snapshotCheckpoint("restore-archived");
    await archiveCheckpoint({ checkpointId: checkpoint.id }, archiveDeps);
    await aws.s3.send(new DeleteObjectCommand({ Bucket: HOT, Key: checkpoint.location?.key }));
    const archived = (await checkpoints.get(checkpoint.id)) as Checkpoint;
    await checkpoints.save(markCheckpointDeleted(archived, new Date()));

    const { job } = await restoreCheckpoint(
      { checkpointId: checkpoint.id, clientToken: "archive-1", simulationName: "from-archive" },
      restoreDeps,
    );
    const done = await runRestore(job.id);

    const copyBack = {
      bucket: HOT,
      key: `simsnap/restore/${checkpoint.id}/${checkpoint.location?.key.split("/").at(-1)}`,
    };
    expect(done).toMatchObject({
      status: "SUCCEEDED",
      restore: { from: "archive", source: archiveOf(checkpoint), snapshot: copyBack },
    });
    expect(await read(copyBack)).toEqual(await read(archiveOf(checkpoint)));
    expect(simulator.simulation("from-archive")).toMatchObject({ status: "STARTED", tick: TICK });
  });

  it("rejects restoring a deleted checkpoint that was never archived", async () => {
    const checkpoint = await snapshotCheckpoint("restore-lost");
    await aws.s3.send(new DeleteObjectCommand({ Bucket: HOT, Key: checkpoint.location?.key }));
    await checkpoints.save(markCheckpointDeleted(checkpoint, new Date()));

    const failure = restoreCheckpoint(
      { checkpointId: checkpoint.id, clientToken: "lost-1" },
      restoreDeps,
    );

    await expect(failure).rejects.toBeInstanceOf(ConflictError);
    await expect(failure).rejects.toThrow(
      /was never archived: there is no copy to restore it from/,
    );
    expect(await restoreDeps.jobs.listOpen("restore-lost", "restore")).toEqual([]);
  });
});
