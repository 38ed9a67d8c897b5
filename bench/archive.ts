/**
 * Archive throughput on the embedded S3 (s3rver) and DynamoDB (dynalite): completed checkpoints
 * archived one after the other through the real use case and adapters (copy, verification,
 * manifest, catalog record), small ones with CopyObject and large ones in parts with
 * UploadPartCopy. Prints MB/s and the S3 requests per archived checkpoint, counted by an SDK
 * middleware; asserts nothing. s3rver keeps no checksums, so every copy is verified by streaming
 * both objects: on AWS, where S3's checksums are compared instead, the two GetObject per
 * checkpoint disappear.
 * Usage: npm run bench:archive -- [count] [size MiB] [large count] [large size MiB]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../lib/adapters/dynamodb/create-table.ts";
import { S3ArchiveStore } from "../lib/adapters/s3/archive-store.ts";
import type { Checkpoint } from "../lib/domain/checkpoint.ts";
import { snapshotKey } from "../lib/domain/snapshot-key.ts";
import { startLocalServers } from "../lib/local/servers.ts";
import { systemClock, type EventPublisher } from "../lib/ports/messaging.ts";
import { directoryOf } from "../lib/ports/simulation-provider.ts";
import { archiveCheckpoint } from "../lib/usecases/archive/archive-checkpoint.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const count = Number(process.argv[2] ?? 20);
const sizeMiB = Number(process.argv[3] ?? 4);
const largeCount = Number(process.argv[4] ?? 2);
const largeSizeMiB = Number(process.argv[5] ?? 48);
const MiB = 1024 ** 2;
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** Counts every S3 request by operation, as the SDK sends it (retries included). */
function countRequests(s3: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? "?").replace(/Command$/, "");
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countBenchRequests" },
  );
  return counts;
}

const dataDir = await mkdtemp(join(tmpdir(), "simsnap-bench-archive-"));
const servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
try {
  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: servers.s3.endpoint,
    forcePathStyle: true,
    credentials,
  });
  const dynamo = new DynamoDBClient({
    region: "us-east-1",
    endpoint: servers.dynamodb.endpoint,
    credentials,
  });
  for (const Bucket of ["bench-hot", "bench-archive"])
    await s3.send(new CreateBucketCommand({ Bucket }));
  await createCatalogTable(dynamo, "bench");
  const checkpoints = new DynamoDbCheckpointStore(DynamoDBDocumentClient.from(dynamo), "bench");
  const events: EventPublisher = { publish: async () => undefined };

  async function seed(label: string, n: number, bytes: number): Promise<Checkpoint[]> {
    const body = randomBytes(bytes);
    const base = Date.UTC(2026, 10, 23, 10);
    const seeded: Checkpoint[] = [];
    for (let i = 0; i < n; i++) {
      const createdAt = new Date(base + i * 60_000).toISOString();
      const location = {
        bucket: "bench-hot",
        key: snapshotKey("simsnap", label, new Date(createdAt)),
      };
      await s3.send(
        new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body }),
      );
      const checkpoint: Checkpoint = {
        id: `${label}-${i}`,
        version: 1,
        simulation: label,
        provider: "bench",
        name: `${label} ${i}`,
        description: "",
        tags: [],
        favorite: false,
        state: "COMPLETE",
        trigger: "schedule",
        createdAt,
        modifiedAt: createdAt,
        completedAt: createdAt,
        location,
        size: bytes,
      };
      await checkpoints.create(checkpoint);
      seeded.push(checkpoint);
    }
    return seeded;
  }

  async function run(
    label: string,
    seeded: Checkpoint[],
    storage: S3ArchiveStore,
    counts: Map<string, number>,
  ) {
    const deps = {
      checkpoints,
      storage,
      events,
      clock: systemClock,
      owned: { bucket: "bench-hot", prefixes: ["simsnap"] },
      providers: directoryOf([]),
      archive: {
        bucket: "bench-archive",
        storageClass: "STANDARD_IA" as const,
        checksumAlgorithm: "CRC64NVME" as const,
        retrySeconds: 30,
      },
    };
    counts.clear();
    const bytes = seeded.reduce((sum, c) => sum + (c.size ?? 0), 0);
    const start = process.hrtime.bigint();
    for (const checkpoint of seeded) await archiveCheckpoint({ checkpointId: checkpoint.id }, deps);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const perCheckpoint = [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => `${name} ${(n / seeded.length).toFixed(1)}`)
      .join(", ");
    console.log(
      `${label.padEnd(34)} ${seeded.length} × ${((seeded[0]?.size ?? 0) / MiB).toFixed(0)} MiB in ${ms.toFixed(0)} ms = ` +
        `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s, ${(ms / seeded.length).toFixed(0)} ms/checkpoint`,
    );
    console.log(
      `${"".padEnd(34)} ${(total / seeded.length).toFixed(1)} S3 requests/checkpoint: ${perCheckpoint}`,
    );

    counts.clear();
    for (const checkpoint of seeded) await archiveCheckpoint({ checkpointId: checkpoint.id }, deps);
    const again = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `${"".padEnd(34)} duplicate delivery: ${(again / seeded.length).toFixed(1)} S3 requests/checkpoint`,
    );
  }

  console.log(
    `archive bench: s3rver + dynalite on loopback, one checkpoint at a time (${servers.s3.endpoint})`,
  );
  const counted = new S3Client({
    region: "us-east-1",
    endpoint: servers.s3.endpoint,
    forcePathStyle: true,
    credentials,
  });
  const counts = countRequests(counted);
  const small = await seed("bench-small", count, sizeMiB * MiB);
  await run("CopyObject", small, new S3ArchiveStore(counted), counts);
  const large = await seed("bench-large", largeCount, largeSizeMiB * MiB);
  await run(
    "UploadPartCopy (16 MiB parts)",
    large,
    new S3ArchiveStore(counted, { copy: { thresholdBytes: 16 * MiB, partBytes: 16 * MiB } }),
    counts,
  );
  console.log(
    `rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, heap used ${(process.memoryUsage().heapUsed / MiB).toFixed(0)} MiB`,
  );
  for (const client of [s3, counted, dynamo]) client.destroy();
} finally {
  await servers.close();
  await rm(dataDir, { recursive: true, force: true });
}
