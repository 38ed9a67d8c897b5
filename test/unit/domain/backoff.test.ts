import { describe, expect, it } from "vitest";
import { nextPollDue, queueDelaySeconds } from "../../../lib/domain/backoff.ts";

describe("queueDelaySeconds", () => {
  const now = new Date("2026-12-01T10:00:00.000Z");
  const at = (ms: number) => new Date(now.getTime() + ms);

  it("rounds up to whole seconds, so a step never arrives before it is due", () => {
    expect(queueDelaySeconds(at(1_001), now)).toBe(2);
    expect(queueDelaySeconds(at(30_000), now)).toBe(30);
  });

  it("is 0 for a step already due", () => {
    expect(queueDelaySeconds(now, now)).toBe(0);
    expect(queueDelaySeconds(at(-5_000), now)).toBe(0);
  });

  it("is at most SQS's 900 s", () => {
    expect(queueDelaySeconds(at(900_000), now)).toBe(900);
    expect(queueDelaySeconds(at(3_600_000), now)).toBe(900);
  });
});

describe("nextPollDue", () => {
  const timing = { firstCheckSeconds: 5, maxCheckSeconds: 60 };
  const dueAt = "2026-12-01T10:00:00.000Z";

  it("counts the backoff from the poll's own due time, doubling per attempt up to the cap", () => {
    expect(nextPollDue(dueAt, 0, timing).toISOString()).toBe("2026-12-01T10:00:05.000Z");
    expect(nextPollDue(dueAt, 2, timing).toISOString()).toBe("2026-12-01T10:00:20.000Z");
    expect(nextPollDue(dueAt, 9, timing).toISOString()).toBe("2026-12-01T10:01:00.000Z");
  });

  it("never falls after the deadline, where the step must act on the job", () => {
    const deadline = Date.parse("2026-12-01T10:00:12.000Z");
    expect(nextPollDue(dueAt, 2, timing, deadline).toISOString()).toBe("2026-12-01T10:00:12.000Z");
    expect(nextPollDue(dueAt, 0, timing, deadline).toISOString()).toBe("2026-12-01T10:00:05.000Z");
  });
});
