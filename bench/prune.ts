/**
 * A prune of one simulation with N checkpoints, all but 10 of them planned for removal, as the
 * prune function runs it: with its budget (`PRUNE_BUDGET`), each continuation it sends itself run
 * right after the invocation before (so the invocations are counted too). It prints
 * the requests each service got (catalog GetItem, BatchGetItem, PutItem; S3 DeleteObjects) and
 * the wall time per 1,000 checkpoints removed, two ways:
 * - `local`: dynalite and s3rver (with the local stack's overrides) through the real SDK clients
 *   and simsnap's adapters, requests counted by a middleware on each client;
 * - `memory`: the in-memory ports of the tests, requests counted as DynamoDB and S3 would count
 *   them (one BatchGetItem per 100 ids), each request delayed by `--latency` ms (default 0), for
 *   sizes the local servers are too slow to seed on a shared machine.
 * With `--trash`, files go to the trash (`trashDays` 7, the default config) instead of being
 * deleted at once (`trashDays: 0`). Seeding is not timed. Prints figures; asserts nothing.
 * Usage: npm run bench:prune -- [--local 1000,10000] [--memory 1000,10000,100000] [--latency 0]
 *   [--trash]
 */
import { countRequests } from "./count-requests.ts";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { DynamoDbCheckpointStore } from "../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../lib/adapters/dynamodb/create-table.ts";
import { DynamoDbJobStore } from "../lib/adapters/dynamodb/job-store.ts";
import { S3ArchiveStore } from "../lib/adapters/s3/archive-store.ts";
import type { Checkpoint } from "../lib/domain/checkpoint.ts";
import {
  pruneRunFor,
  PruneRequestSchema,
  type PruneRequest,
  type PruneRun,
} from "../lib/domain/prune-request.ts";
import { RetentionConfigSchema } from "../lib/domain/retention.ts";
import { snapshotKey } from "../lib/domain/snapshot-key.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import type { ObjectStore } from "../lib/ports/object-store.ts";
import { directoryOf } from "../lib/ports/simulation-provider.ts";
import type { TrashStore } from "../lib/usecases/catalog/trash-checkpoint.ts";
import { prune, type PruneDeps } from "../lib/usecases/retention/prune.ts";
import { putObjects, seedCheckpoints } from "../test/support/catalog-seed.ts";
import { checkpoint as makeCheckpoint } from "../test/support/checkpoint-factory.ts";
import { startLocalAws } from "../test/support/local-aws.ts";
import {
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryQueue,
} from "../test/support/memory.ts";
import { MemoryArchiveStore } from "../test/support/memory-archive.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const { values: options } = parseArgs({
  options: {
    local: { type: "string", default: "1000,10000" },
    memory: { type: "string", default: "1000,10000,100000" },
    latency: { type: "string", default: "0" },
    trash: { type: "boolean", default: false },
  },
});
const sizesOf = (list: string) => list.split(",").filter(Boolean).map(Number);
const latency = Number(options.latency);
const MINUTE = 60_000;
const T0 = Date.parse("2020-01-01T00:00:00Z");
const KEEP = 10;

const records = (bucket: string, simulation: string, count: number): Checkpoint[] =>
  Array.from({ length: count }, (_, i) => {
    const time = new Date(T0 + i * MINUTE);
    return makeCheckpoint({
      id: `${simulation}-${String(i).padStart(6, "0")}`,
      simulation,
      provider: "simspaceweaver",
      name: `${simulation} ${i}`,
      createdAt: time.toISOString(),
      location: { bucket, key: snapshotKey("simsnap", simulation, time) },
      size: 3,
    });
  });

const baseDeps = (bucket: string) => ({
  events: new MemoryEventPublisher(),
  // The wall clock: the budget's seconds are real ones (keepLast does not depend on the time).
  clock: systemClock,
  retention: RetentionConfigSchema.parse({ default: { keepLast: KEEP }, maxRemoveFraction: 1 }),
  reports: { bucket, prefix: "simsnap" },
  archiveFirst: false,
  owned: { bucket, prefixes: ["simsnap"] },
  providers: directoryOf([]),
});

/**
 * Runs the prune to its end with the prune function's budget, every continuation it sends to its
 * queue one after another, and returns how many checkpoints it removed and in how many
 * invocations.
 */
async function pruneAll(
  simulation: string,
  deps: PruneDeps,
): Promise<{ removed: number; invocations: number }> {
  const queue = new MemoryQueue<PruneRequest>();
  let run: PruneRun | undefined = {
    runId: `bench/${simulation}`,
    simulations: [simulation],
    dryRun: false,
    force: false,
  };
  let removed = 0;
  let invocations = 0;
  let outcome: string | undefined;
  while (run) {
    const [result] = await prune(run, { ...deps, continuation: queue });
    invocations += 1;
    removed += result?.removed.length ?? 0;
    outcome = result?.outcome;
    const next = queue.sent.shift()?.message;
    run = next && pruneRunFor(PruneRequestSchema.parse(next), 60);
  }
  if (outcome !== "pruned") throw new Error(`prune ended ${outcome}`);
  return { removed, invocations };
}

