/**
 * One schedule tick over a fleet, as plan-snapshots runs it, on the local stack: the SimSpace
 * Weaver simulator (over its HTTP protocol, through the real client), local-aws-sqs and dynalite
 * through the real SDK clients and simsnap's adapters. Every simulation is running and carries
 * the tag the schedule's selector asks for, so each one is picked. It counts the requests each
 * service got and times the tick, three ways:
 * - `before`: the per-simulation pattern plan-snapshots had before (one SendMessage, one
 *   ListTagsForResource and one catalog Query per simulation), on the same servers;
 * - `first tick` and the next ones while tags are unread: this design with an empty tag cache,
 *   read at most DEFAULT_TAG_READS_PER_TICK simulations a tick (the others wait, reported
 *   skipped), every tick an hour after the last;
 * - `next tick`: an hour later again, every tag from the cache.
 * The plan function's timeout (topology) is printed beside the times. Prints figures; asserts
 * nothing.
 * Usage: npm run bench:fan-out -- [simulations, default 10000]
 */
import { countRequests } from "./count-requests.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../lib/adapters/dynamodb/create-table.ts";
import { DynamoDbTagCache } from "../lib/adapters/dynamodb/tag-cache.ts";
import { SimSpaceWeaverClient } from "../lib/adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../lib/adapters/simspaceweaver/provider.ts";
import { SqsMessageQueue } from "../lib/adapters/sqs/message-queue.ts";
import type { Checkpoint } from "../lib/domain/checkpoint.ts";
import type { SnapshotRequest, StopRequestedEvent } from "../lib/domain/messages.ts";
import { startLocalServers } from "../lib/local/servers.ts";
import { startSimulator } from "../lib/local/simulator.ts";
import type { Clock } from "../lib/ports/messaging.ts";
import { directoryOf } from "../lib/ports/simulation-provider.ts";
import { topology } from "../lib/topology.ts";
import { checkpointFreshness } from "../lib/usecases/snapshot/checkpoint-freshness.ts";
import {
  DEFAULT_TAG_READS_PER_TICK,
  planSnapshots,
  scheduledRequestId,
} from "../lib/usecases/snapshot/plan-snapshots.ts";
import { seedCheckpoints } from "../test/support/catalog-seed.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const count = Number(process.argv[2] ?? 10_000);
const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const region = "us-east-1";

/** Requests per service and command, counted by a middleware on each SDK client. */
const requests = new Map<string, number>();
const counted = <C extends Parameters<typeof countRequests>[2]>(service: string, client: C): C =>
  countRequests(requests, service, client);

