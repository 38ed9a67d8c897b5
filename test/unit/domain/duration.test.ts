import { describe, expect, it } from "vitest";
import {
  canonicalTimeZone,
  formatDuration,
  isTimeZone,
  isZeroDuration,
  parseDuration,
  subtractDuration,
  wallClock,
} from "../../../lib/domain/duration.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";

const HOUR = 3_600_000;
const at = (iso: string): Date => new Date(iso);
const minus = (iso: string, duration: string, timeZone?: string): string =>
  subtractDuration(at(iso), parseDuration(duration), timeZone).toISOString();

describe("parseDuration (restic's TestParseDuration cases)", () => {
  it.each([
    ["9h", { years: 0, months: 0, days: 0, hours: 9 }, "9h"],
    ["3d", { years: 0, months: 0, days: 3, hours: 0 }, "3d"],
    ["4d2h", { years: 0, months: 0, days: 4, hours: 2 }, "4d2h"],
    ["7m5d", { years: 0, months: 7, days: 5, hours: 0 }, "7m5d"],
    ["6m4d8h", { years: 0, months: 6, days: 4, hours: 8 }, "6m4d8h"],
    ["5d7m", { years: 0, months: 7, days: 5, hours: 0 }, "7m5d"],
    ["4h3d9m", { years: 0, months: 9, days: 3, hours: 4 }, "9m3d4h"],
    ["1y2m3d4h", { years: 1, months: 2, days: 3, hours: 4 }, "1y2m3d4h"],
    ["  2d ", { years: 0, months: 0, days: 2, hours: 0 }, "2d"],
  ])("reads %j and spells it back canonically", (text, parts, canonical) => {
    const duration = parseDuration(text);
    expect(duration).toEqual(parts);
    expect(formatDuration(duration)).toBe(canonical);
  });

  it.each([
    ["2w", 'invalid unit "w" after number 2'],
    ["1y4m3w1d", 'invalid unit "w" after number 3'],
    ["s", 'expected a number at "s"'],
    ["\u07c0d", "expected a number"],
    ["5", "no unit found after number 5"],
    ["", "it is empty"],
    ["   ", "it is empty"],
    ["1d 2h", 'expected a number at " 2h"'],
  ])("rejects %j like restic does: %s", (text, why) => {
    expect(() => parseDuration(text)).toThrow(ValidationError);
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}: ${why}`);
  });

  it.each([
    ["-7m5d", "negative durations are not allowed"],
    ["1y-5d", "negative durations are not allowed"],
    ["1d2d", "unit d is given twice"],
    ["100001y", "100001y is too large"],
  ])("rejects %j, which restic accepts but no policy means: %s", (text, why) => {
    expect(() => parseDuration(text)).toThrow(why);
  });

  it("treats an all-zero duration as zero, which switches a rule off", () => {
    expect(isZeroDuration(parseDuration("0d"))).toBe(true);
    expect(isZeroDuration(parseDuration("0y0h"))).toBe(true);
    expect(isZeroDuration(parseDuration("1h"))).toBe(false);
    expect(formatDuration(parseDuration("0y1d"))).toBe("1d");
  });
});

describe("subtractDuration (restic's AddDate(-y, -m, -d).Add(-h))", () => {
  it.each([
    ["1d1h", 25],
    ["1h1d", 25],
    ["4h", 4],
    ["30d24h", 31 * 24],
    ["24h30d", 31 * 24],
    ["1m", 31 * 24],
    ["2m", (31 + 30) * 24],
    ["1y", 366 * 24],
  ])(
    "goes back %s from 2025-01-01 by %d hours (restic's TestDurationTimePattern)",
    (text, hours) => {
      const from = at("2025-01-01T00:00:00Z");
      expect(from.getTime() - subtractDuration(from, parseDuration(text)).getTime()).toBe(
        hours * HOUR,
      );
    },
  );

  it("normalizes month-end overflow like Go: 31 March minus one month is 3 March", () => {
    expect(minus("2021-03-31T12:00:00Z", "1m")).toBe("2021-03-03T12:00:00.000Z");
    expect(minus("2020-03-31T12:00:00Z", "1m")).toBe("2020-03-02T12:00:00.000Z");
    expect(minus("2021-05-31T08:00:00Z", "1m")).toBe("2021-05-01T08:00:00.000Z");
    expect(minus("2020-02-29T00:00:00Z", "1y")).toBe("2019-03-01T00:00:00.000Z");
    expect(minus("2021-01-31T00:00:00Z", "1y11m")).toBe("2019-03-03T00:00:00.000Z");
  });

  it("steps years, then months, then days in one go, then exact hours", () => {
    expect(minus("2016-01-18T12:02:03Z", "1y2m3d3h")).toBe("2014-11-15T09:02:03.000Z");
    expect(minus("2021-03-01T00:30:00Z", "1d1h")).toBe("2021-02-27T23:30:00.000Z");
  });

  it("steps days on the time zone's calendar, so 1d across a spring-forward is 23 hours", () => {
    expect(minus("2021-03-28T10:00:00Z", "1d", "Europe/Berlin")).toBe("2021-03-27T11:00:00.000Z");
    expect(minus("2021-03-28T10:00:00Z", "24h", "Europe/Berlin")).toBe("2021-03-27T10:00:00.000Z");
    expect(minus("2021-03-28T10:00:00Z", "1d")).toBe("2021-03-27T10:00:00.000Z");
  });

  it("makes 1d across a fall-back 25 hours", () => {
    expect(minus("2021-10-31T11:00:00Z", "1d", "Europe/Berlin")).toBe("2021-10-30T10:00:00.000Z");
    expect(minus("2021-11-07T17:00:00Z", "1d", "America/New_York")).toBe(
      "2021-11-06T16:00:00.000Z",
    );
  });

  it("resolves a wall time skipped by spring-forward like Go's time.Date (moved on by the gap)", () => {
    // 2021-03-29 02:30 CEST minus one day is 2021-03-28 02:30, which Berlin skipped.
    expect(minus("2021-03-29T00:30:00Z", "1d", "Europe/Berlin")).toBe("2021-03-28T01:30:00.000Z");
  });

  it("resolves a wall time repeated by fall-back like Go's time.Date (the later one)", () => {
    // 2021-11-01 02:30 CET minus one day is 2021-10-31 02:30, which Berlin saw twice.
    expect(minus("2021-11-01T01:30:00Z", "1d", "Europe/Berlin")).toBe("2021-10-31T01:30:00.000Z");
  });

  it("reaches far back without losing the time zone", () => {
    const result = subtractDuration(
      at("2016-01-18T12:02:03Z"),
      parseDuration("9999y"),
      "Europe/Berlin",
    );
    expect(wallClock(result, "Europe/Berlin")).toMatchObject({
      year: -7983,
      month: 1,
      day: 18,
      hour: 13,
    });
  });
});

describe("wallClock", () => {
  it("reads the clock of the time zone, including both runs of a repeated hour", () => {
    expect(wallClock(at("2021-10-31T00:30:00Z"), "Europe/Berlin")).toEqual({
      year: 2021,
      month: 10,
      day: 31,
      hour: 2,
      minute: 30,
      second: 0,
      millisecond: 0,
    });
    expect(wallClock(at("2021-10-31T01:30:00.250Z"), "Europe/Berlin")).toMatchObject({
      hour: 2,
      millisecond: 250,
    });
    expect(wallClock(at("2021-03-14T04:30:00Z"), "America/New_York")).toMatchObject({
      day: 13,
      hour: 23,
    });
    expect(wallClock(at("2021-03-14T04:30:00Z"), "UTC")).toMatchObject({ day: 14, hour: 4 });
  });
});

describe("time zone names", () => {
  it.each(["UTC", "Europe/Berlin", "america/new_york", "Asia/Kolkata", "Etc/GMT+5"])(
    "accepts %s",
    (name) => expect(isTimeZone(name)).toBe(true),
  );

  it.each(["", "Mars/Olympus_Mons", "+01:00", "-05:00", "CEST+2"])("refuses %j", (name) =>
    expect(isTimeZone(name)).toBe(false),
  );

  it("spells a zone the canonical way", () => {
    expect(canonicalTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("UTC")).toBe("UTC");
  });
});
