import { describe, expect, it } from "vitest";
import {
  fullDomain,
  layoutTimeline,
  nearest,
  timesOf,
  type TimelineItem,
} from "../../../console/src/timeline-layout.ts";

const HOUR = 3_600_000;
const START = Date.parse("2026-01-01T00:00:00Z");

function hourly(count: number, overrides: (i: number) => Partial<TimelineItem> = () => ({})) {
  return Array.from({ length: count }, (_, i): TimelineItem => ({
    id: `cp-${i}`,
    createdAt: new Date(START + i * HOUR).toISOString(),
    state: "COMPLETE",
    favorite: false,
    archived: false,
    verified: false,
    ...overrides(i),
  }));
}

describe("layoutTimeline", () => {
  it("gives each checkpoint its own mark while they are far apart", () => {
    const items = hourly(5);
    const times = timesOf(items);
    const layout = layoutTimeline(items, times, fullDomain(times, START), 800);
    expect(layout.marks.map((m) => [m.id, m.count])).toEqual(items.map((i) => [i.id, 1]));
    expect(layout.marks.every((m, i) => i === 0 || m.x > (layout.marks[i - 1]?.x ?? 0))).toBe(true);
    expect(layout.ticks.length).toBeGreaterThan(1);
  });

  it("merges 10,000 checkpoints into at most one mark per few pixels and row, keeping the count", () => {
    const items = hourly(10_000, (i) => ({ state: i % 10 === 0 ? "DELETED" : "COMPLETE" }));
    const times = timesOf(items);
    const layout = layoutTimeline(items, times, fullDomain(times, START), 1000);
    // 1,000 px in 4 px bins, 2 rows in use.
    expect(layout.marks.length).toBeLessThanOrEqual(2 * 251);
    expect(layout.marks.reduce((sum, m) => sum + m.count, 0)).toBe(10_000);
  });

  it("never merges a favorite, and draws favorites last (on top)", () => {
    const items = hourly(1000, (i) => ({ favorite: i === 500 }));
    const times = timesOf(items);
    const layout = layoutTimeline(items, times, fullDomain(times, START), 300);
    expect(layout.marks.at(-1)).toMatchObject({ id: "cp-500", favorite: true, count: 1 });
  });

  it("keeps the preview's removed and kept checkpoints in separate marks", () => {
    const items = hourly(100);
    const times = timesOf(items);
    const plan = new Map(items.map((item, i) => [item.id, i < 50 ? "remove" : "keep"] as const));
    const layout = layoutTimeline(items, times, fullDomain(times, START), 50, plan);
    const removed = layout.marks.filter((m) => m.plan === "remove");
    expect(removed.reduce((sum, m) => sum + m.count, 0)).toBe(50);
    expect(layout.marks.filter((m) => m.plan === undefined)).toEqual([]);
  });

  it("lays out only the checkpoints inside a zoomed-in domain", () => {
    const items = hourly(100);
    const times = timesOf(items);
    const layout = layoutTimeline(items, times, [START + 10 * HOUR, START + 19 * HOUR], 900);
    expect(layout.marks.map((m) => m.id)).toEqual(items.slice(10, 20).map((i) => i.id));
  });
});

describe("nearest", () => {
  it("finds the checkpoint closest in time, and none in an empty list", () => {
    const times = timesOf(hourly(3));
    expect(nearest(times, START - HOUR)).toBe(0);
    expect(nearest(times, START + 1.4 * HOUR)).toBe(1);
    expect(nearest(times, START + 1.6 * HOUR)).toBe(2);
    expect(nearest(times, START + 9 * HOUR)).toBe(2);
    expect(nearest(new Float64Array(), START)).toBe(-1);
  });
});
