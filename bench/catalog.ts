/**
 * Catalog throughput on the embedded DynamoDB (dynalite): conditional creates, conditional
 * completions and a full paginated listing of one simulation. Prints figures; asserts nothing.
 * Usage: npm run bench:catalog -- [count]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../lib/adapters/dynamodb/create-table.ts";
import { completeCheckpoint, type Checkpoint } from "../lib/domain/checkpoint.ts";
import { snapshotKey } from "../lib/domain/snapshot-key.ts";
import { startLocalServers } from "../lib/local/servers.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const count = Number(process.argv[2] ?? 2000);
const concurrency = 16;

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function timed(
  label: string,
  operations: number,
  work: () => Promise<unknown>,
): Promise<void> {
  const start = process.hrtime.bigint();
  await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(
    `${label.padEnd(34)} ${operations} ops in ${ms.toFixed(0)} ms = ${((operations / ms) * 1000).toFixed(0)} ops/s`,
  );
}

const dataDir = await mkdtemp(join(tmpdir(), "simsnap-bench-"));
const servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
try {
  const client = new DynamoDBClient({
    endpoint: servers.dynamodb.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await createCatalogTable(client, "bench");
  const store = new DynamoDbCheckpointStore(DynamoDBDocumentClient.from(client), "bench");
  const base = Date.UTC(2026, 0, 1);
  const checkpoints: Checkpoint[] = Array.from({ length: count }, (_, i) => {
    const createdAt = new Date(base + i * 60_000).toISOString();
    return {
      id: `ckpt-${i}`,
      version: 1,
      simulation: "bench-sim",
      provider: "bench",
      name: `checkpoint ${i}`,
      description: "",
      tags: [],
      favorite: false,
      state: "PENDING",
      trigger: "schedule",
      createdAt,
      modifiedAt: createdAt,
    };
  });
  console.log(
    `catalog bench: ${count} checkpoints, ${concurrency} concurrent requests, dynalite in memory`,
  );
  await timed("create (conditional put)", count, () =>
    inParallel(checkpoints, (c) => store.create(c)),
  );
  await timed("complete (versioned put)", count, () =>
    inParallel(checkpoints, (c) =>
      store.save(
        completeCheckpoint(
          c,
          {
            location: { bucket: "b", key: snapshotKey("p", "bench-sim", new Date(c.createdAt)) },
            size: 1,
          },
          new Date(),
        ),
      ),
    ),
  );
  let pages = 0;
  let items = 0;
  await timed("list all, pages of 1000", count, async () => {
    let cursor: string | undefined;
    do {
      const page = await store.listBySimulation("bench-sim", { limit: 1000, cursor });
      pages += 1;
      items += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
  });
  console.log(`listing returned ${items} items in ${pages} pages`);
  console.log(
    `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
  );
  client.destroy();
} finally {
  await servers.close();
  await rm(dataDir, { recursive: true, force: true });
}
