import { fullJitterSeconds } from "../domain/backoff.ts";
import { isAppError } from "../domain/errors.ts";
import { logger } from "../observability/logger.ts";

/** How a directly invoked function retries a transient error before giving up. */
export interface TransientRetryOptions {
  /** Names the work in the log line of each retry. */
  what: string;
  /** Tries in all, the first included. */
  attempts: number;
  backoff: { baseSeconds: number; maxSeconds: number };
  /** Waits this long; a real timer unless a test records the waits instead. */
  sleep?: (seconds: number) => Promise<void>;
  random?: () => number;
}

/**
 * A scheduled function's tries: three, a full-jitter 1–4 s apart, well inside plan-snapshots'
 * 60 s timeout. Lambda's own retry of a failed asynchronous invocation waits a minute (then two),
 * which would make one throttled ListSimulations cost the tick a minute.
 */
export const SCHEDULED_RETRY = {
  attempts: 3,
  backoff: { baseSeconds: 1, maxSeconds: 4 },
} as const;

const sleepSeconds = (seconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Runs `work` again after a short jittered wait when it fails with a retryable error (a
 * provider's 5xx, throttle or network failure, a lost conditional write), for functions no queue
 * redelivers: a schedule's target is invoked once, and a transient fault would otherwise cost the
 * whole tick until Lambda's retry a minute later. Only idempotent work may be wrapped (plan-snapshots
 * is: its request ids are the schedule slot's). Any other error, and the last attempt's, is thrown.
 */
export async function retryTransient<T>(
  work: () => Promise<T>,
  options: TransientRetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? sleepSeconds;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isAppError(error) || !error.retryable || attempt >= options.attempts) throw error;
      const delaySeconds = fullJitterSeconds(attempt, options.backoff, options.random);
      logger.warn(`${options.what} hit a transient error; retrying`, {
        code: error.code,
        error: error.message,
        attempt,
        delaySeconds,
      });
      await sleep(delaySeconds);
    }
  }
}
