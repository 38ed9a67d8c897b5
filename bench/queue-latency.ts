/**
 * How soon a local queue poller hands a sent message to its function, on local-aws-sqs: the
 * part of the local stack's tick → PENDING time that is the queue's. Two ways: `long poll`
 * (1 s ReceiveMessage waits, as before: local-aws-sqs answers only when the wait ends) and
 * `wake-ups` (short polls, woken by the server on every send, backing off to 1 s when idle).
 * Messages are sent one at a time at random moments; it prints send → handler latency p50 and
 * p95, and the ReceiveMessage requests each way made per second. Prints figures; asserts nothing.
 * Usage: npm run bench:queue-latency -- [messages, default 40]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { QueuePoller } from "../lib/local/queue-poller.ts";
import { startLocalServers } from "../lib/local/servers.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const count = Number(process.argv[2] ?? 40);
const dataDir = await mkdtemp(join(tmpdir(), "simsnap-queue-latency-"));
const servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
const sqs = new SQSClient({
  endpoint: servers.sqs.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
let receives = 0;
sqs.middlewareStack.add(
  (next, context) => (args) => {
    if (context.commandName === "ReceiveMessageCommand") receives++;
    return next(args);
  },
  { step: "initialize", name: "countReceives" },
);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
};

async function measure(label: string, wake: boolean): Promise<void> {
  const name = `latency-${wake ? "wake" : "long"}`;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? "";
  const arrived = new Map<number, number>();
  const poller = new QueuePoller({
    client: sqs,
    queueName: name,
    queueUrl: url,
    queueArn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    region: "us-east-1",
    batchSize: 10,
    handler: async (event) => {
      for (const record of event.Records) arrived.set(Number(record.body), performance.now());
      return { batchItemFailures: [] };
    },
    onError: (error) => console.error(error),
    ...(wake ? { wakeups: servers.sqs.sends } : {}),
  });
  poller.start();
  receives = 0;
  const started = performance.now();
  const sent = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 900));
    sent.set(i, performance.now());
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: String(i) }));
  }
  while (arrived.size < count) await new Promise((resolve) => setTimeout(resolve, 50));
  const seconds = (performance.now() - started) / 1000;
  await poller.stop();
  const latencies = [...sent].map(([i, at]) => (arrived.get(i) ?? Number.NaN) - at);
  console.log(
    `${label.padEnd(10)} p50 ${percentile(latencies, 0.5).toFixed(0).padStart(4)} ms  ` +
      `p95 ${percentile(latencies, 0.95).toFixed(0).padStart(4)} ms  ` +
      `${(receives / seconds).toFixed(1)} ReceiveMessage/s`,
  );
}

try {
  console.log(
    `queue latency bench: ${count} messages sent 0.1–1 s apart to one queue on local-aws-sqs, ` +
      `send → handler`,
  );
  await measure("long poll", false);
  await measure("wake-ups", true);
} finally {
  sqs.destroy();
  await servers.close();
  await rm(dataDir, { recursive: true, force: true });
}
