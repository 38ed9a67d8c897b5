import { describe, expect, it } from "vitest";
import { nextFireTime } from "../../../lib/local/scheduler.ts";

const at = (iso: string) => new Date(iso);
const schedule = (expression: string, timeZone = "UTC") => ({ name: "s", expression, timeZone });

describe("nextFireTime", () => {
  it("fires rates at whole periods after the start", () => {
    const start = at("2026-11-23T10:00:00Z");
    expect(nextFireTime(schedule("rate(10 seconds)"), start, start)).toEqual(
      at("2026-11-23T10:00:10Z"),
    );
    expect(nextFireTime(schedule("rate(10 seconds)"), at("2026-11-23T10:00:25Z"), start)).toEqual(
      at("2026-11-23T10:00:30Z"),
    );
    expect(nextFireTime(schedule("rate(1 hour)"), start, start)).toEqual(
      at("2026-11-23T11:00:00Z"),
    );
    expect(nextFireTime(schedule("rate(2 days)"), start, start)).toEqual(
      at("2026-11-25T10:00:00Z"),
    );
  });

  it("reads AWS cron: minutes hours day-of-month month day-of-week(1=SUN) year, in the time zone", () => {
    const from = at("2026-11-23T10:00:00Z"); // a Monday
    expect(nextFireTime(schedule("cron(0 12 * * ? *)"), from, from)).toEqual(
      at("2026-11-23T12:00:00Z"),
    );
    expect(nextFireTime(schedule("cron(30 9 ? * 1 *)"), from, from)).toEqual(
      at("2026-11-29T09:30:00Z"),
    );
    expect(nextFireTime(schedule("cron(0 8 ? * MON-FRI *)", "Europe/Berlin"), from, from)).toEqual(
      at("2026-11-24T07:00:00Z"),
    );
    expect(nextFireTime(schedule("cron(0/15 * * * ? *)"), from, from)).toEqual(
      at("2026-11-23T10:15:00Z"),
    );
  });

  it("numbers the nth and the last weekday the AWS way (1 = SUN), not croner's", () => {
    const from = at("2026-11-01T00:00:00Z"); // November 2026: Fridays are the 6th, 13th, 20th, 27th
    expect(nextFireTime(schedule("cron(0 9 ? * 6#3 *)"), from, from)).toEqual(
      at("2026-11-20T09:00:00Z"),
    );
    expect(nextFireTime(schedule("cron(0 9 ? * 6L *)"), from, from)).toEqual(
      at("2026-11-27T09:00:00Z"),
    );
    expect(nextFireTime(schedule("cron(0 9 L * ? *)"), from, from)).toEqual(
      at("2026-11-30T09:00:00Z"),
    );
  });

  it("fires at() once, in the time zone", () => {
    const from = at("2026-11-23T10:00:00Z");
    expect(
      nextFireTime(schedule("at(2026-12-01T09:00:00)", "America/New_York"), from, from),
    ).toEqual(at("2026-12-01T14:00:00Z"));
    expect(nextFireTime(schedule("at(2026-01-01T09:00:00)"), from, from)).toBeUndefined();
  });

  it.each(["every 5 minutes", "cron(0 12 * *)", "cron(0 12 * * ? 2027)", "rate(0 minutes)"])(
    "rejects %s with the rule",
    (expression) => {
      expect(() => nextFireTime(schedule(expression), new Date(), new Date())).toThrow(
        /Invalid schedule s: expression/,
      );
    },
  );
});
