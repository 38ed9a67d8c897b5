import { describe, expect, it } from "vitest";
import { longestScheduleInterval } from "../../../lib/domain/schedule-period.ts";

const HOUR = 3_600_000;

describe("longestScheduleInterval", () => {
  it("is a rate's own period", () => {
    expect(longestScheduleInterval("rate(6 hours)", "UTC")).toBe(6 * HOUR);
    expect(longestScheduleInterval("rate(1 day)", "Europe/Berlin")).toBe(24 * HOUR);
  });

  it("is a cron's widest gap: an hour, a day, a weekday schedule's weekend, a short month", () => {
    expect(longestScheduleInterval("cron(0 * * * ? *)", "UTC")).toBe(HOUR);
    expect(longestScheduleInterval("cron(0 3 * * ? *)", "UTC")).toBe(24 * HOUR);
    expect(longestScheduleInterval("cron(0 9 ? * MON-FRI *)", "UTC")).toBe(72 * HOUR);
    // The 31st of May, then of July: June has no 31st (nor does February, but Jan→Mar is 59 days).
    expect(longestScheduleInterval("cron(0 0 31 * ? *)", "UTC")).toBe(61 * 24 * HOUR);
  });

  it("adds the hour clocks go back in a zone with daylight saving time, none in one without", () => {
    expect(longestScheduleInterval("cron(30 2 * * ? *)", "Europe/Berlin")).toBe(25 * HOUR);
    expect(longestScheduleInterval("cron(30 2 * * ? *)", "Asia/Tokyo")).toBe(24 * HOUR);
  });

  it("has no period for a one-time schedule", () => {
    expect(longestScheduleInterval("at(2027-01-01T00:00:00)", "UTC")).toBeUndefined();
  });
});
