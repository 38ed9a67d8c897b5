import type { RedeliveryDelayer } from "../handlers/sqs-batch.ts";
import type { MessageQueue } from "../ports/messaging.ts";
import { queueUrl } from "../settings.ts";
import { topology, type FunctionName, type QueueName } from "../topology.ts";
import { deferred, once, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

// The SDK and the adapters are imported on the first send or delay (see `deferred`).
const sqs = once(async () => {
  const adapters = await import("../adapters/sqs/deferred.ts");
  return { adapters, client: adapters.sqsClient(processSettings().AWS_REGION) };
});
const visibility = once(() => {
  processSettings();
  const load = once(async () => {
    const { adapters, client } = await sqs();
    return new adapters.SqsVisibility(client);
  });
  return deferred<RedeliveryDelayer>(load, { delay: "call" });
});

/**
 * A queue function `name` sends to, which its `sendsTo` must list (the URL comes from the
 * environment the declaration put there; a missing one fails loudly).
 */
export function queue<T>(name: FunctionName, queueName: QueueName): MessageQueue<T> {
  const sendsTo: readonly QueueName[] = topology.functions[name].sendsTo;
  if (!sendsTo.includes(queueName)) throw undeclared(name, `the queue ${queueName}`);
  const url = queueUrl(queueName);
  processSettings();
  const load = once(async () => {
    const { adapters, client } = await sqs();
    return new adapters.SqsMessageQueue<T>(client, url);
  });
  return deferred<MessageQueue<T>>(load, { send: "call", sendBatch: "call" });
}

/** Delays a message's redelivery, for a function that consumes a queue of the topology. */
export function redelivery(name: FunctionName): RedeliveryDelayer {
  const consumes = Object.values(topology.queues).some((spec) => spec.consumer === name);
  if (!consumes) throw undeclared(name, "redelivery (it consumes no queue)");
  return visibility();
}
