import { SQSClient } from "@aws-sdk/client-sqs";
import { SqsMessageQueue } from "../adapters/sqs/message-queue.ts";
import { SqsVisibility } from "../adapters/sqs/visibility.ts";
import type { RedeliveryDelayer } from "../handlers/sqs-batch.ts";
import type { MessageQueue } from "../ports/messaging.ts";
import { queueUrl } from "../settings.ts";
import { topology, type FunctionName, type QueueName } from "../topology.ts";
import { once, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const sqs = once(() => new SQSClient({ region: processSettings().AWS_REGION }));
const visibility = once(() => new SqsVisibility(sqs()));

/**
 * A queue function `name` sends to, which its `sendsTo` must list (the URL comes from the
 * environment the declaration put there; a missing one fails loudly).
 */
export function queue<T>(name: FunctionName, queueName: QueueName): MessageQueue<T> {
  const sendsTo: readonly QueueName[] = topology.functions[name].sendsTo;
  if (!sendsTo.includes(queueName)) throw undeclared(name, `the queue ${queueName}`);
  return new SqsMessageQueue<T>(sqs(), queueUrl(queueName));
}

/** Delays a message's redelivery, for a function that consumes a queue of the topology. */
export function redelivery(name: FunctionName): RedeliveryDelayer {
  const consumes = Object.values(topology.queues).some((spec) => spec.consumer === name);
  if (!consumes) throw undeclared(name, "redelivery (it consumes no queue)");
  return visibility();
}
