import { Cron } from "croner";
import { ValidationError } from "../domain/errors.ts";
import { parseScheduleExpression } from "../domain/schedule-expression.ts";
import { SCHEDULE_RETRY } from "../topology.ts";

/** A schedule as the local runtime runs it: EventBridge Scheduler's expression and time zone. */
export interface LocalSchedule {
  name: string;
  expression: string;
  timeZone: string;
}

/**
 * The next fire times of an EventBridge Scheduler expression after `from`: `rate(N unit)`
 * (plus `second`/`seconds`, which only the local runtime accepts, for demos), `cron(min hour
 * day-of-month month day-of-week year)` in the schedule's time zone, and one-time `at(…)`. The
 * expression is read by `parseScheduleExpression`, the same reader the config file is checked
 * with, and croner computes the cron and `at` times.
 */
export function nextFireTime(
  schedule: LocalSchedule,
  from: Date,
  startedAt: Date,
): Date | undefined {
  let parsed;
  try {
    parsed = parseScheduleExpression(schedule.expression, { allowSeconds: true });
  } catch (error) {
    const rule = (error as ValidationError).details?.[0]?.message ?? (error as Error).message;
    throw new ValidationError(
      `Invalid schedule ${schedule.name}: expression ${schedule.expression} ${rule}`,
      [{ path: `schedules.${schedule.name}.expression`, message: rule }],
      { cause: error },
    );
  }
  if (parsed.kind === "rate") {
    const elapsed = from.getTime() - startedAt.getTime();
    return new Date(
      startedAt.getTime() + (Math.floor(elapsed / parsed.periodMs) + 1) * parsed.periodMs,
    );
  }
  const pattern = parsed.kind === "cron" ? parsed.pattern : parsed.dateTime;
  return (
    new Cron(pattern, { timezone: schedule.timeZone, paused: true }).nextRun(from) ?? undefined
  );
}

/** How a tick whose target threw is tried again: Lambda's asynchronous invocation retries. */
export interface TickRetryPolicy {
  retryAttempts: number;
  maxEventAgeSeconds: number;
  /** The wait before each retry, in order; at least `retryAttempts` of them. */
  retryDelaysSeconds: readonly number[];
}

/** One failed try of a tick, as `onError` is told of it. */
export interface TickFailure<S extends LocalSchedule = LocalSchedule> {
  schedule: S;
  scheduledTime: Date;
  /** 1 for the first try. */
  attempt: number;
  /** When the tick is tried again; undefined when this was its last try. */
  retryInSeconds?: number;
}

/** What a local scheduler does beyond firing: how it retries, and whom it tells of failures. */
export interface LocalSchedulerOptions<S extends LocalSchedule = LocalSchedule> {
  /** Defaults to `SCHEDULE_RETRY.invocation`, what AWS does with a scheduled Lambda that throws. */
  retry?: TickRetryPolicy;
  onError?: (error: unknown, failure: TickFailure<S>) => void;
}

/**
 * Fires schedules on time in the local runtime, handing each tick the slot's scheduled time as
 * EventBridge Scheduler does with `<aws.scheduler.scheduled-time>`. Generic over the schedule, so
 * the runtime gets back the very spec (target, input) it armed. A tick whose target throws is
 * tried again as in AWS, where Scheduler invokes the function asynchronously and Lambda retries
 * a failed invocation (`SCHEDULE_RETRY.invocation`: one minute, then two minutes later, at full
 * length, not compressed), with the same scheduled time; Scheduler's own delivery retries have no
 * local counterpart, since handing the tick to an in-process function cannot fail.
 */
export class LocalScheduler<S extends LocalSchedule = LocalSchedule> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly retry: TickRetryPolicy;

  constructor(
    private readonly fire: (schedule: S, scheduledTime: Date) => Promise<void>,
    private readonly options: LocalSchedulerOptions<S> = {},
  ) {
    this.retry = options.retry ?? SCHEDULE_RETRY.invocation;
  }

  start(schedules: readonly S[], startedAt = new Date()): void {
    for (const schedule of schedules) this.arm(schedule, startedAt, startedAt);
  }

  private arm(schedule: S, from: Date, startedAt: Date): void {
    if (this.stopped) return;
    const next = nextFireTime(schedule, from, startedAt);
    if (!next) return;
    this.after(next.getTime() - Date.now(), () => {
      this.invoke(schedule, next, 1);
      this.arm(schedule, next, startedAt);
    });
  }

  private invoke(schedule: S, scheduledTime: Date, attempt: number): void {
    if (this.stopped) return;
    void Promise.resolve()
      .then(() => this.fire(schedule, scheduledTime))
      .catch((error: unknown) => {
        const delay =
          attempt <= this.retry.retryAttempts
            ? this.retry.retryDelaysSeconds[attempt - 1]
            : undefined;
        const age = Date.now() + (delay ?? 0) * 1000 - scheduledTime.getTime();
        const retryInSeconds =
          delay !== undefined && age <= this.retry.maxEventAgeSeconds * 1000 && !this.stopped
            ? delay
            : undefined;
        this.options.onError?.(error, { schedule, scheduledTime, attempt, retryInSeconds });
        if (retryInSeconds !== undefined) {
          this.after(retryInSeconds * 1000, () =>
            this.invoke(schedule, scheduledTime, attempt + 1),
          );
        }
      });
  }

  private after(ms: number, run: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        run();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
