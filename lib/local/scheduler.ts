import { Cron } from "croner";
import { ValidationError } from "../domain/errors.ts";
import { parseScheduleExpression } from "../domain/schedule-expression.ts";

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

/**
 * Fires schedules on time in the local runtime, handing each tick the slot's scheduled time as
 * EventBridge Scheduler does with `<aws.scheduler.scheduled-time>`. Generic over the schedule, so
 * the runtime gets back the very spec (target, input) it armed.
 */
export class LocalScheduler<S extends LocalSchedule = LocalSchedule> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly fire: (schedule: S, scheduledTime: Date) => Promise<void>) {}

  start(schedules: readonly S[], startedAt = new Date()): void {
    for (const schedule of schedules) this.arm(schedule, startedAt, startedAt);
  }

  private arm(schedule: S, from: Date, startedAt: Date): void {
    if (this.stopped) return;
    const next = nextFireTime(schedule, from, startedAt);
    if (!next) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        void this.fire(schedule, next);
        this.arm(schedule, next, startedAt);
      },
      Math.max(0, next.getTime() - Date.now()),
    );
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
