import type {
  SendMessageBatchCommand,
  SendMessageBatchCommandOutput,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { batchesOf, SqsMessageQueue } from "../../../lib/adapters/sqs/message-queue.ts";
import { AppError } from "../../../lib/domain/errors.ts";

type Failure = { Id: string; SenderFault: boolean; Code: string; Message?: string };

/**
 * An SQS client that answers SendMessageBatch with scripted per-entry failures (by message body,
 * per attempt), recording the bodies of every request: what local-aws-sqs cannot be made to do.
 */
function scriptedClient(fail: (body: string, attempt: number) => Failure | undefined) {
  const requests: string[][] = [];
  const attempts = new Map<string, number>();
  const client = {
    send: async (command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> => {
      const entries = command.input.Entries ?? [];
      requests.push(entries.map((e) => e.MessageBody ?? ""));
      const Failed: Failure[] = [];
      for (const entry of entries) {
        const body = entry.MessageBody ?? "";
        const attempt = (attempts.get(body) ?? 0) + 1;
        attempts.set(body, attempt);
        const failure = fail(body, attempt);
        if (failure) Failed.push({ ...failure, Id: entry.Id ?? "" });
      }
      return { Failed, Successful: [], $metadata: {} };
    },
  };
  return { client: client as unknown as SQSClient, requests };
}

const retry = { attempts: 3, baseDelayMs: 1, concurrency: 2 };
const messages = Array.from({ length: 23 }, (_, i) => ({ n: i }));

describe("SqsMessageQueue.sendBatch", () => {
  it("sends again only the entries SQS failed for its own reasons, until accepted", async () => {
    const { client, requests } = scriptedClient((body, attempt) =>
      (body === '{"n":3}' || body === '{"n":14}') && attempt < 3
        ? { Id: "", SenderFault: false, Code: "InternalError" }
        : undefined,
    );

    await new SqsMessageQueue(client, "url", retry).sendBatch(messages);

    expect(requests.map((r) => r.length).sort((a, b) => b - a)).toEqual([10, 10, 3, 1, 1, 1, 1]);
    expect(requests.filter((r) => r.length === 1).sort()).toEqual([
      ['{"n":14}'],
      ['{"n":14}'],
      ['{"n":3}'],
      ['{"n":3}'],
    ]);
  });

  it("fails naming the count and the reason when entries keep failing or the sender is at fault", async () => {
    const transient = scriptedClient((body) =>
      body === '{"n":5}' ? { Id: "", SenderFault: false, Code: "InternalError" } : undefined,
    );
    const refused = scriptedClient((body) =>
      body === '{"n":7}'
        ? { Id: "", SenderFault: true, Code: "InvalidMessageContents", Message: "bad body" }
        : undefined,
    );

    const afterRetries = await new SqsMessageQueue(transient.client, "url", retry)
      .sendBatch(messages)
      .catch((e: unknown) => e);
    const atOnce = await new SqsMessageQueue(refused.client, "url", retry)
      .sendBatch(messages)
      .catch((e: unknown) => e);

    expect(afterRetries).toBeInstanceOf(AppError);
    expect((afterRetries as Error).message).toBe(
      "SQS refused 1 of 1 messages of a batch after 3 attempts: InternalError",
    );
    expect(transient.requests.filter((r) => r.includes('{"n":5}'))).toHaveLength(3);
    expect((atOnce as Error).message).toBe(
      "SQS refused 1 of 10 messages of a batch: InvalidMessageContents bad body",
    );
    expect(refused.requests.filter((r) => r.includes('{"n":7}'))).toHaveLength(1);
  });

  it("keeps a batch under 10 entries and 256 KiB", () => {
    const big = "x".repeat(100 * 1024);
    expect(batchesOf([big, big, big, "a"]).map((b) => b.length)).toEqual([2, 2]);
    expect(batchesOf(Array.from({ length: 21 }, () => "a")).map((b) => b.length)).toEqual([
      10, 10, 1,
    ]);
  });
});
