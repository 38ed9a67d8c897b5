import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InstantParser, wallClock, ZoneClock } from "../../../lib/domain/duration.ts";

/** Zones with the transitions that break shortcuts: 1 h, 30 min, negative DST, odd offsets. */
const ZONES = [
  "Europe/Berlin",
  "America/New_York",
  "Australia/Lord_Howe",
  "Europe/Dublin",
  "Asia/Kathmandu",
  "America/St_Johns",
  "Pacific/Apia",
  "Africa/Casablanca",
  "America/Santiago",
  "UTC",
];

/** Known transition instants (UTC) of those zones, and a spread of years around them. */
const TRANSITIONS = [
  "2025-03-30T01:00:00Z", // Europe/Berlin spring forward
  "2025-10-26T01:00:00Z", // Europe/Berlin fall back
  "2025-03-09T07:00:00Z", // America/New_York
  "2025-11-02T06:00:00Z",
  "2025-04-05T15:00:00Z", // Australia/Lord_Howe, 30 minutes
  "2025-10-04T15:30:00Z",
  "2011-12-30T10:00:00Z", // Pacific/Apia skipped a day
  "1986-01-01T00:00:00Z", // Asia/Kathmandu +05:30 → +05:45
  "2025-03-09T05:30:00Z", // America/St_Johns
].map((iso) => Date.parse(iso));

const HOUR = 3_600_000;
/** The wall clock `wallClock` reads (Intl, or Date's getters in UTC), as UTC milliseconds. */
const intlLocal = (millis: number, zone: string): number => {
  const c = wallClock(new Date(millis), zone);
  const utc = new Date(0);
  utc.setUTCFullYear(c.year, c.month - 1, c.day);
  utc.setUTCHours(c.hour, c.minute, c.second, c.millisecond);
  return utc.getTime();
};

describe("ZoneClock, the fast path retention reads clocks with", () => {
  it("reads the clock Intl reads, at random instants around DST transitions", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.constantFrom(...TRANSITIONS),
        fc.integer({ min: -36 * HOUR, max: 36 * HOUR }),
        fc.integer({ min: -3, max: 3 }),
        (zone, transition, delta, years) => {
          const clock = new ZoneClock(zone);
          const instant = transition + delta + years * 365 * 24 * HOUR;
          // Warm the caches with the neighbouring days first, as a plan's sorted walk does.
          clock.local(instant - 24 * HOUR);
          clock.local(instant + 24 * HOUR);
          expect(clock.local(instant)).toBe(intlLocal(instant, zone));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("agrees with Intl minute by minute across a whole transition day in every zone", () => {
    for (const zone of ZONES) {
      const clock = new ZoneClock(zone);
      for (const transition of TRANSITIONS) {
        for (let t = transition - 12 * HOUR; t <= transition + 12 * HOUR; t += 60_000) {
          if (clock.local(t) !== intlLocal(t, zone)) {
            throw new Error(`${zone} at ${new Date(t).toISOString()}`);
          }
        }
      }
    }
  });

  it("reads UTC without any offset", () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (millis) => {
        expect(new ZoneClock("UTC").local(millis)).toBe(intlLocal(millis, "UTC"));
      }),
    );
  });
});

describe("InstantParser, the fast path retention parses createdAt with", () => {
  const digits = (length: number) =>
    fc
      .array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length })
      .map((d) => d.join(""));
  /** Strings of the catalog's form with any digits (so out-of-range fields too), and near misses. */
  const text = fc.oneof(
    fc
      .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3))
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`),
    fc.integer({ min: -8.64e15, max: 8.64e15 }).map((millis) => new Date(millis).toISOString()),
    fc.constantFrom(
      "2025-02-31T00:00:00.000Z",
      "2025-01-01T24:00:00.000Z",
      "2025-01-01T00:00:00.000+01:00",
      "2025-01-01T00:00:00Z",
      "2025-01-01",
      "2025-1a-01T00:00:00.000Z",
      "yesterday",
    ),
  );

  it("gives Date.parse's answer for every text, NaN included", () => {
    const parser = new InstantParser();
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (texts) => {
        for (const t of texts) expect(parser.parse(t)).toBe(Date.parse(t));
      }),
      { numRuns: 2000 },
    );
  });
});
