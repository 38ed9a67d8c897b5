import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqsMessageQueue } from "../../lib/adapters/sqs/message-queue.ts";
import { ValidationError } from "../../lib/domain/errors.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

interface SnapshotRequest {
  simulation: string;
  slot: string;
  attempt: number;
}

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});

afterAll(async () => {
  await aws?.close();
});

async function newQueue(name: string): Promise<string> {
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error("no queue url");
  return QueueUrl;
}

/**
 * local-aws-sqs holds a long poll for its whole wait time unless `MaxNumberOfMessages` messages
 * are available, so the tests ask for one message at a time to get SQS's prompt answers.
 */
const receive = async (queueUrl: string, waitTimeSeconds: number): Promise<unknown[]> => {
  const { Messages } = await aws.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: waitTimeSeconds,
    }),
  );
  return (Messages ?? []).map((message) => JSON.parse(message.Body ?? "null") as unknown);
};

describe("SqsMessageQueue on local-aws-sqs", () => {
  it("sends the message as a JSON body", async () => {
    const url = await newQueue("snapshot-requests");
    const queue = new SqsMessageQueue<SnapshotRequest>(aws.sqs, url);
    const message = { simulation: "alpha", slot: "2025-03-01T00:00:00.000Z", attempt: 1 };

    await queue.send(message);

    expect(await receive(url, 1)).toEqual([message]);
  });

  it("keeps a delayed message invisible until its delay has passed", async () => {
    const url = await newQueue("status-checks");
    const queue = new SqsMessageQueue<SnapshotRequest>(aws.sqs, url);
    const message = { simulation: "alpha", slot: "s", attempt: 2 };

    const sentAt = Date.now();
    await queue.send(message, { delaySeconds: 2 });

    expect(await receive(url, 0)).toEqual([]);
    expect(await receive(url, 1)).toEqual([]);
    expect(await receive(url, 5)).toEqual([message]);
    const elapsed = Date.now() - sentAt;
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(4_500);
  });

  it("rejects a delay outside 0..900 seconds before sending anything", async () => {
    const url = await newQueue("rejected");
    const queue = new SqsMessageQueue<SnapshotRequest>(aws.sqs, url);
    const message = { simulation: "alpha", slot: "s", attempt: 1 };

    for (const delaySeconds of [-1, 901, 1.5, Number.NaN]) {
      const error = await queue.send(message, { delaySeconds }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([
        { path: "delaySeconds", message: "must be an integer from 0 to 900" },
      ]);
    }
    await queue.send(message, { delaySeconds: 0 });
    await queue.send({ ...message, attempt: 2 }, { delaySeconds: 900 });

    expect(await receive(url, 1)).toEqual([message]);
  });

  it("sends a batch 10 messages a SendMessageBatch, every one received once", async () => {
    const url = await newQueue("fan-out");
    const queue = new SqsMessageQueue<SnapshotRequest>(aws.sqs, url);
    const messages = Array.from({ length: 25 }, (_, i) => ({
      simulation: `sim-${i}`,
      slot: "2025-03-01T00:00:00.000Z",
      attempt: 1,
    }));
    const commands: string[] = [];
    const counting = new SqsMessageQueue<SnapshotRequest>(
      {
        send: (command: { constructor: { name: string } }) => {
          commands.push(command.constructor.name);
          return aws.sqs.send(command as never);
        },
      } as never,
      url,
    );

    await counting.sendBatch(messages);
    await queue.sendBatch([]);

    expect(commands).toEqual(Array.from({ length: 3 }, () => "SendMessageBatchCommand"));
    const received: unknown[] = [];
    for (let i = 0; i < 30 && received.length < messages.length; i++) {
      received.push(...(await receive(url, 1)));
    }
    expect(received).toHaveLength(25);
    expect(new Set(received.map((m) => JSON.stringify(m)))).toEqual(
      new Set(messages.map((m) => JSON.stringify(m))),
    );
  });
});
