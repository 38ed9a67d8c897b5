import { Cron } from "croner";
import { ValidationError } from "./errors.ts";

/**
 * A schedule expression in EventBridge Scheduler's syntax, read once so that the config file, the
 * CDK stack and the local scheduler agree on what it means. `rate` keeps its period, `cron` its
 * translation to croner's six-field pattern (croner runs it locally), `at` its wall-clock time.
 */
export type ScheduleExpression =
  | { kind: "rate"; periodMs: number; localOnly: boolean }
  | { kind: "cron"; pattern: string }
  | { kind: "at"; dateTime: string };

const RATE_UNITS = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
type RateUnit = keyof typeof RATE_UNITS;
const isRateUnit = (unit: string): unit is RateUnit => Object.hasOwn(RATE_UNITS, unit);

/** What `parseScheduleExpression` accepts beyond EventBridge Scheduler's own syntax. */
export interface ScheduleExpressionOptions {
  /** `rate(N seconds)`: only the local runtime can run it (Scheduler's smallest rate is 1 minute). */
  allowSeconds?: boolean;
}

function invalid(expression: string, rule: string): ValidationError {
  return new ValidationError(`schedule expression ${JSON.stringify(expression)} ${rule}`, [
    { path: "(root)", message: rule },
  ]);
}

/**
 * Reads `rate(value unit)`, `cron(minutes hours day-of-month month day-of-week year)` or
 * `at(yyyy-mm-ddThh:mm:ss)` as EventBridge Scheduler does, and refuses, with the rule that was
 * broken, what Scheduler would refuse (a plural `rate(1 hours)`, a cron giving both day fields,
 * an impossible date) and what simsnap cannot run the same way on both sides (seconds unless
 * allowed, a year other than `*`, the `W` wildcard, which croner lacks).
 */
export function parseScheduleExpression(
  text: string,
  options: ScheduleExpressionOptions = {},
): ScheduleExpression {
  const expression = text.trim();
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) return parseRate(expression, rate[1] ?? "", options);
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return { kind: "cron", pattern: toCronerPattern(expression, cron[1] ?? "") };
  const at = /^at\((.*)\)$/.exec(expression);
  if (at) return { kind: "at", dateTime: parseAt(expression, at[1] ?? "") };
  throw invalid(expression, "must be rate(…), cron(…) or at(…)");
}

function parseRate(
  expression: string,
  body: string,
  options: ScheduleExpressionOptions,
): ScheduleExpression {
  const match = /^(\d+) ([a-z]+)$/.exec(body.trim());
  if (!match) throw invalid(expression, "must be rate(value unit), e.g. rate(5 minutes)");
  const value = Number(match[1]);
  const word = match[2] ?? "";
  const unit = word.endsWith("s") ? word.slice(0, -1) : word;
  if (!isRateUnit(unit)) throw invalid(expression, "has a unit other than minutes, hours or days");
  if (value < 1) throw invalid(expression, "must have a positive value");
  if (value === 1 && word !== unit) throw invalid(expression, `must say rate(1 ${unit})`);
  if (value > 1 && word === unit) throw invalid(expression, `must say rate(${value} ${unit}s)`);
  const localOnly = unit === "second";
  if (localOnly && !options.allowSeconds) {
    throw invalid(
      expression,
      "is in seconds, which only the local runtime runs (EventBridge Scheduler's smallest rate is 1 minute); put it in localExpression",
    );
  }
  return { kind: "rate", periodMs: value * RATE_UNITS[unit], localOnly };
}

/** `L` alone in AWS's day-of-week field is its last day, Saturday. */
const AWS_LAST_WEEKDAY = "7";

/** AWS numbers weekdays 1 (SUN) to 7 (SAT); croner 0 (SUN) to 6 (SAT). Names pass unchanged. */
const weekday = (value: string): string =>
  /^\d+$/.test(value) ? String((Number(value) + 6) % 7) : value;

/** One comma-separated item of AWS's day-of-week field, in croner's numbering. */
function translateWeekdayItem(expression: string, item: string): string {
  const last = /^(\w+)L$/.exec(item);
  if (last) return `${weekday(last[1] ?? "")}#L`;
  if (item === "L") return weekday(AWS_LAST_WEEKDAY);
  const nth = /^(\w+)#(\d)$/.exec(item);
  if (nth) return `${weekday(nth[1] ?? "")}#${nth[2]}`;
  const [range = "", step] = item.split("/");
  const bounds = range === "*" ? "*" : range.split("-").map(weekday).join("-");
  if (bounds === "" || item.split("/").length > 2) {
    throw invalid(expression, `has an invalid day-of-week item ${JSON.stringify(item)}`);
  }
  return step === undefined ? bounds : `${bounds}/${step}`;
}

function toCronerPattern(expression: string, body: string): string {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw invalid(expression, "needs 6 fields: minutes hours day-of-month month day-of-week year");
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === "?") === (dayOfWeek === "?")) {
    throw invalid(expression, "must have ? in exactly one of day-of-month and day-of-week");
  }
  if (year !== "*") {
    throw invalid(expression, "must have * as its year; use at(…) for a one-time schedule");
  }
  if (dayOfMonth.includes("W")) {
    throw invalid(expression, "uses the W (nearest weekday) wildcard, which simsnap cannot run");
  }
  const weekdays =
    dayOfWeek === "?"
      ? "*"
      : dayOfWeek
          .split(",")
          .map((item) => translateWeekdayItem(expression, item))
          .join(",");
  const pattern = ["0", minutes, hours, dayOfMonth === "?" ? "*" : dayOfMonth, month, weekdays];
  const croner = pattern.join(" ");
  try {
    new Cron(croner, { paused: true, legacyMode: true });
  } catch (error) {
    throw invalid(expression, `is not a valid cron expression (${(error as Error).message})`);
  }
  return croner;
}

function parseAt(expression: string, body: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!match) throw invalid(expression, "must be at(yyyy-mm-ddThh:mm:ss)");
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  if (!real) throw invalid(expression, "names a date or time that does not exist");
  return body.trim();
}
