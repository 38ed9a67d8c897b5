import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SqsVisibility } from "../../lib/adapters/sqs/visibility.ts";
import { RetryLaterError } from "../../lib/domain/errors.ts";
import { sqsBatchHandler } from "../../lib/handlers/sqs-batch.ts";
import { lambdaContext, QueuePoller } from "../../lib/local/queue-poller.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

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
    poller.start();
    const deadline = Date.now() + 15_000;
    while (seen.filter((s) => s.n === 2).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await poller.stop();

    const twos = seen.filter((s) => s.n === 2);
    expect(seen.filter((s) => s.n === 1)).toHaveLength(1);
    expect(twos).toHaveLength(2);
    // Redelivered after the 2 s it asked for, far sooner than the queue's 30 s visibility timeout.
    expect(twos[1]!.at - twos[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(twos[1]!.at - sentAt).toBeLessThan(15_000);
    expect(errors).toEqual([]);
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
    );

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["b", "c"]);
    expect(handled).toEqual([1, 4]);
  });
});
