import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";
import { fullJitterSeconds } from "../domain/backoff.ts";
import { isAppError, RetryLaterError, ValidationError } from "../domain/errors.ts";
import { parseInput } from "../domain/validation.ts";
import { logger } from "../observability/logger.ts";

/** Changes when a failed message is delivered again. */
export interface RedeliveryDelayer {
  delay(
    record: Pick<SQSRecord, "eventSourceARN" | "receiptHandle">,
    seconds: number,
  ): Promise<void>;
}

/** How one queue's messages are read and handled. */
export interface SqsBatchOptions<S extends z.ZodType> {
  /** Names the message kind in errors and logs. */
  what: string;
  schema: S;
  handle: (message: z.output<S>, record: SQSRecord) => Promise<unknown>;
  /** Correlation keys of a message for the logs (simulation, checkpoint, job). */
  correlate?: (message: z.output<S>) => Record<string, string | undefined>;
  redelivery: RedeliveryDelayer;
  /** Where the jitter of transient-error backoffs comes from; `Math.random` unless a test pins it. */
  random?: () => number;
}

/**
 * The backoff of a record that failed with a transient error (a provider's 5xx or throttle, a lost
 * conditional write): a full-jitter wait of 2 s doubling per receive up to 60 s, instead of the
 * queue's visibility timeout (up to 30 minutes), which is sized for the slowest successful run.
 */
export const TRANSIENT_BACKOFF = { baseSeconds: 2, maxSeconds: 60 } as const;

/** How often SQS has handed out this record, counting this delivery; 1 when unknown. */
const receiveCount = (record: SQSRecord): number => {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
};

function parseBody(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ValidationError(
      `Invalid ${what}: body is not JSON`,
      [{ path: "(body)", message: "must be JSON" }],
      {
        cause: error,
      },
    );
  }
}

/**
 * Wraps a use case as an SQS consumer with partial batch failures: each record is parsed and
 * validated on its own, a failing record is reported back while the others succeed. A
 * `RetryLaterError` is redelivered after the delay it names; any other retryable error (a
 * provider's 5xx, throttle or network failure, a lost conditional write) after a short jittered
 * backoff growing with the record's receive count (`TRANSIENT_BACKOFF`), so one transient fault
 * costs seconds, not the visibility timeout. Invalid messages fail with a message naming the
 * field; like every failure they reach the dead-letter queue after the queue's receive count, so
 * nothing is silently lost.
 */
export function sqsBatchHandler<S extends z.ZodType>(
  options: SqsBatchOptions<S>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<unknown> => {
    const message = parseInput(options.schema, parseBody(record.body, options.what), options.what);
    const keys = { messageId: record.messageId, ...options.correlate?.(message) };
    logger.appendKeys(keys);
    try {
      return await options.handle(message, record);
    } catch (error) {
      if (error instanceof RetryLaterError) {
        logger.info("Retrying later", { delaySeconds: error.delaySeconds, reason: error.message });
        await options.redelivery.delay(record, error.delaySeconds);
      } else if (isAppError(error) && error.retryable) {
        const attempt = receiveCount(record);
        const delaySeconds = fullJitterSeconds(attempt, TRANSIENT_BACKOFF, options.random);
        logger.warn(`${options.what} hit a transient error; retrying`, {
          code: error.code,
          error: error.message,
          receiveCount: attempt,
          delaySeconds,
        });
        await options.redelivery.delay(record, delaySeconds);
      } else if (isAppError(error) && error.status < 500) {
        logger.warn(`${options.what} rejected`, { error: error.message, code: error.code });
      } else {
        logger.error(`${options.what} failed`, error as Error);
      }
      throw error;
    } finally {
      logger.removeKeys(Object.keys(keys));
    }
  };
  return async (event, context) => {
    const response = await processPartialResponse(event, recordHandler, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
    return { batchItemFailures: response.batchItemFailures };
  };
}
