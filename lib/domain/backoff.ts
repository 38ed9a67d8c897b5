/**
 * Exponential backoff without jitter: deterministic on purpose, so that two deliveries of the same
 * message compute the same next due time and collapse into one chain of checks.
 */
export function backoffSeconds(
  attempt: number,
  options: { baseSeconds: number; maxSeconds: number; factor?: number },
): number {
  const factor = options.factor ?? 2;
  const raw = options.baseSeconds * factor ** Math.max(0, attempt);
  return Math.min(options.maxSeconds, Math.max(0, Math.round(raw)));
}

/**
 * "Full jitter" exponential backoff (a random wait between 0 and the capped exponential window),
 * for retrying a transient failure such as a provider's 500 or throttle: spreading the retries of
 * many callers over the window is what keeps them from hitting a throttled service in lockstep.
 * `attempt` counts from 1 (the first failure); the wait is whole seconds, at least 1, because SQS
 * visibility timeouts are whole seconds and a zero wait would redeliver into the same fault at once.
 * `random` is injected (a value in [0, 1)) so that callers and tests decide where randomness comes from.
 */
export function fullJitterSeconds(
  attempt: number,
  options: { baseSeconds: number; maxSeconds: number },
  random: () => number = Math.random,
): number {
  const window = Math.min(
    options.maxSeconds,
    options.baseSeconds * 2 ** Math.max(0, Math.floor(attempt) - 1),
  );
  return Math.max(1, Math.ceil(random() * window));
}

/**
 * When a job's next poll is due: its backoff (`attempt`, from the poll timing) counted from this
 * poll's own due time, not from `now`, so two deliveries of one poll schedule the same next one;
 * and never after `deadline` (epoch ms), where the step must come back to act on the job. One rule
 * for every use case that polls a job through a delayed queue.
 */
export function nextPollDue(
  dueAt: string,
  attempt: number,
  timing: { firstCheckSeconds: number; maxCheckSeconds: number },
  deadline = Number.POSITIVE_INFINITY,
): Date {
  const delay = backoffSeconds(attempt, {
    baseSeconds: timing.firstCheckSeconds,
    maxSeconds: timing.maxCheckSeconds,
  });
  return new Date(Math.min(Date.parse(dueAt) + delay * 1000, deadline));
}

/** SQS's longest delivery delay. */
const MAX_QUEUE_DELAY_SECONDS = 900;

/**
 * The delivery delay of a step due at `due`: whole seconds from `now` (rounded up, so the step
 * never arrives before it is due), none for a step already due, and at most SQS's 900 s (a step
 * due later arrives early). One rule for every use case that polls through a delayed queue.
 */
export function queueDelaySeconds(due: Date, now: Date): number {
  const seconds = Math.ceil((due.getTime() - now.getTime()) / 1000);
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, seconds));
}
