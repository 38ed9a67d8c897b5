import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

/** A Lambda SQS handler as the functions export it. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Tells the local queue pollers that a message was just sent. local-aws-sqs answers a long poll
 * only when its wait ends (unless a full batch is waiting), so a poller that long-polls sees a
 * message up to a whole wait after it arrived; with these wake-ups it short-polls at once instead.
 * The local SQS server notifies after each send's response (when the message is stored), for
 * every queue at once: a spurious wake-up costs one empty short poll.
 */
export class SendWakeups {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next `notify`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Short polls while idle: first wait after an empty one, doubled up to the longest. */
const IDLE_WAIT_MS = { first: 50, longest: 1000 };

/** Where a poller reads and what it calls. */
export interface PollerOptions {
  client: SQSClient;
  queueName: string;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  handler: SqsHandler;
  onError: (error: unknown) => void;
  /**
   * Wake-ups on sends (the local runtime's): the poller then short-polls, and between empty polls
   * waits for a send or a backoff (50 ms doubling to 1 s, for delayed messages and redeliveries).
   * Without them it long-polls for 1 s, answered late by local-aws-sqs.
   */
  wakeups?: SendWakeups;
}

/** Enough of a Lambda context for handlers that log it. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function toRecord(message: Message, options: PollerOptions): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp:
        attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

/**
 * Does locally what Lambda's SQS event source mapping does in AWS: polls the queue, hands
 * batches to the function, deletes the records it did not report as failed and leaves the others
 * to their visibility timeout, redelivery and, in the end, the dead-letter queue. With wake-ups
 * (see `SendWakeups`) a message is handed over as it arrives, not when a long poll ends.
 */
export class QueuePoller {
  private running = false;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { client, queueUrl, batchSize, handler, wakeups } = this.options;
    let idleWait = IDLE_WAIT_MS.first;
    while (this.running) {
      try {
        const received = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: wakeups ? 0 : 1,
            AttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          if (wakeups) {
            await wakeups.wait(idleWait, this.abort.signal);
            idleWait = Math.min(idleWait * 2, IDLE_WAIT_MS.longest);
          }
          continue;
        }
        idleWait = IDLE_WAIT_MS.first;
        const records = messages.map((m) => toRecord(m, this.options));
        const response = await handler({ Records: records }, lambdaContext(this.options.queueName));
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length > 0) {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (!this.running) break;
        this.options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
  }
}
