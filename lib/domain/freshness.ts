import * as z from "zod";
import type { CheckpointState } from "./checkpoint.ts";
import { longestScheduleInterval } from "./schedule-period.ts";
import {
  selectorMatchesName,
  selectorMatchesProvider,
  selectorNeedsTags,
  SimulationSelectorSchema,
} from "./selector.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * One snapshot schedule as the freshness rule reads it: the simulations it selects, and how long
 * one of them may go without a completed checkpoint before the schedule's staleness alarm fires
 * (twice the schedule's longest interval, as infra/observability.ts sets the alarm's threshold).
 */
export const FreshnessWatchSchema = lazySchema(() =>
  z.object({
    schedule: z.string().min(1),
    lateAfterSeconds: z.number().positive(),
    selector: SimulationSelectorSchema.optional(),
  }),
);
/** One snapshot schedule as the freshness rule reads it. */
export type FreshnessWatch = z.output<typeof FreshnessWatchSchema>;

/** What a deployment schedules, as far as freshness goes (a `ScheduleSpec` of lib/topology.ts). */
export interface WatchableSchedule {
  name: string;
  expression: string;
  timeZone: string;
  target: string;
  extraInput?: Record<string, unknown>;
  enabled?: boolean;
}

/**
 * The schedules a staleness alarm watches, with their thresholds: the enabled schedules of
 * `target` (plan-snapshots) that have a period (a one-time `at(…)` has none). The API reports
 * fresh or late by them, so a person sees what the alarm would say without reading CloudWatch.
 */
export function freshnessWatches(
  schedules: readonly WatchableSchedule[],
  target: string,
): FreshnessWatch[] {
  return schedules.flatMap((spec) => {
    if (spec.target !== target || spec.enabled === false) return [];
    const intervalMs = longestScheduleInterval(spec.expression, spec.timeZone);
    if (intervalMs === undefined) return [];
    const selector = SimulationSelectorSchema.optional().parse(spec.extraInput?.selector);
    return [
      {
        schedule: spec.name,
        lateAfterSeconds: (2 * intervalMs) / 1000,
        ...(selector === undefined ? {} : { selector }),
      },
    ];
  });
}

/** What `GET /simulations` says of a simulation's freshness. */
export const FreshnessSchema = lazySchema(() =>
  z.object({
    /** Seconds since the newest completed checkpoint (see `checkpointAgeSeconds`). */
    ageSeconds: z.number().int().nonnegative(),
    /** The strictest schedule that selects it, and its threshold; absent when none does. */
    schedule: z.string().optional(),
    lateAfterSeconds: z.number().positive().optional(),
    /** `ageSeconds` above `lateAfterSeconds`: the schedule's staleness alarm would fire for it. */
    late: z.boolean().optional(),
    /**
     * Schedules that select on tags, which the API does not read: they may select the simulation
     * too, with a threshold of their own.
     */
    undecided: z.array(z.string()).optional(),
  }),
);
/** What `GET /simulations` says of a simulation's freshness. */
export type Freshness = z.output<typeof FreshnessSchema>;

/** A checkpoint whose file was once complete: DELETED ones were COMPLETE before retention. */
const wasCompleted = (state: CheckpointState): boolean =>
  state === "COMPLETE" || state === "DELETED";

/**
 * The staleness alarm's figure for one simulation (plan-snapshots publishes it from
 * `checkpointFreshness`): seconds since its newest completed checkpoint was taken; when none ever
 * completed, since its first checkpoint was asked for; 0 when it has none.
 */
export function checkpointAgeSeconds(
  checkpoints: readonly { createdAt: string; state: CheckpointState }[],
  now: Date,
): number {
  let newestCompleted: number | undefined;
  let first: number | undefined;
  for (const { createdAt, state } of checkpoints) {
    const time = Date.parse(createdAt);
    if (first === undefined || time < first) first = time;
    if (wasCompleted(state) && (newestCompleted === undefined || time > newestCompleted)) {
      newestCompleted = time;
    }
  }
  const since = newestCompleted ?? first;
  return since === undefined ? 0 : Math.max(0, Math.round((now.getTime() - since) / 1000));
}

/**
 * Fresh or late by the staleness alarms' rule. A schedule selects a simulation that runs and
 * whose name and provider its selector matches, as plan-snapshots picks them; of several, the
 * strictest threshold decides (the first alarm to fire). Selectors on tags are left undecided.
 */
export function freshnessVerdict(
  simulation: { name: string; provider: string; running: boolean },
  ageSeconds: number,
  watches: readonly FreshnessWatch[],
): Freshness {
  const verdict: Freshness = { ageSeconds };
  if (!simulation.running) return verdict;
  const candidates = watches.filter(
    (w) =>
      selectorMatchesProvider(w.selector, simulation.provider) &&
      selectorMatchesName(w.selector, simulation.name),
  );
  const undecided = candidates.filter((w) => selectorNeedsTags(w.selector)).map((w) => w.schedule);
  const strictest = candidates
    .filter((w) => !selectorNeedsTags(w.selector))
    .sort((a, b) => a.lateAfterSeconds - b.lateAfterSeconds)[0];
  if (strictest) {
    verdict.schedule = strictest.schedule;
    verdict.lateAfterSeconds = strictest.lateAfterSeconds;
    verdict.late = ageSeconds > strictest.lateAfterSeconds;
  }
  if (undecided.length > 0) verdict.undecided = undecided;
  return verdict;
}
