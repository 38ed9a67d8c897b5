/**
 * Retention rules restic does not have, for checkpoints that carry a training step or metrics
 * (checkpoints of ML training and HPC jobs): the best by a metric, every Nth step, chosen steps.
 * They only add reasons to keep; `planRetention` composes them with the restic rules, so a
 * checkpoint is kept when any rule keeps it. A checkpoint without a step or metrics (SimSpace
 * Weaver, NVIDIA Air) gets no step reason and no rank; only `keepBest`'s "no <metric>" keeps it.
 */
import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

const KEEP_BEST_FIELDS = ["metric", "mode", "count", "keepWithoutMetric"] as const;

/** The policy fields these rules add, in the order their reasons are listed. */
export const CHECKPOINT_RULE_FIELDS = [
  "keepBest",
  "keepEveryNSteps",
  "keepSteps",
  "keepVerified",
] as const;

/**
 * `keepBest` (Lightning `save_top_k`, Ray `num_to_keep` with a score attribute, Orbax `best_fn`
 * with `best_mode`): keeps the `count` best COMPLETE checkpoints by `metric`. Checkpoints that do
 * not report the metric cannot be ranked; they are kept unless `keepWithoutMetric` is false, so a
 * source that stopped writing the metric does not lose its checkpoints silently.
 */
export const KeepBestSchema = lazySchema(() =>
  z.strictObject(
    {
      metric: z
        .string({ error: "must name the metric to rank by, such as eval_loss" })
        .min(1, "must name the metric to rank by, such as eval_loss"),
      mode: z.enum(["min", "max"], {
        error:
          'must be "min" (lower is better, e.g. a loss) or "max" (higher is better, e.g. accuracy)',
      }),
      count: z
        .number({ error: "must be a positive count of checkpoints to keep" })
        .int("must be a whole, positive count of checkpoints to keep")
        .min(1, "must be a positive count of checkpoints to keep"),
      keepWithoutMetric: z
        .boolean({
          error: "must be true (keep checkpoints without the metric, the default) or false",
        })
        .default(true),
    },
    {
      error: (issue) => {
        if (issue.code === "unrecognized_keys") {
          return (
            `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} of keepBest; ` +
            `its fields are ${KEEP_BEST_FIELDS.join(", ")}`
          );
        }
        return issue.code === "invalid_type"
          ? 'must be an object such as { "metric": "eval_loss", "mode": "min", "count": 2 }'
          : undefined;
      },
    },
  ),
);
/** A validated `keepBest` rule. */
export type KeepBest = z.output<typeof KeepBestSchema>;

/** `keepEveryNSteps` (Orbax `keep_period`): keeps checkpoints whose step is a multiple of N. */
export const KeepEveryNStepsSchema = lazySchema(() =>
  z
    .number({ error: "must be a positive number of steps" })
    .int("must be a whole, positive number of steps")
    .min(1, "must be a positive number of steps"),
);

/** `keepSteps`: keeps the checkpoints of exactly these steps (a milestone, a paper's run). */
export const KeepStepsSchema = lazySchema(() =>
  z.array(
    z
      .number({ error: "a step must be a whole number, 0 or more" })
      .int("a step must be a whole number, 0 or more")
      .min(0, "a step must be a whole number, 0 or more"),
    { error: "must be a list of steps such as [1000, 5000]" },
  ),
);

/**
 * `keepVerified` (AWS Backup restore testing, "never delete the last good backup"): keeps the K
 * newest checkpoints whose latest restore test PASSED (`verification`). Set, it also refuses a
 * prune that would leave the simulation without such a checkpoint (`verifiedRefusal`).
 */
export const KeepVerifiedSchema = lazySchema(() =>
  z
    .number({ error: "must be a positive count of verified checkpoints to keep" })
    .int("must be a whole, positive count of verified checkpoints to keep")
    .min(1, "must be a positive count of verified checkpoints to keep"),
);

/** The part of a policy these rules read. */
export interface CheckpointRules {
  keepBest?: KeepBest;
  keepEveryNSteps?: number;
  keepSteps?: readonly number[];
  keepVerified?: number;
}

/**
 * True when the policy sets one of these rules. A rule present but invalid counts as set: its own
 * field reports the mistake, which is clearer than "the policy keeps nothing".
 */
export function hasCheckpointRules(policy: Partial<Record<string, unknown>>): boolean {
  return (
    (policy.keepBest !== undefined && policy.keepBest !== null) ||
    policy.keepEveryNSteps !== undefined ||
    policy.keepVerified !== undefined ||
    (Array.isArray(policy.keepSteps) && policy.keepSteps.length > 0)
  );
}

/** What the rules read of one COMPLETE checkpoint. */
export interface RuleEntry {
  readonly step?: number;
  readonly metrics?: Readonly<Record<string, number>>;
  /** The latest restore test; only `PASSED` counts for `keepVerified`. */
  readonly verification?: { readonly status: string };
}

const isVerified = (entry: RuleEntry): boolean => entry.verification?.status === "PASSED";

