import { ValidationError } from "./errors.ts";

/**
 * A calendar duration in restic's `forget` syntax (`1y2m3d4h`). Years, months and days are
 * calendar steps, not fixed lengths, which is why a duration is kept as its four parts and only
 * turned into an instant against a reference time and a time zone.
 */
export interface CalendarDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

/** The largest value one part may have; keeps every subtraction inside JavaScript's date range. */
const MAX_DURATION_PART = 100_000;

const UNITS = { y: "years", m: "months", d: "days", h: "hours" } as const;
type Unit = keyof typeof UNITS;
const isUnit = (c: string): c is Unit => Object.hasOwn(UNITS, c);

/**
 * Reads restic's duration syntax: numbers each followed by a unit `y` (years), `m` (months),
 * `d` (days) or `h` (hours), in any order, surrounding whitespace ignored. Rejects what restic
 * rejects (a missing number or unit, any other unit such as `w`), and also negative parts and a
 * unit given twice, which restic would accept but which can only be typing mistakes in a policy.
 */
export function parseDuration(text: string): CalendarDuration {
  function fail(why: string): never {
    throw new ValidationError(`invalid duration ${JSON.stringify(text)}: ${why}`, [
      { path: "(root)", message: why },
    ]);
  }
  const source = text.trim();
  if (source === "") fail("it is empty; write e.g. 1y2m3d4h");
  const parts = { years: 0, months: 0, days: 0, hours: 0 };
  const seen = new Set<Unit>();
  let rest = source;
  while (rest !== "") {
    if (rest.startsWith("-")) fail("negative durations are not allowed");
    const digits = /^[0-9]+/.exec(rest)?.[0];
    if (digits === undefined) fail(`expected a number at ${JSON.stringify(rest)}`);
    const unit = rest.charAt(digits.length);
    if (unit === "") fail(`no unit found after number ${digits}; use y, m, d or h`);
    if (!isUnit(unit)) {
      fail(`invalid unit ${JSON.stringify(unit)} after number ${digits}; use y, m, d or h`);
    }
    if (seen.has(unit)) fail(`unit ${unit} is given twice`);
    seen.add(unit);
    const value = Number(digits);
    if (value > MAX_DURATION_PART)
      fail(`${digits}${unit} is too large (at most ${MAX_DURATION_PART})`);
    parts[UNITS[unit]] = value;
    rest = rest.slice(digits.length + 1);
  }
  return parts;
}

/** restic's canonical spelling (`1y2m3d4h`, zero parts left out); it is the text of keep reasons. */
export function formatDuration(duration: CalendarDuration): string {
  const { years, months, days, hours } = duration;
  return (
    (years !== 0 ? `${years}y` : "") +
    (months !== 0 ? `${months}m` : "") +
    (days !== 0 ? `${days}d` : "") +
    (hours !== 0 ? `${hours}h` : "")
  );
}

/** A zero duration switches its rule off, as in restic. */
export const isZeroDuration = (duration: CalendarDuration): boolean =>
  duration.years === 0 && duration.months === 0 && duration.days === 0 && duration.hours === 0;

/** The calendar fields of an instant as read on a clock in some time zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * True for a time zone name the runtime's tz database knows (IANA names and their aliases such as
 * `UTC`); fixed offsets like `+01:00` are refused because they carry no daylight-saving rules.
 */
export function isTimeZone(name: string): boolean {
  if (name.trim() === "" || /^[+-]/.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/** The runtime's canonical spelling of a valid time zone (`europe/berlin` → `Europe/Berlin`). */
export const canonicalTimeZone = (name: string): string =>
  formatterFor(name).resolvedOptions().timeZone;

const isUtc = (timeZone: string): boolean => timeZone === "UTC" || timeZone === "Etc/UTC";

/** Milliseconds since the epoch of a UTC wall clock, with JavaScript's (and Go's) normalization. */
function utcMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millisecond);
  return date.getTime();
}

const floorMod = (a: number, n: number): number => ((a % n) + n) % n;

/**
 * What a clock in `timeZone` shows at `instant`. Retention periods (hour, day, ISO week, month,
 * year) are cut on this clock, as restic cuts them on the snapshot's own clock.
 */
export function wallClock(instant: Date, timeZone: string): WallClock {
  if (isUtc(timeZone)) {
    return {
      year: instant.getUTCFullYear(),
      month: instant.getUTCMonth() + 1,
      day: instant.getUTCDate(),
      hour: instant.getUTCHours(),
      minute: instant.getUTCMinutes(),
      second: instant.getUTCSeconds(),
      millisecond: instant.getUTCMilliseconds(),
    };
  }
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) fields[part.type] = part.value;
  const yearOfEra = Number(fields.year);
  const bc = fields.era === "BC" || fields.era === "B";
  return {
    year: bc ? 1 - yearOfEra : yearOfEra,
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    millisecond: floorMod(instant.getTime(), 1000),
  };
}

/** Offset of `timeZone` from UTC at `millis`, in milliseconds. */
function offsetAt(millis: number, timeZone: string): number {
  const c = wallClock(new Date(millis), timeZone);
  return utcMillis(c.year, c.month, c.day, c.hour, c.minute, c.second, c.millisecond) - millis;
}

/**
 * The instant a wall clock in `timeZone` names, resolved like Go's `time.Date`: the offset found
 * at the wall time read as UTC is used, unless the instant it gives lies in another offset period,
 * whose offset is then used. A time skipped by a spring-forward thus moves forward by the gap and
 * a repeated fall-back time takes its later occurrence.
 */
function fromWallClock(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number {
  const asUtc = utcMillis(year, month, day, hour, minute, second, millisecond);
  if (isUtc(timeZone)) return asUtc;
  const guess = offsetAt(asUtc, timeZone);
  return asUtc - offsetAt(asUtc - guess, timeZone);
}

const HOUR_MS = 3_600_000;

/**
 * The instant `duration` before `from`, as restic computes a `--keep-within` cutoff:
 * `from.AddDate(-years, -months, -days).Add(-hours)`. Years, months and days step the calendar
 * in `timeZone` and overflow normalizes like Go's `AddDate` (31 March minus one month is 3 March,
 * or 2 March in a leap year); hours are exact hours, so across a daylight-saving change `1d` and
 * `24h` differ.
 */
export function subtractDuration(from: Date, duration: CalendarDuration, timeZone = "UTC"): Date {
  const c = wallClock(from, timeZone);
  const shifted = fromWallClock(
    timeZone,
    c.year - duration.years,
    c.month - duration.months,
    c.day - duration.days,
    c.hour,
    c.minute,
    c.second,
    c.millisecond,
  );
  return new Date(shifted - duration.hours * HOUR_MS);
}
