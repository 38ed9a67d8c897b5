import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ValidationError } from "../../domain/errors.ts";
import type { MessageQueue } from "../../ports/messaging.ts";

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

/** A work queue on SQS; messages travel as JSON, the format every consumer function parses. */
export class SqsMessageQueue<T> implements MessageQueue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

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
