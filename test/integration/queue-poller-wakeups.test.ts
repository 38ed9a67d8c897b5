import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueuePoller, SendWakeups } from "../../lib/local/queue-poller.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws?.close());

const newQueue = async (name: string) =>
  (await aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? "";

/** Wake-ups whose waits end only on a send (or a stop), never on their backoff timer. */
class SendsOnly extends SendWakeups {
  override wait(_ms: number, signal: AbortSignal): Promise<void> {
    return super.wait(2 ** 31 - 1, signal);
  }
}

describe("local queue pollers woken by sends", () => {
  it("has the local SQS server wake waiters once a sent message is stored", async () => {
    const url = await newQueue("wake-server");
    const woken = aws.servers.sqs.sends.wait(2 ** 31 - 1, new AbortController().signal);

    await aws.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "{}" }));

    await woken; // without the server's notification this never resolves and the test times out
  });

  it("short-polls, and hands over a message sent while it waits as soon as it is woken", async () => {
    const url = await newQueue("wake-poller");
    const waits: number[] = [];
    aws.sqs.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === "ReceiveMessageCommand") {
          waits.push((args.input as { WaitTimeSeconds?: number }).WaitTimeSeconds ?? -1);
        }
        return next(args);
      },
      { step: "initialize", name: "recordWaits" },
    );
    const wakeups = new SendsOnly();
    const handled: string[] = [];
    let delivered: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    const poller = new QueuePoller({
      client: aws.sqs,
      queueName: "wake-poller",
      queueUrl: url,
      queueArn: "arn:aws:sqs:us-east-1:000000000000:wake-poller",
      region: "us-east-1",
      batchSize: 10,
      handler: async (event) => {
        handled.push(...event.Records.map((r) => r.body));
        delivered();
        return { batchItemFailures: [] };
      },
      onError: (error) => {
        throw error;
      },
      wakeups,
    });
    poller.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // it is waiting for a send now
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"n":1}' }));
      wakeups.notify();
      await done;
    } finally {
      await poller.stop();
      aws.sqs.middlewareStack.remove("recordWaits");
    }

    expect(handled).toEqual(['{"n":1}']);
    expect(new Set(waits)).toEqual(new Set([0]));
  });
});
