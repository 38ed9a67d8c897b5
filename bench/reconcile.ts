/**
 * The reconciling scan (`reconcileSnapshotFiles`, the `reconcile-snapshots` schedule) over one
 * snapshot folder of N files past the grace, on dynalite and s3rver through the real SDK clients
 * and simsnap's adapters: a first run with `--unknown` percent of the files uncataloged (as if
 * their events were lost; each goes through complete-snapshot and becomes `discovered`), then a
 * second run over a catalog that knows every file (the steady state). It prints the requests each
 * service got, counted by a middleware on each client, and the wall time per 1,000 keys listed.
 * The budget is lifted so that one run reads the whole folder. Seeding is not timed. Prints
 * figures; asserts nothing.
 * Usage: npm run bench:reconcile -- [--sizes 1000,5000] [--unknown 2]
 */
import { countRequests } from "./count-requests.ts";
import { parseArgs } from "node:util";
import { batchPut } from "../lib/adapters/dynamodb/batch.ts";
import { DynamoDbCheckpointStore } from "../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../lib/adapters/dynamodb/create-table.ts";
import { DynamoDbJobStore } from "../lib/adapters/dynamodb/job-store.ts";
import { S3ObjectStore } from "../lib/adapters/s3/object-store.ts";
import { snapshotKey } from "../lib/domain/snapshot-key.ts";
import { reconcileCursorLocation } from "../lib/domain/snapshot-reconcile.ts";
import { reconcileSnapshotFiles } from "../lib/usecases/snapshot/reconcile-snapshots.ts";
import { putObjects } from "../test/support/catalog-seed.ts";
import { startLocalAws } from "../test/support/local-aws.ts";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "1000,5000" }, unknown: { type: "string" } },
});
const sizes = values.sizes.split(",").map(Number);
const unknownShare = Number(values.unknown ?? 2) / 100;
const BUCKET = "snapshots";

const aws = await startLocalAws({ buckets: [BUCKET] });
const requests = new Map<string, number>();
countRequests(requests, "DynamoDB", aws.doc);
countRequests(requests, "S3", aws.s3);

try {
  for (const [index, count] of sizes.entries()) {
    const prefix = `bench-${index}`;
    const table = `catalog-${index}`;
    await createCatalogTable(aws.dynamodb, table);
    // 50 simulations, one file a second each: stamps a month before now, so all are past the grace.
    const start = Date.now() - 30 * 86_400_000;
    const keys = Array.from({ length: count }, (_, i) =>
      snapshotKey(prefix, `sim-${i % 50}`, new Date(start + i * 1000)),
    );
    await putObjects(
      aws.s3,
      keys.map((key) => ({ bucket: BUCKET, key })),
      "zip",
    );
    const unknown = Math.round(count * unknownShare);
    // The other files are claimed by their jobs' checkpoints, as complete-snapshot leaves them.
    await batchPut(
      aws.doc,
      table,
      keys.slice(unknown).map((key) => ({
        pk: `LOC#${BUCKET}/${key}`,
        sk: "LOC",
        bucket: BUCKET,
        key,
        checkpointId: `cp-${key}`,
      })),
    );
    const deps = {
      checkpoints: new DynamoDbCheckpointStore(aws.doc, table),
      jobs: new DynamoDbJobStore(aws.doc, table),
      objects: new S3ObjectStore(aws.s3),
      events: { publish: async () => undefined },
      // The files were written just now: the scan's clock is a day ahead, past the grace.
      clock: { now: () => new Date(Date.now() + 86_400_000) },
      provider: { name: "simspaceweaver" },
      owned: { bucket: BUCKET, prefixes: [prefix] },
      timing: { deadlineSeconds: 3600, conflictRetrySeconds: 30, conflictMaxAttempts: 8 },
      cursorAt: reconcileCursorLocation({ bucket: BUCKET, prefix }),
      graceSeconds: 4200,
      budget: { keys: Number.MAX_SAFE_INTEGER, seconds: 3600 },
    };
    for (const label of [`${unknown} unknown`, "all known"]) {
      requests.clear();
      const started = performance.now();
      const result = await reconcileSnapshotFiles(deps);
      const ms = performance.now() - started;
      const counts = [...requests.entries()].map(([name, n]) => `${name} ${n}`).join(", ");
      console.log(
        `${count.toLocaleString("en").padStart(7)} files, ${label.padEnd(11)}  ` +
          `${Math.round(ms)} ms (${Math.round((ms * 1000) / count)} ms per 1,000 keys)  ` +
          `cataloged ${result.cataloged.length}, known ${result.known}  ${counts}`,
      );
    }
  }
} finally {
  await aws.close();
}
