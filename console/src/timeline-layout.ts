// Where each checkpoint goes on the timeline: pure arithmetic, no DOM, so it is unit-tested and
// benchmarked in Node (bench/console.ts). Thousands of checkpoints become at most one mark per
// few pixels per row, so 10,000 render as a few hundred SVG elements.
import { scaleUtc } from "d3-scale";

export type CheckpointState = "PENDING" | "COMPLETE" | "FAILED" | "DELETED";

/** What the layout reads of a checkpoint. */
export interface TimelineItem {
  id: string;
  createdAt: string;
  state: CheckpointState;
  favorite: boolean;
  archived: boolean;
  verified: boolean;
}

/** What the retention preview says of one checkpoint. */
export type PlanMark = "keep" | "remove";

/** Rows, top to bottom. */
export const ROWS: readonly CheckpointState[] = ["COMPLETE", "PENDING", "FAILED", "DELETED"];

/** One drawn mark: a single checkpoint, or several that fall on the same few pixels. */
export interface Mark {
  x: number;
  row: number;
  state: CheckpointState;
  /** Index (in the time-ordered list) of the first checkpoint it stands for, and its id. */
  first: number;
  id: string;
  count: number;
  favorite: boolean;
  archived: boolean;
  verified: boolean;
  plan?: PlanMark;
}

export interface Tick {
  x: number;
  label: string;
}

export interface TimelineLayout {
  marks: Mark[];
  ticks: Tick[];
  /** Time (ms) at each x, and back: the hover and the zoom read them. */
  xOf: (time: number) => number;
  timeOf: (x: number) => number;
}

/** Milliseconds of each item's `createdAt`, parsed once per list. */
export const timesOf = (items: readonly TimelineItem[]): Float64Array =>
  Float64Array.from(items, (item) => Date.parse(item.createdAt));

/** The first index whose time is at least `time` (times ascending). */
export function lowerBound(times: Float64Array, time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] as number) < time) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The index of the item whose time is nearest `time`, or -1 for an empty list. */
export function nearest(times: Float64Array, time: number): number {
  if (times.length === 0) return -1;
  const i = lowerBound(times, time);
  if (i === 0) return 0;
  if (i === times.length) return times.length - 1;
  return time - (times[i - 1] as number) <= (times[i] as number) - time ? i - 1 : i;
}

/** The whole span of a list, padded by 3% on each side (at least a minute). */
export function fullDomain(times: Float64Array, now: number): [number, number] {
  if (times.length === 0) return [now - 86_400_000, now];
  const start = times[0] as number;
  const end = Math.max(times[times.length - 1] as number, start);
  const pad = Math.max((end - start) * 0.03, 60_000);
  return [start - pad, end + pad];
}

/**
 * Lays out the checkpoints (ascending by `createdAt`, with `times` from `timesOf`) whose time is
 * in `domain` on `width` pixels. Checkpoints of one row that fall in the same `binPx` pixels and
 * agree on the preview merge into one mark; a favorite always gets a mark of its own.
 */
export function layoutTimeline(
  items: readonly TimelineItem[],
  times: Float64Array,
  domain: readonly [number, number],
  width: number,
  plan?: ReadonlyMap<string, PlanMark>,
  binPx = 4,
): TimelineLayout {
  const scale = scaleUtc()
    .domain([new Date(domain[0]), new Date(domain[1])])
    .range([0, width]);
  const [start, end] = domain;
  const span = end - start || 1;
  const xOf = (time: number) => ((time - start) / span) * width;
  const timeOf = (x: number) => start + (x / width) * span;
  const marks: Mark[] = [];
  const open = new Map<string, Mark>();
  const from = lowerBound(times, start);
  const to = lowerBound(times, end + 1);
  for (let i = from; i < to; i++) {
    const item = items[i] as TimelineItem;
    const x = xOf(times[i] as number);
    const row = ROWS.indexOf(item.state);
    const mark = plan?.get(item.id);
    const key = `${row}:${Math.floor(x / binPx)}:${mark ?? ""}`;
    const existing = item.favorite ? undefined : open.get(key);
    if (existing) {
      existing.count += 1;
      existing.archived ||= item.archived;
      existing.verified ||= item.verified;
      continue;
    }
    const created: Mark = {
      x,
      row,
      state: item.state,
      first: i,
      id: item.id,
      count: 1,
      favorite: item.favorite,
      archived: item.archived,
      verified: item.verified,
      ...(mark === undefined ? {} : { plan: mark }),
    };
    marks.push(created);
    if (!item.favorite) open.set(key, created);
  }
  // Favorites last, so that they are drawn over the marks they share pixels with.
  marks.sort((a, b) => Number(a.favorite) - Number(b.favorite));
  const format = scale.tickFormat();
  const ticks = scale
    .ticks(Math.max(2, Math.floor(width / 110)))
    .map((date) => ({ x: scale(date), label: format(date) }));
  return { marks, ticks, xOf, timeOf };
}
