import { Cron } from "croner";
import { ValidationError } from "../domain/errors.ts";

/** A schedule as the local runtime runs it: EventBridge Scheduler's expression and time zone. */
export interface LocalSchedule {
  name: string;
  expression: string;
  timeZone: string;
}

const UNIT_MS: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/**
 * The next fire times of an EventBridge Scheduler expression after `from`: `rate(N unit)`
 * (plus `second`/`seconds`, which only the local runtime accepts, for demos), `cron(min hour
 * day-of-month month day-of-week year)` in the schedule's time zone, and one-time `at(…)`.
 */
export function nextFireTime(
  schedule: LocalSchedule,
  from: Date,
  startedAt: Date,
): Date | undefined {
  const expression = schedule.expression.trim();
  const rate = /^rate\((\d+)\s+(second|minute|hour|day)s?\)$/.exec(expression);
  if (rate) {
    const period = Number(rate[1]) * (UNIT_MS[rate[2] as string] ?? 0);
    if (period <= 0) throw invalid(schedule, "a rate must be positive");
    const elapsed = from.getTime() - startedAt.getTime();
    return new Date(startedAt.getTime() + (Math.floor(elapsed / period) + 1) * period);
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (at) {
    const time = new Cron(at[1] as string, { timezone: schedule.timeZone, paused: true }).nextRun(
      from,
    );
    return time ?? undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron)
    return (
      new Cron(toCroner(schedule, cron[1] as string), {
        timezone: schedule.timeZone,
        paused: true,
      }).nextRun(from) ?? undefined
    );
  throw invalid(schedule, "must be rate(…), cron(…) or at(…)");
}

/** AWS cron has a year field, `?` for "any", and numbers days of the week 1 (SUN) to 7 (SAT). */
function toCroner(schedule: LocalSchedule, body: string): string {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw invalid(
      schedule,
      "cron needs 6 fields: minutes hours day-of-month month day-of-week year",
    );
  const [minutes, hours, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (year !== "*")
    throw invalid(schedule, "the local scheduler supports only * in the year field");
  const weekday = dow.replace(/\d+/g, (n) => String((Number(n) + 6) % 7));
  return ["0", minutes, hours, dom.replace("?", "*"), month, weekday.replace("?", "*")].join(" ");
}

const invalid = (schedule: LocalSchedule, rule: string) =>
  new ValidationError(
    `Invalid schedule ${schedule.name}: expression ${schedule.expression} ${rule}`,
    [{ path: `schedules.${schedule.name}.expression`, message: rule }],
  );

/**
 * Fires schedules on time in the local runtime, handing each tick the slot's scheduled time as
 * EventBridge Scheduler does with `<aws.scheduler.scheduled-time>`.
 */
export class LocalScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly fire: (schedule: LocalSchedule, scheduledTime: Date) => Promise<void>,
  ) {}

  start(schedules: LocalSchedule[], startedAt = new Date()): void {
    for (const schedule of schedules) this.arm(schedule, startedAt, startedAt);
  }

  private arm(schedule: LocalSchedule, from: Date, startedAt: Date): void {
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
