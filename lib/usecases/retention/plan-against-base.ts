import {
  planRetention,
  retentionBaseOf,
  type RetentionBase,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPolicy,
  type RetentionScope,
} from "../../domain/retention.ts";
import type { RetentionBaseStore } from "../../ports/retention-bases.ts";

/** One simulation's retention run, as prune and prune-archives plan it. */
export interface GuardedRun {
  scope: RetentionScope;
  simulation: string;
  runId: string;
  now: Date;
  force: boolean;
  maxRemoveFraction: number;
}

/** A plan and, when it had to be read, the base it was measured against. */
export interface GuardedPlan {
  plan: RetentionPlan;
  /** Read only when the plan without a base was refused; undefined otherwise or when none. */
  lastApproved?: RetentionBase;
}

/**
 * Plans one simulation (see `planRetention`) and reads its base only when the plan without one is
 * refused: a base can only take removals out of the share guard's count, so a plan that passes
 * without it passes with it, and most runs (every one within the share) cost no catalog read.
 * The refused plan is planned again against the base, which is what a dry run shows too.
 */
export async function planAgainstBase(
  run: GuardedRun,
  candidates: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  bases: RetentionBaseStore | undefined,
): Promise<GuardedPlan> {
  const plan = (base?: RetentionBase): RetentionPlan =>
    planRetention(candidates, () => policy, {
      now: run.now,
      force: run.force,
      maxRemoveFraction: run.maxRemoveFraction,
      base: () => base,
    })[0] ?? { simulation: run.simulation, keep: [], remove: [], refused: null };
  const first = plan();
  if (first.refused === null || bases === undefined) return { plan: first };
  const lastApproved = await bases.get(run.scope, run.simulation);
  return lastApproved === undefined ? { plan: first } : { plan: plan(lastApproved), lastApproved };
}

/**
 * Records what a real run leaves for the next one's share guard, before it removes anything: the
 * base of its approved plan (so a crash part-way leaves the approval behind), or, for a refused
 * plan of a simulation without a base, a base that approves nothing (what arrives after it then
 * rolls through; see `RetentionBase`). A refused plan of a simulation with a base records nothing.
 */
export async function recordBase(
  run: GuardedRun,
  guarded: GuardedPlan,
  candidates: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  bases: RetentionBaseStore | undefined,
): Promise<void> {
  if (bases === undefined) return;
  const { plan, lastApproved } = guarded;
  if (plan.refused !== null && lastApproved !== undefined) return;
  const base = retentionBaseOf(run, candidates, plan.refused === null ? policy : undefined);
  if (base !== undefined) await bases.put(base);
}