function print(
  mode: string,
  count: number,
  ms: number,
  run: { removed: number; invocations: number },
  requests: Record<string, number>,
): void {
  const counts = Object.entries(requests)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n.toLocaleString("en")}`)
    .join(", ");
  console.log(
    `${mode.padEnd(6)} ${count.toLocaleString("en").padStart(7)} checkpoints  ` +
      `${(ms / 1000).toFixed(1).padStart(6)} s  ` +
      `${((ms / run.removed) * 1000).toFixed(0).padStart(5)} ms per 1,000  ` +
      `${run.invocations} invocation(s)  ${counts}`,
  );
}

async function local(sizes: number[]): Promise<void> {
  if (sizes.length === 0) return;
  const aws = await startLocalAws();
  const requests = new Map<string, number>();
  countRequests(requests, "DynamoDB", aws.doc);
  countRequests(requests, "S3", aws.s3);
  try {
    // The first, untimed, warms up the servers and the code paths (JIT), so 1,000 is not skewed.
    for (const [index, count] of [500, ...sizes].entries()) {
      const name = `local-${index}-${count}`;
      await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
      await createCatalogTable(aws.dynamodb, name);
      const seeded = records(name, "sim", count);
      await putObjects(
        aws.s3,
        seeded.map((c) => c.location!),
        "zip",
      );
      await seedCheckpoints(aws.doc, name, seeded);
      const deps: PruneDeps = {
        ...baseDeps(name),
        checkpoints: new DynamoDbCheckpointStore(aws.doc, name),
        jobs: new DynamoDbJobStore(aws.doc, name),
        ...withTrash(new S3ArchiveStore(aws.s3)),
      };
      requests.clear();
      const start = performance.now();
      const run = await pruneAll("sim", deps);
      const ms = performance.now() - start;
      const pick = (names: string[]) =>
        Object.fromEntries(names.map((n) => [n.replace(/^DynamoDB /, ""), requests.get(n) ?? 0]));
      if (index === 0) continue;
      print("local", count, ms, run, {
        ...pick([
          "DynamoDB GetItem",
          "DynamoDB BatchGetItem",
          "DynamoDB PutItem",
          "DynamoDB UpdateItem",
          "DynamoDB Query",
          "S3 HeadObject",
          "S3 CopyObject",
          "S3 DeleteObjects",
        ]),
        "requests in all": [...requests.values()].reduce((a, b) => a + b, 0),
      });
    }
  } finally {
    await aws.close();
  }
}

/** The object store, and the trash in the same store when `--trash` asks for it. */
const withTrash = <S extends ObjectStore & TrashStore>(store: S) => ({
  objects: store,
  ...(options.trash ? { trash: { days: 7, store } } : {}),
});

/** Delays every call of the object's async methods by `ms`, as a request to a service would be. */
function delayed<T extends object>(target: T, ms: number): T {
  if (ms <= 0) return target;
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

async function memory(sizes: number[]): Promise<void> {
  // The first, untimed, warms up the code paths (JIT), so 1,000 is not skewed.
  for (const [index, count] of [500, ...sizes].entries()) {
    const checkpoints = new MemoryCheckpointStore();
    const objects = new MemoryArchiveStore({ checksums: false });
    let deletes = 0;
    const deleteMany = objects.deleteMany.bind(objects);
    objects.deleteMany = (bucket, keys) => {
      deletes += 1;
      return deleteMany(bucket, keys);
    };
    const seeded = records("snapshots", "sim", count);
    for (const checkpoint of seeded) {
      await checkpoints.create(checkpoint);
      await objects.put(checkpoint.location!, "zip");
    }
    Object.assign(checkpoints, { getRequests: 0, getManyRequests: 0, saveRequests: 0 });
    const deps: PruneDeps = {
      ...baseDeps("snapshots"),
      checkpoints: delayed(checkpoints, latency),
      jobs: delayed(new MemoryJobStore(), latency),
      ...withTrash(delayed(objects, latency)),
    };
    const start = performance.now();
    const run = await pruneAll("sim", deps);
    const ms = performance.now() - start;
    if (index === 0) continue;
    print("memory", count, ms, run, {
      GetItem: checkpoints.getRequests,
      BatchGetItem: checkpoints.getManyRequests,
      PutItem: checkpoints.saveRequests,
      ...(options.trash ? { CopyObject: objects.copies.length } : {}),
      DeleteObjects: deletes,
    });
  }
}

console.log(
  `prune bench: one simulation, all but ${KEEP} checkpoints removed, ` +
    `${options.trash ? "to the trash (trashDays 7)" : "deleted at once (trashDays 0)"}; ` +
    `memory ports with ${latency} ms per request`,
);
await local(sizesOf(options.local));
await memory(sizesOf(options.memory));