const dataDir = await mkdtemp(join(tmpdir(), "simsnap-fan-out-"));
const servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
const s3 = new S3Client({
  endpoint: servers.s3.endpoint,
  region,
  credentials,
  forcePathStyle: true,
});
const simulator = await startSimulator({ s3 });
try {
  const weaverRequests = { tags: 0, list: 0 };
  const weaver = new SimSpaceWeaverClient({ region, endpoint: simulator.endpoint, credentials });
  const provider = new SimSpaceWeaverProvider(weaver);
  const countingProvider = Object.assign(Object.create(provider) as SimSpaceWeaverProvider, {
    listTags: (arn: string) => {
      weaverRequests.tags++;
      return provider.listTags(arn);
    },
  });
  const dynamodb = counted(
    "dynamodb",
    new DynamoDBClient({ endpoint: servers.dynamodb.endpoint, region, credentials }),
  );
  const doc = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = counted(
    "sqs",
    new SQSClient({ endpoint: servers.sqs.endpoint, region, credentials }),
  );
  await createCatalogTable(dynamodb, "fan-out");
  const queueUrl = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? "";
  const checkpoints = new DynamoDbCheckpointStore(doc, "fan-out");
  const cache = new DynamoDbTagCache(doc, "fan-out");

  // The fleet: every simulation running, tagged, with a completed checkpoint an hour old.
  const names = Array.from({ length: count }, (_, i) => `fleet-${String(i).padStart(6, "0")}`);
  for (const name of names) simulator.createSimulation(name, { tags: { fleet: "bench" } });
  const base = Date.parse("2026-12-01T09:00:00.000Z");
  await seedCheckpoints(
    doc,
    "fan-out",
    names.map((simulation, i): Checkpoint => ({
      id: `ckpt-${i}`,
      version: 2,
      simulation,
      provider: "simspaceweaver",
      name: "hourly",
      description: "",
      tags: [],
      favorite: false,
      state: "COMPLETE",
      trigger: "schedule",
      createdAt: new Date(base).toISOString(),
      modifiedAt: new Date(base).toISOString(),
      location: { bucket: "snapshots", key: `simsnap/snapshot/${simulation}-x.zip` },
    })),
  );

  const tick = {
    schedule: "hourly",
    scheduledTime: "2026-12-01T10:00:00Z",
    selector: { tags: { fleet: "bench" } },
  };
  let now = Date.parse(tick.scheduledTime);
  const clock: Clock = { now: () => new Date(now) };
  const providers = directoryOf([countingProvider]);

  async function measure(label: string, run: (requestsUrl: string) => Promise<number>) {
    const url = await queueUrl(`requests-${label.replace(/\W+/g, "-")}`);
    requests.clear();
    weaverRequests.tags = 0;
    const start = process.hrtime.bigint();
    const planned = await run(url);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const of = (key: string) => requests.get(key) ?? 0;
    const sqsRequests = [...requests]
      .filter(([k]) => k.startsWith("sqs "))
      .reduce((a, [, n]) => a + n, 0);
    const catalog = [...requests].filter(([k]) => k.startsWith("dynamodb "));
    console.log(
      `${label.padEnd(11)} ${String(planned).padStart(7)} ${(ms / 1000).toFixed(1).padStart(7)} s ` +
        `${String(sqsRequests).padStart(8)} ${String(weaverRequests.tags).padStart(9)} ` +
        `${String(catalog.reduce((a, [, n]) => a + n, 0)).padStart(8)}  ` +
        catalog.map(([k, n]) => `${k.slice("dynamodb ".length)} ${n}`).join(", "),
    );
    return { ms, of };
  }

  console.log(
    `fan-out bench: one tick over ${count.toLocaleString("en")} running simulations, a tag selector ` +
      `picking all; local stack (simulator, local-aws-sqs, dynalite), Node ${process.versions.node}`,
  );
  console.log(
    `plan-snapshots timeout: ${topology.functions["plan-snapshots"].timeoutSeconds} s; ` +
      `tag cache entries refreshed after 75-100% of 6 h, at most ${DEFAULT_TAG_READS_PER_TICK} tag reads a tick`,
  );
  console.log(
    `${"run".padEnd(11)} ${"planned".padStart(7)} ${"time".padStart(9)} ${"SQS reqs".padStart(8)} ` +
      `${"tag reads".padStart(9)} ${"catalog".padStart(8)}  catalog requests by kind`,
  );

  await measure("before", async (url) => {
    // The pre-batching algorithm, request for request: tags, a send and a freshness query each.
    const queue = new SqsMessageQueue<SnapshotRequest>(sqs, url);
    const running = (await provider.listSimulations()).filter((s) => s.status === "STARTED");
    const picked: string[] = [];
    for (const s of running) {
      const tags = await countingProvider.listTags(s.arn ?? "");
      if (tags.fleet === "bench") picked.push(s.name);
    }
    for (const simulation of picked.sort()) {
      await queue.send({
        requestId: scheduledRequestId(tick, simulation),
        simulation,
        trigger: "schedule",
        schedule: tick.schedule,
        requestedAt: new Date(tick.scheduledTime).toISOString(),
      });
    }
    for (const simulation of picked) {
      await checkpoints.listBySimulation(simulation, { newestFirst: true, limit: 50 });
    }
    return picked.length;
  });

  let unread = 0;
  const tickNow = async (url: string) => {
    const result = await planSnapshots(tick, {
      providers,
      requests: new SqsMessageQueue<SnapshotRequest>(sqs, url),
      stops: new SqsMessageQueue<StopRequestedEvent>(sqs, url),
      tags: { cache, clock },
    });
    const freshness = await checkpointFreshness(result.requested, { checkpoints, clock });
    if (freshness.some((f) => f.newestCompletedAt === undefined)) throw new Error("no freshness");
    unread = result.tags?.unread ?? 0;
    return result.requested.length;
  };
  // A cold cache is read DEFAULT_TAG_READS_PER_TICK simulations a tick: the others wait a tick.
  let ticks = 0;
  do {
    await measure(ticks === 0 ? "first tick" : `tick ${ticks + 1}`, tickNow);
    now += 3_600_000;
    ticks++;
  } while (unread > 0);
  const steady = await measure("next tick", tickNow);
  console.log(
    `per simulation (next tick): SQS ${(steady.of("sqs SendMessageBatch") / count).toFixed(2)}, ` +
      `tag reads 0 (cached), catalog ${(steady.of("dynamodb BatchGetItem") / count).toFixed(2)}`,
  );
} finally {
  await simulator.close();
  await servers.close();
  await rm(dataDir, { recursive: true, force: true });
}
