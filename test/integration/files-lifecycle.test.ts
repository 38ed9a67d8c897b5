import { createHash } from "node:crypto";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3ArchiveStore } from "../../lib/adapters/s3/archive-store.ts";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import { ObjectSetManifestSchema } from "../../lib/domain/object-set-manifest.ts";
import type { RestoreStep } from "../../lib/domain/restore.ts";
import { RetentionConfigSchema } from "../../lib/domain/retention.ts";
import { archiveCheckpoint } from "../../lib/usecases/archive/archive-checkpoint.ts";
import { prune } from "../../lib/usecases/retention/prune.ts";
import {
  advanceRestore,
  restoreCheckpoint,
} from "../../lib/usecases/restore/restore-checkpoint.ts";
import { putObjects } from "../support/catalog-seed.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
} from "../support/files-world.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryQueue,
} from "../support/memory.ts";

const ARCHIVE = "archive";
const SNAPSHOTS = "snapshots";
/** Three Hugging Face checkpoints: 1,100 objects in the oldest, a few in the others. */
const SIZES = [1100, 4, 3];
const keyOf = (i: number) => `runs/exp7/checkpoint-${(i + 1) * 100}/`;

/** The keys of every DeleteObjects request the client sends, in order. */
function recordDeletes(s3: S3Client): string[][] {
  const deletes: string[][] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteObjectsCommand") {
        const input = args.input as { Delete?: { Objects?: { Key?: string }[] } };
        deletes.push((input.Delete?.Objects ?? []).map((o) => o.Key ?? ""));
      }
      return next(args);
    },
    { step: "initialize", name: "recordDeletes" },
  );
  return deletes;
}

let aws: LocalAws;
let deletes: string[][];
const clock = new ManualClock("2026-12-01T12:00:00.000Z");
const checkpoints = new MemoryCheckpointStore();
const jobs = new MemoryJobStore();
const events = new MemoryEventPublisher();
const restoreSteps = new MemoryQueue<RestoreStep>();

function deps() {
  const storage = new S3ArchiveStore(aws.s3);
  const objects = new S3ObjectStore(aws.s3);
  return {
    checkpoints,
    jobs,
    events,
    clock,
    storage,
    objects,
    fileObjects: objects,
    providers: filesProviders(),
    files: fileOwnership(),
    owned: { bucket: SNAPSHOTS, prefixes: ["simsnap"] },
    archive: {
      bucket: ARCHIVE,
      storageClass: "STANDARD_IA" as const,
      checksumAlgorithm: "CRC64NVME" as const,
      retrySeconds: 1,
    },
    retention: RetentionConfigSchema.parse({ default: { keepLast: 1 }, maxRemoveFraction: 1 }),
    reports: { bucket: SNAPSHOTS, prefix: "simsnap" },
    archiveFirst: false,
    restoreSteps,
    restore: {
      snapshotBucket: SNAPSHOTS,
      snapshotPrefix: "simsnap",
      archiveBucket: ARCHIVE,
      checksumAlgorithm: "CRC64NVME" as const,
      deadlineSeconds: 3600,
      firstCheckSeconds: 1,
      maxCheckSeconds: 10,
      thaw: { days: 1, tier: "Standard" as const },
    },
  };
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of new S3ObjectStore(aws.s3).list(bucket, prefix)) keys.push(object.key);
  return keys;
}

async function bytesOf(bucket: string, key: string): Promise<Buffer> {
  const object = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [FILES_BUCKET, ARCHIVE, SNAPSHOTS] });
  deletes = recordDeletes(aws.s3);
  for (const [i, size] of SIZES.entries()) {
    const key = keyOf(i);
    const files = Array.from({ length: size - 1 }, (_, n) => ({
      bucket: FILES_BUCKET,
      key: `${key}shards/part-${String(n).padStart(5, "0")}.bin`,
    }));
    await putObjects(aws.s3, files, `weights of step ${(i + 1) * 100}`);
    await putObjects(aws.s3, [{ bucket: FILES_BUCKET, key: `${key}trainer_state.json` }], "{}");
    const createdAt = new Date(Date.UTC(2026, 10, 30, i)).toISOString();
    await checkpoints.create(
      filesRecord(key, { id: `s${(i + 1) * 100}`, createdAt, step: (i + 1) * 100 }),
    );
  }
}, 120_000);

afterAll(() => aws?.close());

describe("files checkpoints on S3 (s3rver, the real SDK)", () => {
  it("archives a checkpoint, then prunes a 1,100-object one: marker first, every object gone", async () => {
    expect((await archiveCheckpoint({ checkpointId: "s200" }, deps())).outcome).toBe("archived");

    const [result] = await prune(
      { runId: "it/1", dryRun: false, force: false, simulations: ["exp7"] },
      deps(),
    );

    expect(result).toMatchObject({ outcome: "pruned" });
    expect(result!.removed.sort()).toEqual(["s100", "s200"]);
    const first = deletes.findIndex((keys) => keys.some((k) => k.startsWith(keyOf(0))));
    expect(deletes[first]).toEqual([`${keyOf(0)}trainer_state.json`]);
    expect(
      deletes.filter((keys) => keys.some((k) => k.startsWith(keyOf(0)))).map((k) => k.length),
    ).toEqual([1, 1000, 99]);
    expect(await keysUnder(FILES_BUCKET, keyOf(0))).toEqual([]);
    expect(await keysUnder(FILES_BUCKET, keyOf(1))).toEqual([]);
    expect(await keysUnder(FILES_BUCKET, keyOf(2))).toHaveLength(3);
    expect((await checkpoints.get("s100"))?.state).toBe("DELETED");
  }, 120_000);

  it("restores a pruned checkpoint from its archive under a prefix, matching its manifest", async () => {
    const world = deps();
    const { job } = await restoreCheckpoint(
      { checkpointId: "s200", clientToken: "it-restore", target: { prefix: "runs/restored/s200" } },
      world,
    );
    for (let i = 0; i < restoreSteps.sent.length; i++) {
      await advanceRestore(restoreSteps.sent[i]!.message, world);
    }

    const done = await jobs.get(job.id);
    expect(done).toMatchObject({
      status: "SUCCEEDED",
      restore: { uri: `s3://${FILES_BUCKET}/runs/restored/s200/` },
    });
    const archive = (await checkpoints.get("s200"))!.archive!;
    const manifest = ObjectSetManifestSchema.parse(
      JSON.parse((await bytesOf(ARCHIVE, archive.key)).toString("utf8")),
    );
    const restored = await keysUnder(FILES_BUCKET, "runs/restored/s200/");
    expect(restored.map((k) => k.slice("runs/restored/s200/".length)).sort()).toEqual(
      manifest.objects.map((o) => o.key).sort(),
    );
    for (const entry of manifest.objects) {
      const bytes = await bytesOf(FILES_BUCKET, `runs/restored/s200/${entry.key}`);
      expect(bytes.byteLength).toBe(entry.size);
      // s3rver keeps no checksums, so the archive's were streamed SHA-256 digests.
      expect(entry.checksum.algorithm).toBe("SHA256");
      expect(createHash("sha256").update(bytes).digest("base64")).toBe(entry.checksum.value);
    }
  }, 60_000);
});