/** A value that can be ranked: NaN and the infinities cannot, so they count as no value. */
function metricOf(entry: RuleEntry, metric: string): number | undefined {
  const value = entry.metrics?.[metric];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

interface Ranked {
  index: number;
  value: number;
}

/**
 * The `count` best entries by the metric, best first, as indices into `entries`. Ties go to the
 * newer checkpoint (the lower index, since entries are newest first), then to input order, so
 * plans are deterministic and, as with Lightning's `save_top_k`, an equally good newer checkpoint
 * replaces an older one. A bounded heap whose root is the worst of the best so far keeps this
 * O(n log count) in time and O(count) in memory, so ranking a million checkpoints costs about as
 * much as one pass over them.
 */
export function bestEntries(entries: readonly RuleEntry[], rule: KeepBest): number[] {
  const min = rule.mode === "min";
  const heap: Ranked[] = [];
  const at = (slot: number): Ranked => heap[slot] as Ranked;
  // True when a ranks below b: a worse value, or the same value and older.
  const worse = (a: Ranked, b: Ranked): boolean => {
    if (a.value === b.value) return a.index > b.index;
    return min ? a.value > b.value : a.value < b.value;
  };
  const swap = (i: number, j: number): void => {
    [heap[i], heap[j]] = [at(j), at(i)];
  };
  entries.forEach((entry, index) => {
    const value = metricOf(entry, rule.metric);
    if (value === undefined) return;
    const candidate = { index, value };
    if (heap.length < rule.count) {
      heap.push(candidate);
      for (let slot = heap.length - 1; slot > 0;) {
        const parent = (slot - 1) >> 1;
        if (!worse(at(slot), at(parent))) break;
        swap(slot, parent);
        slot = parent;
      }
    } else if (worse(at(0), candidate)) {
      heap[0] = candidate;
      for (let slot = 0; ;) {
        const left = 2 * slot + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && worse(at(right), at(left)) ? right : left;
        if (!worse(at(child), at(slot))) break;
        swap(slot, child);
        slot = child;
      }
    }
  });
  return heap.sort((a, b) => (worse(a, b) ? 1 : -1)).map((ranked) => ranked.index);
}

/**
 * Appends the reasons of these rules to `reasons` (a list per entry by position, entries newest
 * first, absent for an entry nothing keeps yet):
 * `best <metric> (<value>, <rank> of <count>)` or `no <metric>`, `every <N> steps`, `step <S>`,
 * `verified`. In place, because a million checkpoints should not cost a second million arrays.
 */
export function addCheckpointRuleReasons(
  entries: readonly RuleEntry[],
  rules: CheckpointRules,
  reasons: Map<number, string[]>,
): void {
  const { keepBest, keepEveryNSteps, keepSteps, keepVerified } = rules;
  const push = (index: number, reason: string): void => {
    const list = reasons.get(index);
    if (list === undefined) reasons.set(index, [reason]);
    else list.push(reason);
  };
  if (keepBest !== undefined) {
    const best = bestEntries(entries, keepBest);
    const rank = new Map(best.map((index, i) => [index, i + 1]));
    const missing = `no ${keepBest.metric}`;
    entries.forEach((entry, index) => {
      const value = metricOf(entry, keepBest.metric);
      const place = rank.get(index);
      if (place !== undefined) {
        push(index, `best ${keepBest.metric} (${value}, ${place} of ${keepBest.count})`);
      } else if (value === undefined && keepBest.keepWithoutMetric) push(index, missing);
    });
  }
  if (keepVerified !== undefined) {
    let left = keepVerified;
    for (let index = 0; index < entries.length && left > 0; index++) {
      if (!isVerified(entries[index] as RuleEntry)) continue;
      push(index, "verified");
      left--;
    }
  }
  const steps = new Set(keepSteps ?? []);
  if (keepEveryNSteps === undefined && steps.size === 0) return;
  entries.forEach((entry, index) => {
    const step = entry.step;
    if (step === undefined) return;
    if (keepEveryNSteps !== undefined && Number.isInteger(step) && step % keepEveryNSteps === 0) {
      push(index, `every ${keepEveryNSteps} steps`);
    }
    if (steps.has(step)) push(index, `step ${step}`);
  });
}

/**
 * Why a plan must not run under `keepVerified`, or null: it would remove checkpoints while none
 * of the simulation's COMPLETE checkpoints has passed a restore test. (When one has, the rule
 * keeps the newest of them, so a plan can only leave none by having none.) Nothing proven would
 * be left to fall back on, so, like the remove-all guard, not even `force` allows it; the
 * simulation is pruned again once one of its checkpoints passes (the `verification` schedule) or
 * when its policy drops `keepVerified`.
 */
export function verifiedRefusal(
  simulation: string,
  entries: readonly RuleEntry[],
  removing: number,
  rules: CheckpointRules,
): string | null {
  if (rules.keepVerified === undefined || removing === 0 || entries.some(isVerified)) return null;
  return (
    `keepVerified: the policy would remove ${removing} checkpoints of ${simulation} while none ` +
    `of its ${entries.length} COMPLETE checkpoints has passed a restore test; refusing to prune ` +
    `until one passes verification (see docs/verification.md), or drop keepVerified from its policy`
  );
}
