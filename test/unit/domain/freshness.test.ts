import { describe, expect, it } from "vitest";
import {
  checkpointAgeSeconds,
  freshnessVerdict,
  freshnessWatches,
} from "../../../lib/domain/freshness.ts";
import { SNAPSHOT_SCHEDULE_TARGET, snapshotSchedules, topology } from "../../../lib/topology.ts";

const now = new Date("2026-12-01T12:00:00Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

describe("freshnessWatches", () => {
  it("watches the enabled snapshot schedules with a period, at twice their longest interval", () => {
    const schedules = [
      ...topology.schedules,
      ...snapshotSchedules(
        [
          {
            name: "weekdays",
            expression: "cron(0 9 ? * MON-FRI *)",
            timeZone: "UTC",
            selector: { names: ["ocean-*"] },
            action: "snapshot",
            enabled: true,
          },
          {
            name: "off",
            expression: "rate(1 hour)",
            timeZone: "UTC",
            selector: {},
            action: "snapshot",
            enabled: false,
          },
          {
            name: "once",
            expression: "at(2027-01-01T00:00:00)",
            timeZone: "UTC",
            selector: {},
            action: "snapshot",
            enabled: true,
          },
        ],
        "aws",
      ),
    ];
    expect(freshnessWatches(schedules, SNAPSHOT_SCHEDULE_TARGET)).toEqual([
      // The weekend is the longest gap: 72 h, so late after 144 h.
      { schedule: "weekdays", lateAfterSeconds: 144 * 3600, selector: { names: ["ocean-*"] } },
    ]);
  });
});

describe("checkpointAgeSeconds", () => {
  it("counts from the newest completed checkpoint, DELETED ones included", () => {
    expect(
      checkpointAgeSeconds(
        [
          { createdAt: ago(50), state: "FAILED" },
          { createdAt: ago(300), state: "DELETED" },
          { createdAt: ago(900), state: "COMPLETE" },
        ],
        now,
      ),
    ).toBe(300);
  });

  it("counts from the first checkpoint asked for when none completed, and is 0 without any", () => {
    expect(
      checkpointAgeSeconds(
        [
          { createdAt: ago(60), state: "PENDING" },
          { createdAt: ago(600), state: "FAILED" },
        ],
        now,
      ),
    ).toBe(600);
    expect(checkpointAgeSeconds([], now)).toBe(0);
  });
});

describe("freshnessVerdict", () => {
  const watches = [
    { schedule: "daily", lateAfterSeconds: 172_800 },
    { schedule: "hourly-air", lateAfterSeconds: 7200, selector: { providers: ["air" as const] } },
  ];
  const running = { name: "lab", provider: "air", running: true };

  it("takes the strictest schedule that selects the simulation", () => {
    expect(freshnessVerdict(running, 7201, watches)).toEqual({
      ageSeconds: 7201,
      schedule: "hourly-air",
      lateAfterSeconds: 7200,
      late: true,
    });
    expect(freshnessVerdict({ ...running, provider: "simspaceweaver" }, 7201, watches)).toEqual({
      ageSeconds: 7201,
      schedule: "daily",
      lateAfterSeconds: 172_800,
      late: false,
    });
  });

  it("is fresh at the threshold itself, as the alarm fires only above it", () => {
    expect(freshnessVerdict(running, 7200, watches).late).toBe(false);
  });
});
