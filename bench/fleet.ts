/**
 * A fleet through one schedule tick, in process with the in-memory ports (test/support/memory.ts,
 * the fakes the use-case tests run on): plan-snapshots over every running simulation, then
 * take-snapshot for each request it sent, then complete-snapshot for each snapshot file, as the
 * provider writes them. It counts each port's calls and turns them into the requests the AWS
 * adapters send for them (SendMessageBatch: 10 messages; BatchGetItem: 100 keys; a checkpoint
 * create: the registry's put and the record's; a COMPLETE save: the record and the registry's
 * newest completion), and prints requests per simulation by service and step. Times are those of
 * the in-memory ports (simsnap's own work), not of AWS. Prints figures; asserts nothing.
 * Usage: npm run bench:fleet -- [simulations, default 100000]
 */
import type { ObjectInfo } from "../lib/ports/object-store.ts";
import type { SnapshotRequest, StopRequestedEvent } from "../lib/domain/messages.ts";
import { checkpointFreshness } from "../lib/usecases/snapshot/checkpoint-freshness.ts";
import { completeSnapshot } from "../lib/usecases/snapshot/complete-snapshot.ts";
import { planSnapshots } from "../lib/usecases/snapshot/plan-snapshots.ts";
import { takeSnapshot } from "../lib/usecases/snapshot/take-snapshot.ts";
import { MemoryQueue } from "../test/support/memory.ts";
import { providerWritesFiles, snapshotWorld } from "../test/support/snapshot-world.ts";

const count = Number(process.argv[2] ?? 100_000);
const names = Array.from({ length: count }, (_, i) => `sim-${String(i).padStart(6, "0")}`);
const world = snapshotWorld(Object.fromEntries(names.map((name) => [name, "STARTED" as const])));
const files: ObjectInfo[] = providerWritesFiles(world, { callMs: 200 });

/** Port calls by `port.method`, and the requests their adapters send for them. */
const calls = new Map<string, number>();
const requests = new Map<string, number>();
const add = (map: Map<string, number>, key: string, n: number) =>
  map.set(key, (map.get(key) ?? 0) + n);

/** What one call costs its AWS adapter, in requests, by `port.method` and its arguments. */
function requestsOf(key: string, args: unknown[]): [service: string, n: number] {
  const [port, method] = key.split(".") as [string, string];
  const service =
    {
      checkpoints: "DynamoDB",
      jobs: "DynamoDB",
      objects: "S3",
      events: "EventBridge",
      provider: "SimSpace Weaver",
    }[port] ?? "SQS";
  const first = args[0];
  if (method === "sendBatch") return [service, Math.ceil((first as unknown[]).length / 10)];
  if (method === "simulationRecords")
    return [service, Math.ceil((first as unknown[]).length / 100)];
  if (method === "create" && port === "checkpoints") {
    const state = (first as { state: string }).state;
    return [service, state === "COMPLETE" || state === "DELETED" ? 3 : 2];
  }
  if (method === "save" && port === "checkpoints") {
    return [service, (first as { state: string }).state === "COMPLETE" ? 2 : 1];
  }
  return [service, 1];
}

function counted<T extends object>(port: string, target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        const key = `${port}.${property}`;
        add(calls, key, 1);
        const [service, n] = requestsOf(key, args);
        add(requests, `${step} ${service}`, n);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

let step = "plan";
const requestQueue = new MemoryQueue<SnapshotRequest>();
const ports = {
  ...world,
  checkpoints: counted("checkpoints", world.checkpoints),
  jobs: counted("jobs", world.jobs),
  objects: counted("objects", world.objects),
  events: counted("events", world.events),
  statusChecks: counted("statusChecks", world.statusChecks),
  provider: counted("provider", world.provider),
};
const timings: [string, number][] = [];
const timed = async (label: string, work: () => Promise<unknown>) => {
  step = label;
  const start = performance.now();
  await work();
  timings.push([label, performance.now() - start]);
};

await timed("plan", async () => {
  const result = await planSnapshots(
    { schedule: "hourly", scheduledTime: world.clock.now().toISOString() },
    {
      providers: { all: () => [ports.provider] },
      requests: counted("requests", requestQueue),
      stops: counted("stops", new MemoryQueue<StopRequestedEvent>()),
    },
  );
  await checkpointFreshness(result.requested, ports);
});
await timed("take", async () => {
  for (const { message } of requestQueue.sent) await takeSnapshot(message, ports);
});
await timed("complete", async () => {
  world.clock.advance(5_000);
  for (const file of files) await completeSnapshot(file, ports);
});

console.log(
  `fleet bench: ${count.toLocaleString("en")} running simulations through plan → take → ` +
    `complete with the in-memory ports, Node ${process.versions.node}`,
);
console.log(
  `${"step".padEnd(9)} ${"service".padEnd(16)} ${"requests".padStart(9)} ${"per sim".padStart(8)}`,
);
let total = 0;
for (const [key, n] of [...requests].sort()) {
  const [label, ...service] = key.split(" ");
  total += n;
  console.log(
    `${(label ?? "").padEnd(9)} ${service.join(" ").padEnd(16)} ${String(n).padStart(9)} ${(n / count).toFixed(2).padStart(8)}`,
  );
}
console.log(
  `${"all".padEnd(26)} ${String(total).padStart(9)} ${(total / count).toFixed(2).padStart(8)}`,
);
console.log(
  `in-process time: ${timings.map(([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`).join(", ")}`,
);
console.log(
  `port calls: ${[...calls]
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(", ")}`,
);
