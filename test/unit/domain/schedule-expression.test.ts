import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { parseScheduleExpression } from "../../../lib/domain/schedule-expression.ts";

const ruleOf = (expression: string, allowSeconds = false): string => {
  try {
    parseScheduleExpression(expression, { allowSeconds });
  } catch (error) {
    if (error instanceof ValidationError) return error.details[0]?.message ?? "";
    throw error;
  }
  throw new Error(`${expression} was accepted`);
};

describe("parseScheduleExpression", () => {
  it("reads rates with EventBridge Scheduler's singular and plural units", () => {
    expect(parseScheduleExpression("rate(1 minute)")).toEqual({
      kind: "rate",
      periodMs: 60_000,
      localOnly: false,
    });
    expect(parseScheduleExpression("rate(12 hours)")).toMatchObject({ periodMs: 43_200_000 });
    expect(parseScheduleExpression("rate(2 days)")).toMatchObject({ periodMs: 172_800_000 });
  });

  it("accepts seconds only where allowed, and marks them local-only", () => {
    expect(parseScheduleExpression("rate(10 seconds)", { allowSeconds: true })).toEqual({
      kind: "rate",
      periodMs: 10_000,
      localOnly: true,
    });
    expect(ruleOf("rate(10 seconds)")).toMatch(/only the local runtime runs.*localExpression/);
  });

  it("translates AWS cron to croner: a seconds field, ? as *, weekdays renumbered", () => {
    expect(parseScheduleExpression("cron(0 12 * * ? *)")).toEqual({
      kind: "cron",
      pattern: "0 0 12 * * *",
    });
    expect(parseScheduleExpression("cron(15 10 ? * 2-6 *)")).toEqual({
      kind: "cron",
      pattern: "0 15 10 * * 1-5",
    });
    expect(parseScheduleExpression("cron(0 8 ? * MON-FRI *)")).toMatchObject({
      pattern: "0 0 8 * * MON-FRI",
    });
    expect(parseScheduleExpression("cron(0 9 ? * 6#3 *)")).toMatchObject({
      pattern: "0 0 9 * * 5#3",
    });
  });

  it("reads at() as a wall-clock time", () => {
    expect(parseScheduleExpression("at(2026-12-01T09:00:00)")).toEqual({
      kind: "at",
      dateTime: "2026-12-01T09:00:00",
    });
  });

  it.each([
    ["every 5 minutes", "must be rate(…), cron(…) or at(…)"],
    ["rate(1 hours)", "must say rate(1 hour)"],
    ["rate(5 minute)", "must say rate(5 minutes)"],
    ["rate(0 minutes)", "must have a positive value"],
    ["rate(5 weeks)", "has a unit other than minutes, hours or days"],
    ["rate(five minutes)", "must be rate(value unit), e.g. rate(5 minutes)"],
    ["cron(0 12 * *)", "needs 6 fields: minutes hours day-of-month month day-of-week year"],
    ["cron(0 12 * * MON *)", "must have ? in exactly one of day-of-month and day-of-week"],
    ["cron(0 12 ? * ? *)", "must have ? in exactly one of day-of-month and day-of-week"],
    ["cron(0 12 * * ? 2027)", "must have * as its year; use at(…) for a one-time schedule"],
    ["cron(0 12 15W * ? *)", "uses the W (nearest weekday) wildcard, which simsnap cannot run"],
    ["at(2026-02-30T09:00:00)", "names a date or time that does not exist"],
    ["at(2026-12-01 09:00)", "must be at(yyyy-mm-ddThh:mm:ss)"],
  ])("refuses %s: %s", (expression, rule) => {
    expect(ruleOf(expression)).toBe(rule);
  });

  it("refuses a cron field croner cannot read, with croner's reason", () => {
    expect(ruleOf("cron(75 12 * * ? *)")).toMatch(/^is not a valid cron expression \(/);
  });
});
