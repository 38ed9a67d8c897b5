import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
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
  /**
   * Handles one message. `log` is the record's own logger, carrying its correlation keys: records
   * of a batch run in parallel, so every line of one record's work must be written through it.
   */
  handle: (message: z.output<S>, record: SQSRecord, log: Logger) => Promise<unknown>;
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
 * costs seconds, not the visibility timeout. Invalid messages fail, logged as rejected with a
 * message naming the field; like every failure they reach the dead-letter queue after the queue's
 * receive count, so nothing is silently lost. Each record logs through a child logger of its own,
 * which carries the invocation's Lambda context and the record's message id and correlation keys.
 * It is the base handler of a middy chain (`injectLambdaContext` before it gives the children
 * their context).
 */
export function sqsBatchHandler<S extends z.ZodType>(
  options: SqsBatchOptions<S>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<unknown> => {
    // A child per record: Powertools runs a batch's records concurrently, so keys appended to the
    // one shared logger would be overwritten by another record's, or removed under it.
    const log = logger.createChild();
    log.appendKeys({ messageId: record.messageId });
    try {
      const body = parseBody(record.body, options.what);
      const message = parseInput(options.schema, body, options.what);
      log.appendKeys({ ...options.correlate?.(message) });
      return await options.handle(message, record, log);
    } catch (error) {
      if (error instanceof RetryLaterError) {
        log.info("Retrying later", { delaySeconds: error.delaySeconds, reason: error.message });
        await options.redelivery.delay(record, error.delaySeconds);
      } else if (isAppError(error) && error.retryable) {
        const attempt = receiveCount(record);
        const delaySeconds = fullJitterSeconds(attempt, TRANSIENT_BACKOFF, options.random);
        log.warn(`${options.what} hit a transient error; retrying`, {
          code: error.code,
          error: error.message,
          receiveCount: attempt,
          delaySeconds,
        });
        await options.redelivery.delay(record, delaySeconds);
      } else if (isAppError(error) && error.status < 500) {
        log.warn(`${options.what} rejected`, { error: error.message, code: error.code });
      } else {
        log.error(`${options.what} failed`, error as Error);
      }
      throw error;
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
