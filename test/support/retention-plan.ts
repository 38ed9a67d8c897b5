import { expect } from "vitest";
import {
  planRetention,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPlanOptions,
  type RetentionPolicyInput,
} from "../../lib/domain/retention.ts";

/**
 * The plan of a single simulation at `now`, with no cap on removals unless `options` sets one:
 * retention tests judge one simulation's keep/remove lists, not the guard.
 */
export function planOne(
  candidates: readonly RetentionCandidate[],
  policy: RetentionPolicyInput,
  now: Date,
  options: Partial<RetentionPlanOptions> = {},
): RetentionPlan {
  const plans = planRetention([...candidates], policy, { now, maxRemoveFraction: 1, ...options });
  expect(plans).toHaveLength(1);
  return plans[0]!;
}

/** `[id, reasons]` of the kept checkpoints, newest first. */
export const kept = (plan: RetentionPlan): [string, string[]][] =>
  plan.keep.map((k) => [k.id, k.reasons]);

/** Ids of the checkpoints the plan removes. */
export const removed = (plan: RetentionPlan): string[] => plan.remove.map((r) => r.id);
