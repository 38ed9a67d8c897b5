import { afterEach, describe, expect, it, vi } from "vitest";
import { LocalScheduler, nextFireTime, type TickFailure } from "../../../lib/local/scheduler.ts";
import { SCHEDULE_RETRY } from "../../../lib/topology.ts";

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

describe("LocalScheduler, a tick whose target throws", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** One `at()` tick at 10:00:10, with a target that fails its first `failures` tries. */
  function oneTick(failures: number) {
    vi.useFakeTimers({ now: at("2026-12-01T10:00:00Z") });
    const tries: { scheduledTime: string; at: string }[] = [];
    const failed: TickFailure[] = [];
    const scheduler = new LocalScheduler(
      async (_schedule, scheduledTime) => {
        tries.push({ scheduledTime: scheduledTime.toISOString(), at: new Date().toISOString() });
        if (tries.length <= failures) throw new Error(`try ${tries.length} failed`);
      },
      { onError: (_error, failure) => failed.push(failure) },
    );
    scheduler.start([schedule("at(2026-12-01T10:00:10)")]);
    return { scheduler, tries, failed };
  }

  it("is tried again as Lambda retries a failed asynchronous invocation, with the same slot", async () => {
    const { scheduler, tries, failed } = oneTick(1);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(tries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(tries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(600_000);
    scheduler.stop();

    expect(tries).toEqual([
      { scheduledTime: "2026-12-01T10:00:10.000Z", at: "2026-12-01T10:00:10.000Z" },
      { scheduledTime: "2026-12-01T10:00:10.000Z", at: "2026-12-01T10:01:10.000Z" },
    ]);
    expect(failed.map((f) => [f.attempt, f.retryInSeconds])).toEqual([[1, 60]]);
  });

  it("is given up after Lambda's two retries, one and then two minutes apart", async () => {
    const { scheduler, tries, failed } = oneTick(Number.POSITIVE_INFINITY);

    await vi.advanceTimersByTimeAsync(3_600_000);
    scheduler.stop();

    expect(tries.map((t) => t.at)).toEqual([
      "2026-12-01T10:00:10.000Z",
      "2026-12-01T10:01:10.000Z",
      "2026-12-01T10:03:10.000Z",
    ]);
    expect(failed.map((f) => [f.attempt, f.retryInSeconds])).toEqual([
      [1, 60],
      [2, 120],
      [3, undefined],
    ]);
    expect(SCHEDULE_RETRY.invocation).toMatchObject({ retryAttempts: 2 });
  });

  it("drops the pending retry when stopped", async () => {
    const { scheduler, tries } = oneTick(1);

    await vi.advanceTimersByTimeAsync(10_000);
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(600_000);

    expect(tries).toHaveLength(1);
  });
});
