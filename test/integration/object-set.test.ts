import { createHash, randomBytes } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { S3ArchiveStore } from "../../lib/adapters/s3/archive-store.ts";
import type { S3Location } from "../../lib/domain/checkpoint.ts";
import { ObjectSetManifestSchema } from "../../lib/domain/object-set-manifest.ts";
import { archiveObjectSet } from "../../lib/usecases/files/archive-object-set.ts";
import { deleteObjectSet } from "../../lib/usecases/files/delete-object-set.ts";
import {
  restoreObjectSet,
  type RestoreObjectSetDeps,
} from "../../lib/usecases/files/restore-object-set.ts";
import { putObjects } from "../support/catalog-seed.ts";
import { FILES_BUCKET, fileOwnership } from "../support/files-world.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock } from "../support/memory.ts";

const ARCHIVE = "archive";
const KEY = "runs/exp7/checkpoint-1200/";
const TARGET = "runs/exp7-restored/checkpoint-1200/";

/** Counts the S3 requests of one client by command. */
function countRequests(s3: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? "?").replace(/Command$/, "");
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countObjectSetRequests" },
  );
  return counts;
}

/** A Hugging Face checkpoint: a placeholder, weights, nested shards, the marker, a script. */
const FILES: Record<string, Buffer> = {
  "": Buffer.alloc(0),
  "model.safetensors": randomBytes(256 * 1024),
  "shards/part-00001.bin": randomBytes(4096),
  "shards/part-00002.bin": randomBytes(4096),
  "trainer_state.json": Buffer.from(JSON.stringify({ log_history: [{ eval_loss: 0.42 }] })),
  "zero_to_fp32.py": Buffer.from("#!/usr/bin/env python\n"),
};

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("base64");

let aws: LocalAws;
let storage: S3ArchiveStore;
let requests: Map<string, number>;
const clock = new ManualClock("2026-12-01T12:00:00.000Z");

async function read(location: S3Location): Promise<Buffer> {
  const object = await aws.s3.send(
    new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

async function put(key: string, body: Buffer, bucket = FILES_BUCKET): Promise<void> {
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(bucket, prefix)) keys.push(object.key);
  return keys;
}

const counted = (): Record<string, number> => Object.fromEntries([...requests].sort());

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [FILES_BUCKET, ARCHIVE] });
  requests = countRequests(aws.s3);
  // Small listing pages, so every listing of a set goes through continuation tokens.
  storage = new S3ArchiveStore(aws.s3, { pageSize: 4 });
  for (const [file, body] of Object.entries(FILES)) await put(KEY + file, body);
  await put("runs/exp7/checkpoint-120/model.safetensors", Buffer.from("a neighbour"));
}, 60_000);

afterAll(async () => {
  await aws?.close();
});

beforeEach(() => requests.clear());

