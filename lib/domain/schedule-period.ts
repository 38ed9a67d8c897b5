import { Cron } from "croner";
import { parseScheduleExpression } from "./schedule-expression.ts";

/**
 * Where the longest gap of a cron schedule is looked for. A fixed start keeps the result (and the
 * alarm thresholds derived from it) the same on every synth; a year and a day covers every
 * weekday, month length and daylight-saving change a cron expression can react to.
 */
const SAMPLE_START = new Date("2026-01-01T00:00:00Z");
const DAY_MS = 86_400_000;
const SAMPLE_DAYS = 366;
/** Enough fire times to see a weekend in a schedule that fires every minute on weekdays. */
const CRON_SAMPLE_MAX_RUNS = 20_000;

/** A time zone's offset from UTC at one instant, in milliseconds (`GMT+05:30` → 19,800,000). */
function utcOffsetMs(timeZone: string, at: Date): number {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(at)
    .find((part) => part.type === "timeZoneName")?.value;
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name ?? "");
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === "-" ? -1 : 1) * minutes * 60_000;
}

/** How far a zone's clocks move over the sample year (an hour where clocks change, else 0). */
function clockShiftMs(timeZone: string): number {
  const offsets = Array.from({ length: SAMPLE_DAYS }, (_, day) =>
    utcOffsetMs(timeZone, new Date(SAMPLE_START.getTime() + day * DAY_MS)),
  );
  return Math.max(...offsets) - Math.min(...offsets);
}

/**
 * The widest gap between two consecutive fire times of a croner pattern on the wall clock. Read
 * at a fixed UTC offset, which croner computes some twenty times faster than in a named zone.
 */
function longestWallClockGap(pattern: string): number | undefined {
  const cron = new Cron(pattern, { utcOffset: 0, paused: true });
  const end = SAMPLE_START.getTime() + SAMPLE_DAYS * DAY_MS;
  let previous = cron.nextRun(SAMPLE_START);
  let longest: number | undefined;
  for (let runs = 0; previous && runs < CRON_SAMPLE_MAX_RUNS; runs++) {
    const next = cron.nextRun(previous);
    if (!next) break;
    longest = Math.max(longest ?? 0, next.getTime() - previous.getTime());
    if (next.getTime() > end) break;
    previous = next;
  }
  return longest;
}

/**
 * The longest time between two consecutive fire times of a schedule, in milliseconds: a `rate`'s
 * own period; for a `cron`, its widest gap on the wall clock (a weekday schedule's weekend) plus
 * the hour its time zone's clocks go back, if they do, so the figure is never short; undefined for
 * a one-time `at(…)`. "Twice the schedule's period", the longest a simulation may go without a
 * completed checkpoint before an alarm goes off, is measured in it.
 */
export function longestScheduleInterval(expression: string, timeZone: string): number | undefined {
  const parsed = parseScheduleExpression(expression, { allowSeconds: true });
  if (parsed.kind === "rate") return parsed.periodMs;
  if (parsed.kind === "at") return undefined;
  const gap = longestWallClockGap(parsed.pattern);
  return gap === undefined ? undefined : gap + clockShiftMs(timeZone);
}
