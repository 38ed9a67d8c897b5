/**
 * A plain implementation of restic's count rules (`keepLast`, `keepHourly` … `keepYearly`), the
 * yardstick bench/retention.ts measures `planRetention` against: the checkpoints as the catalog
 * returns them (oldest first), each read on the policy's clock (`wallClock`: Date getters in UTC,
 * `Intl` elsewhere), sorted newest first, one pass of the rules, a reasons list per checkpoint.
 * No validation, favorites, tags, durations or guards: only what any implementation must do.
 */
import { wallClock, type WallClock } from "../lib/domain/duration.ts";
import type { RetentionCandidate } from "../lib/domain/retention.ts";

/** The counts of a restic policy, all optional, with its time zone. */
export interface ReferencePolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  timeZone?: string;
}

const DAY_MS = 86_400_000;

function isoWeek(c: WallClock): number {
  const date = new Date(Date.UTC(c.year, c.month - 1, c.day));
  const weekday = ((date.getUTCDay() + 6) % 7) + 1;
  const thursday = new Date(date.getTime() + (4 - weekday) * DAY_MS);
  const januaryFirst = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  return (
    thursday.getUTCFullYear() * 100 +
    Math.floor((thursday.getTime() - januaryFirst) / DAY_MS / 7) +
    1
  );
}

const RULES: [keyof ReferencePolicy, string, (c: WallClock, nr: number) => number][] = [
  ["keepLast", "last snapshot", (_c, nr) => nr],
  ["keepHourly", "hourly snapshot", (c) => ((c.year * 100 + c.month) * 100 + c.day) * 100 + c.hour],
  ["keepDaily", "daily snapshot", (c) => (c.year * 100 + c.month) * 100 + c.day],
  ["keepWeekly", "weekly snapshot", isoWeek],
  ["keepMonthly", "monthly snapshot", (c) => c.year * 100 + c.month],
  ["keepYearly", "yearly snapshot", (c) => c.year],
];

/** Kept ids with their reasons and removed ids, newest first, as `planRetention` lists them. */
export function referencePlan(
  checkpoints: readonly RetentionCandidate[],
  policy: ReferencePolicy,
): { keep: { id: string; reasons: string[] }[]; remove: { id: string }[] } {
  const timeZone = policy.timeZone ?? "UTC";
  const entries = checkpoints
    .filter((c) => c.state === "COMPLETE")
    .map((c) => {
      const time = new Date(c.createdAt).getTime();
      return { id: c.id, time, clock: wallClock(new Date(time), timeZone) };
    })
    .sort((a, b) => b.time - a.time);
  const buckets = RULES.map(([field, reason, bucket]) => ({
    reason,
    bucket,
    count: (policy[field] as number | undefined) ?? 0,
    last: -1,
  }));
  const keep: { id: string; reasons: string[] }[] = [];
  const remove: { id: string }[] = [];
  entries.forEach((entry, nr) => {
    const reasons: string[] = [];
    for (const b of buckets) {
      if (b.count > 0 || b.count === -1) {
        const value = b.bucket(entry.clock, nr);
        if (value !== b.last || nr === entries.length - 1) {
          reasons.push(value === b.last ? `oldest ${b.reason}` : b.reason);
          b.last = value;
          if (b.count > 0) b.count--;
        }
      }
    }
    if (reasons.length > 0) keep.push({ id: entry.id, reasons });
    else remove.push({ id: entry.id });
  });
  return { keep, remove };
}