describe("object sets on s3rver through the S3 adapters", () => {
  const restoreDeps = (): RestoreObjectSetDeps => ({
    storage,
    owned: fileOwnership(),
    archiveBucket: ARCHIVE,
    checksumAlgorithm: "CRC64NVME",
    thaw: { days: 1, tier: "Standard" },
    retrySeconds: 30,
  });
  let manifestBody: unknown;

  it("archives a set with a manifest that matches every object's bytes", async () => {
    const result = await archiveObjectSet(
      { bucket: FILES_BUCKET, key: KEY, checkpointId: "c-1", createdAt: clock.now().toISOString() },
      {
        storage,
        clock,
        owned: fileOwnership(),
        archive: {
          bucket: ARCHIVE,
          storageClass: "STANDARD_IA",
          checksumAlgorithm: "CRC64NVME",
          retrySeconds: 30,
        },
      },
    );

    const used = counted();
    expect(result).toMatchObject({ outcome: "archived", objects: 6, copied: 6 });
    const archivePrefix = "files/runs/exp7/checkpoint-1200/c-1/";
    expect(await keysUnder(ARCHIVE, archivePrefix)).toEqual(
      ["!empty", ...Object.keys(FILES).slice(1)].map((file) => archivePrefix + file),
    );
    manifestBody = JSON.parse(
      (
        await read({ bucket: ARCHIVE, key: "files/runs/exp7/checkpoint-1200/c-1.manifest.json" })
      ).toString("utf8"),
    );
    const manifest = ObjectSetManifestSchema.parse(manifestBody);
    // s3rver keeps no checksums: each copy was proven by SHA-256 digests streamed from both.
    expect(
      Object.fromEntries(manifest.objects.map((o) => [o.key, [o.size, o.checksum.value]])),
    ).toEqual(
      Object.fromEntries(
        Object.entries(FILES).map(([file, body]) => [file, [body.length, sha256(body)]]),
      ),
    );
    expect(new Set(manifest.objects.map((o) => o.checksum.verification))).toEqual(
      new Set(["sha256-stream"]),
    );
    for (const [file, body] of Object.entries(FILES)) {
      const archived = { bucket: ARCHIVE, key: archivePrefix + (file || "!empty") };
      expect((await read(archived)).equals(body)).toBe(true);
    }
    // 6 objects: HEAD source, HEAD archive (absent), CopyObject, HEAD copy, 2 digests each;
    // 2 listings in pages of 4; 1 manifest.
    expect(used).toEqual({
      CopyObject: 6,
      GetObject: 12,
      HeadObject: 18,
      ListObjectsV2: 4,
      PutObject: 1,
    });
  });

  it("restores the set under another prefix, verified against the manifest, and prints its URI", async () => {
    const result = await restoreObjectSet(
      { manifest: manifestBody, targetPrefix: TARGET },
      restoreDeps(),
    );
    const used = counted();

    expect(result).toMatchObject({
      outcome: "restored",
      uri: `s3://${FILES_BUCKET}/${TARGET}`,
      objects: 6,
      copied: 6,
    });
    for (const [file, body] of Object.entries(FILES)) {
      expect((await read({ bucket: FILES_BUCKET, key: TARGET + file })).equals(body)).toBe(true);
    }
    // 6 objects: HEAD + digest of the archive copy, CopyObject, HEAD + digest of the restored
    // copy; the target listed once. No HEAD of the target: the listing shows it empty.
    expect(used).toEqual({
      CopyObject: 6,
      GetObject: 12,
      HeadObject: 12,
      ListObjectsV2: 1,
    });
    requests.clear();
    expect(
      await restoreObjectSet({ manifest: manifestBody, targetPrefix: TARGET }, restoreDeps()),
    ).toMatchObject({ outcome: "restored", copied: 0 });
    expect(requests.get("CopyObject")).toBeUndefined();
  });

  it("refuses a restore when the archive no longer matches the manifest", async () => {
    const model = `files/runs/exp7/checkpoint-1200/c-1/model.safetensors`;
    const original = await read({ bucket: ARCHIVE, key: model });
    await put(model, randomBytes(original.length), ARCHIVE);

    const result = await restoreObjectSet(
      { manifest: manifestBody, targetPrefix: "runs/elsewhere/checkpoint-1200/" },
      restoreDeps(),
    );

    expect(result).toEqual({
      outcome: "refused",
      reason: expect.stringMatching(
        /^the archive of checkpoint c-1 disagrees with its manifest: s3:\/\/archive\/files\/runs\/exp7\/checkpoint-1200\/c-1\/model\.safetensors has SHA-256 /,
      ),
    });
    expect(await keysUnder(FILES_BUCKET, "runs/elsewhere/")).toEqual([]);
    await put(model, original, ARCHIVE);
  });

  it("deletes the original set, marker first, and nothing beside it", async () => {
    const result = await deleteObjectSet(
      { bucket: FILES_BUCKET, key: KEY },
      { objects: storage, owned: fileOwnership() },
    );

    expect(result).toMatchObject({ outcome: "deleted", deleted: 6, requests: 2 });
    expect(await keysUnder(FILES_BUCKET, KEY)).toEqual([]);
    expect(await keysUnder(FILES_BUCKET, "runs/exp7/")).toEqual([
      "runs/exp7/checkpoint-120/model.safetensors",
    ]);
    expect(requests.get("DeleteObjects")).toBe(2);
  });

  it("deletes a 1,002-object set in 1 + 2 DeleteObjects requests", async () => {
    const key = "runs/big/checkpoint-9/";
    const files = Array.from({ length: 1001 }, (_, i) => `shard-${i}.bin`);
    await putObjects(
      aws.s3,
      [...files, "trainer_state.json"].map((file) => ({ bucket: FILES_BUCKET, key: key + file })),
      "x",
    );
    requests.clear();

    const result = await deleteObjectSet(
      { bucket: FILES_BUCKET, key },
      { objects: new S3ArchiveStore(aws.s3), owned: fileOwnership() },
    );

    expect(result).toMatchObject({ outcome: "deleted", deleted: 1002, requests: 3 });
    // Listed before (2 pages of 1,000) and after (1 empty page).
    expect(counted()).toEqual({ DeleteObjects: 3, ListObjectsV2: 3 });
  });
});
