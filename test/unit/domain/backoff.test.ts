import { describe, expect, it } from "vitest";
import { queueDelaySeconds } from "../../../lib/domain/backoff.ts";

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
