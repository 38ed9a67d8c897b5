import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SqsVisibility } from "../../lib/adapters/sqs/visibility.ts";
import { ProviderError, RetryLaterError } from "../../lib/domain/errors.ts";
import { sqsBatchHandler, type RedeliveryDelayer } from "../../lib/handlers/sqs-batch.ts";
import { lambdaContext, QueuePoller } from "../../lib/local/queue-poller.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { captureLogs } from "../support/log-capture.ts";

const Message = z.object({ n: z.number().int() });

describe("sqsBatchHandler on a real queue", () => {
  let aws: LocalAws;
  let queueUrl: string;
  let queueArn: string;

  beforeAll(async () => {
    aws = await startLocalAws();
    queueUrl = (
      await aws.sqs.send(
        new CreateQueueCommand({ QueueName: "batch-it", Attributes: { VisibilityTimeout: "30" } }),
      )
    ).QueueUrl!;
    queueArn = (
      await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes!.QueueArn!;
  });
  afterAll(() => aws.close());

  it("acks good records, reports bad ones, and redelivers a retry-later record after its delay", async () => {
    const seen: { n: number; at: number }[] = [];
    let retried = false;
    const handler = sqsBatchHandler({
      what: "test message",
      schema: Message,
      redelivery: new SqsVisibility(aws.sqs),
      handle: async (message) => {
        seen.push({ n: message.n, at: Date.now() });
        if (message.n === 2 && !retried) {
          retried = true;
          throw new RetryLaterError("not yet", 2);
        }
      },
    });
    const errors: unknown[] = [];
    const poller = new QueuePoller({
      client: aws.sqs,
      queueName: "batch-it",
      queueUrl,
      queueArn,
      region: "us-east-1",
      batchSize: 10,
      handler,
      onError: (e) => errors.push(e),
    });

    const sentAt = Date.now();
    for (const body of [{ n: 1 }, { n: 2 }]) {
      await aws.sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }),
      );
    }
    const logs = captureLogs();
    try {
      poller.start();
      const deadline = Date.now() + 15_000;
      while (seen.filter((s) => s.n === 2).length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await poller.stop();
    } finally {
      logs.restore();
    }

    const twos = seen.filter((s) => s.n === 2);
    expect(seen.filter((s) => s.n === 1)).toHaveLength(1);
    expect(twos).toHaveLength(2);
    // Redelivered after the 2 s it asked for, far sooner than the queue's 30 s visibility timeout.
    expect(twos[1]!.at - twos[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(twos[1]!.at - sentAt).toBeLessThan(15_000);
    expect(errors).toEqual([]);
    expect(
      logs.lines().map(({ level, message, delaySeconds, reason }) => ({
        level,
        message,
        delaySeconds,
        reason,
      })),
    ).toEqual([{ level: "INFO", message: "Retrying later", delaySeconds: 2, reason: "not yet" }]);
  });

  it("redelivers a record that met a transient provider error after a short backoff, not the visibility timeout", async () => {
    // A queue of its own: a stopped poller's long poll may still take a message from a shared one.
    const ownUrl = (
      await aws.sqs.send(
        new CreateQueueCommand({
          QueueName: "batch-transient",
          Attributes: { VisibilityTimeout: "30" },
        }),
      )
    ).QueueUrl!;
    const ownArn = (
      await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: ownUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes!.QueueArn!;
    const seen: string[] = [];
    const asked: number[] = [];
    const visibility = new SqsVisibility(aws.sqs);
    const redelivery: RedeliveryDelayer = {
      delay: (record, seconds) => {
        asked.push(seconds);
        return visibility.delay(record, seconds);
      },
    };
    const handler = sqsBatchHandler({
      what: "restore step",
      schema: Message,
      redelivery,
      handle: async (_message, record) => {
        seen.push(record.attributes.ApproximateReceiveCount);
        // One throttle, as a restore poll's DescribeSimulation might meet.
        if (seen.length === 1) {
          throw new ProviderError("ThrottlingException", "Rate exceeded", {
            status: 400,
            retryable: true,
          });
        }
      },
    });
    const errors: unknown[] = [];
    const poller = new QueuePoller({
      client: aws.sqs,
      queueName: "batch-transient",
      queueUrl: ownUrl,
      queueArn: ownArn,
      region: "us-east-1",
      batchSize: 10,
      handler,
      onError: (e) => errors.push(e),
    });

    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: ownUrl, MessageBody: JSON.stringify({ n: 7 }) }),
    );
    const logs = captureLogs();
    try {
      poller.start();
      // The queue's visibility timeout is 30 s: a record left to it would not be back in time.
      const deadline = Date.now() + 15_000;
      while (seen.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await poller.stop();
    } finally {
      logs.restore();
    }

    expect(seen).toHaveLength(2);
    // First receive: a full-jitter wait within the first 2 s window (at least 1 s).
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThanOrEqual(1);
    expect(asked[0]).toBeLessThanOrEqual(2);
    expect(seen[0]).toBe("1");
    expect(errors).toEqual([]);
    // The one WARN of the retry, with the code and the wait asked for.
    expect(logs.lines()).toEqual([
      expect.objectContaining({
        level: "WARN",
        message: "restore step hit a transient error; retrying",
        code: "ThrottlingException",
        receiveCount: 1,
        delaySeconds: asked[0],
      }),
    ]);
  });

  it("fails a record whose body breaks the schema, naming the field, and keeps the others", async () => {
    const handled: number[] = [];
    const handler = sqsBatchHandler({
      what: "test message",
      schema: Message,
      redelivery: new SqsVisibility(aws.sqs),
      handle: async (message) => {
        handled.push(message.n);
      },
    });
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "x",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: "us-east-1",
    });

    const logs = captureLogs();
    const response = await handler(
      {
        Records: [
          record("a", '{"n":1}'),
          record("b", '{"n":"two"}'),
          record("c", "not json"),
          record("d", '{"n":4}'),
        ],
      },
      lambdaContext("test"),
    ).finally(() => logs.restore());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["b", "c"]);
    expect(handled).toEqual([1, 4]);
    expect(
      logs.lines().map(({ level, messageId, error }) => ({ level, messageId, error })),
    ).toEqual([
      { level: "WARN", messageId: "b", error: expect.stringMatching(/^Invalid test message: n: /) },
      { level: "WARN", messageId: "c", error: "Invalid test message: body is not JSON" },
    ]);
  });
});
