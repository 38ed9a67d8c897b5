import {
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AppError, ValidationError } from "../../domain/errors.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import { forEachLimited } from "../../usecases/for-each-limited.ts";

/** SQS's own bounds for a per-message delay, in seconds. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Checks a delay against SQS's range. Out-of-range delays are refused rather than clamped: a
 * backoff that silently became 15 minutes (or 0) would hide a bug in the schedule computing it.
 */
export function validateDelaySeconds(delaySeconds: number): number {
  if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
    const message = `must be an integer from 0 to ${MAX_DELAY_SECONDS}`;
    throw new ValidationError(`Invalid delaySeconds ${delaySeconds}: ${message}`, [
      { path: "delaySeconds", message },
    ]);
  }
  return delaySeconds;
}

/** SQS's most entries in one SendMessageBatch. */
export const MAX_BATCH_ENTRIES = 10;
/**
 * The payload a batch may carry, summed over its bodies: SQS's original 256 KiB limit, which every
 * region and local-aws-sqs accept (SQS has since raised it to 1 MiB; one fan-out message is far
 * below either, so the lower bound costs nothing).
 */
const MAX_BATCH_BYTES = 256 * 1024;

/** How a batch send retries the entries SQS failed for its own reasons (not the sender's). */
export interface BatchRetry {
  /** Sends of one entry, the first included. */
  attempts: number;
  /** Wait before the second send of a failed entry, doubled for each further one. */
  baseDelayMs: number;
  /** Batches in flight at once. */
  concurrency: number;
}

const DEFAULT_BATCH_RETRY: BatchRetry = { attempts: 5, baseDelayMs: 50, concurrency: 10 };

/** Splits bodies into SendMessageBatch-sized groups: at most 10 entries and 256 KiB each. */
export function batchesOf(bodies: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body, "utf8");
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + size > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A work queue on SQS; messages travel as JSON, the format every consumer function parses. */
export class SqsMessageQueue<T> implements MessageQueue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly retry: BatchRetry = DEFAULT_BATCH_RETRY,
  ) {}

  /**
   * One SendMessageBatch per 10 messages (fewer when the bodies pass 256 KiB), a bounded number in
   * flight. SQS answers a batch entry by entry: entries it failed for its own reasons
   * (`SenderFault` false, e.g. an internal error) are sent again with backoff, alone with the
   * other failures of their batch; an entry failed for the sender's reasons, or still failing
   * after the last attempt, fails the call, naming how many and why. Messages already accepted
   * stay sent, so a caller retrying the call sends those again: the consumers' deterministic
   * request ids make that a no-op.
   */
  async sendBatch(messages: readonly T[], options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds =
      options.delaySeconds === undefined ? undefined : validateDelaySeconds(options.delaySeconds);
    const batches = batchesOf(messages.map((message) => JSON.stringify(message)));
    await forEachLimited(batches, this.retry.concurrency, (bodies) =>
      this.sendOneBatch(bodies, delaySeconds),
    );
  }

  private async sendOneBatch(bodies: string[], delaySeconds: number | undefined): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = bodies.map((body, index) => ({
      Id: String(index),
      MessageBody: body,
      DelaySeconds: delaySeconds,
    }));
    for (let attempt = 1; ; attempt++) {
      const { Failed = [] } = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
      );
      if (Failed.length === 0) return;
      const senderFaults = Failed.filter((failure) => failure.SenderFault === true);
      if (senderFaults.length > 0 || attempt >= this.retry.attempts) {
        const first = senderFaults[0] ?? Failed[0];
        throw new AppError(
          `SQS refused ${Failed.length} of ${pending.length} messages of a batch` +
            (senderFaults.length > 0 ? "" : ` after ${attempt} attempts`) +
            `: ${first?.Code ?? "unknown"} ${first?.Message ?? ""}`.trimEnd(),
        );
      }
      const retried = new Set(Failed.map((failure) => failure.Id));
      pending = pending.filter((entry) => retried.has(entry.Id));
      await sleep(this.retry.baseDelayMs * 2 ** (attempt - 1));
    }
  }

  async send(message: T, options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds =
      options.delaySeconds === undefined ? undefined : validateDelaySeconds(options.delaySeconds);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: delaySeconds,
      }),
    );
  }
}
