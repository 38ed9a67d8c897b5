import { describe, expect, it } from "vitest";
import { closestMatch } from "../../../lib/domain/suggest.ts";

const FIELDS = ["destination", "schedules", "retention", "archive", "providers", "local"];

describe("closestMatch", () => {
  it.each([
    ["schedule", "schedules"],
    ["Schedules", "schedules"],
    ["retnetion", "retention"],
    ["destinaton", "destination"],
    ["provider", "providers"],
  ])("takes %s for %s", (word, meant) => {
    expect(closestMatch(word, FIELDS)).toBe(meant);
  });

  it("prefers the nearest of several candidates", () => {
    expect(closestMatch("keepDayly", ["keepDaily", "keepHourly", "keepWithinDaily"])).toBe(
      "keepDaily",
    );
  });

  it("guesses nothing for a word unlike every candidate", () => {
    expect(closestMatch("region", FIELDS)).toBeUndefined();
    expect(closestMatch("x", FIELDS)).toBeUndefined();
    expect(closestMatch("anything", [])).toBeUndefined();
  });
});
