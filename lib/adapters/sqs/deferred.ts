import { SQSClient } from "@aws-sdk/client-sqs";

// What the wiring imports with `import()` on the first send or delay: the client and both
// adapters on it, in one module, so a bundle split at that import loads them as a few chunks.
// Named imports let the bundler keep the client alone, where importing the SDK package's
// namespace would keep every one of its commands.
export { SqsMessageQueue } from "./message-queue.ts";
export { SqsVisibility } from "./visibility.ts";

/** The SQS client the queues and redelivery share. */
export const sqsClient = (region: string | undefined): SQSClient => new SQSClient({ region });
