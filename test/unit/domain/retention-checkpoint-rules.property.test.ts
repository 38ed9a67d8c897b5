import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import {
  planRetention,
  RetentionPolicySchema,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";

const START = Date.parse("2026-01-01T00:00:00Z");
const MINUTE = 60_000;
const METRICS = ["loss", "accuracy"];

const state: fc.Arbitrary<CheckpointState> = fc.oneof(
  { arbitrary: fc.constant("COMPLETE" as const), weight: 4 },
  { arbitrary: fc.constantFrom("PENDING" as const, "FAILED" as const), weight: 1 },
);

/** Few distinct metric values and times, so that ties occur often. */
const checkpoints: fc.Arbitrary<RetentionCandidate[]> = fc
  .array(
    fc.record({
      simulation: fc.constantFrom("sim-a", "sim-b"),
      minute: fc.integer({ min: 0, max: 3 * 24 * 60 }),
      state,
      favorite: fc.boolean(),
      tags: fc.subarray(["gold"]),
      step: fc.option(
        fc.integer({ min: 0, max: 40 }).map((s) => s * 50),
        { nil: undefined },
      ),
      metrics: fc.option(
        fc.dictionary(
          fc.constantFrom(...METRICS),
          fc.integer({ min: 0, max: 6 }).map((v) => v / 4),
        ),
        { nil: undefined },
      ),
    }),
    { maxLength: 40 },
  )
  .map((records) =>
    records.map((r, i) => ({
      id: `cp-${i}`,
      simulation: r.simulation,
      createdAt: new Date(START + r.minute * MINUTE).toISOString(),
      state: r.state,
      favorite: r.favorite,
      tags: r.tags,
      ...(r.step === undefined ? {} : { step: r.step }),
      ...(r.metrics === undefined ? {} : { metrics: r.metrics }),
    })),
  );

const count = fc.integer({ min: -1, max: 4 });

/** A restic-only policy (possibly empty before the checkpoint rules are added). */
const resticPolicy: fc.Arbitrary<RetentionPolicyInput> = fc.record(
  {
    keepLast: count,
    keepHourly: count,
    keepDaily: count,
    keepWithin: fc.constantFrom("1h", "1d", "0d"),
    keepTags: fc.constant([["gold"]]),
  },
  { requiredKeys: [] },
);

const keepBest = fc.record(
  {
    metric: fc.constantFrom(...METRICS),
    mode: fc.constantFrom("min" as const, "max" as const),
    count: fc.integer({ min: 1, max: 6 }),
    keepWithoutMetric: fc.boolean(),
  },
  { requiredKeys: ["metric", "mode", "count"] },
);

const checkpointRules = fc.record(
  {
    keepBest,
    keepEveryNSteps: fc.integer({ min: 1, max: 500 }),
    keepSteps: fc.array(
      fc.integer({ min: 0, max: 40 }).map((s) => s * 50),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: [] },
);

const valid = (policy: RetentionPolicyInput): boolean =>
  RetentionPolicySchema.safeParse(policy).success;

const options = fc.record({
  now: fc.integer({ min: 0, max: 4 * 24 * 60 }).map((m) => new Date(START + m * MINUTE)),
  force: fc.constant(true),
  maxRemoveFraction: fc.constant(1),
});

const keptIds = (plans: readonly RetentionPlan[]): Set<string> =>
  new Set(plans.flatMap((plan) => plan.keep.map((k) => k.id)));

const isBest = (reason: string): boolean => reason.startsWith("best ");

describe("checkpoint rule properties", () => {
  it("keepBest keeps exactly min(count, COMPLETE checkpoints with the metric) as best, and they are the best", () => {
    fc.assert(
      fc.property(checkpoints, keepBest, options, (cps, rule, o) => {
        const byId = new Map(cps.map((c) => [c.id, c]));
        for (const plan of planRetention(cps, { keepBest: rule }, o)) {
          const ranked = cps.filter(
            (c) =>
              c.simulation === plan.simulation &&
              c.state === "COMPLETE" &&
              c.metrics?.[rule.metric] !== undefined,
          );
          const best = plan.keep.filter((k) => k.reasons.some(isBest));
          expect(best).toHaveLength(Math.min(rule.count, ranked.length));
          const value = (id: string): number => byId.get(id)!.metrics![rule.metric]!;
          const better = (a: number, b: number): boolean => (rule.mode === "min" ? a < b : a > b);
          const bestIds = new Set(best.map((k) => k.id));
          const time = (id: string): number => Date.parse(String(byId.get(id)!.createdAt));
          for (const c of ranked) {
            if (bestIds.has(c.id)) continue;
            // No checkpoint left out is strictly better than any of the best, nor newer and as good.
            for (const k of best) {
              expect(better(value(c.id), value(k.id))).toBe(false);
              if (value(c.id) === value(k.id)) expect(time(c.id)).toBeLessThanOrEqual(time(k.id));
            }
          }
          // Ranks 1..n, each used once, in the order of the values.
          const ranks = best
            .map((k) => {
              const reason = k.reasons.find(isBest)!;
              const match = /\((-?[\d.]+), (\d+) of (\d+)\)$/.exec(reason)!;
              expect(Number(match[1])).toBe(value(k.id));
              expect(Number(match[3])).toBe(rule.count);
              return { rank: Number(match[2]), value: value(k.id) };
            })
            .sort((a, b) => a.rank - b.rank);
          expect(ranks.map((r) => r.rank)).toEqual(ranks.map((_, i) => i + 1));
          for (let i = 1; i < ranks.length; i++) {
            expect(better(ranks[i]!.value, ranks[i - 1]!.value)).toBe(false);
          }
        }
      }),
    );
  });

  it("keepWithoutMetric decides exactly the fate of the checkpoints without the metric", () => {
    fc.assert(
      fc.property(checkpoints, keepBest, options, (cps, rule, o) => {
        const without = cps.filter(
          (c) => c.state === "COMPLETE" && c.metrics?.[rule.metric] === undefined,
        );
        const kept = keptIds(planRetention(cps, { keepBest: rule }, o));
        for (const c of without) {
          expect(kept.has(c.id)).toBe(rule.keepWithoutMetric !== false || c.favorite === true);
        }
      }),
    );
  });

  it("adding checkpoint rules to a policy never removes a checkpoint it kept, and only appends reasons", () => {
    fc.assert(
      fc.property(checkpoints, resticPolicy, checkpointRules, options, (cps, base, extra, o) => {
        const combined = { ...base, ...extra };
        if (!valid(base) || !valid(combined)) return;
        const before = planRetention(cps, base, o);
        const after = planRetention(cps, combined, o);
        const reasonsAfter = new Map(after.flatMap((p) => p.keep.map((k) => [k.id, k.reasons])));
        for (const k of before.flatMap((p) => p.keep)) {
          const reasons = reasonsAfter.get(k.id);
          expect(reasons).toBeDefined();
          expect(reasons!.slice(0, k.reasons.length)).toEqual(k.reasons);
        }
      }),
    );
  });

  it("gives step reasons exactly to the COMPLETE checkpoints whose steps match", () => {
    fc.assert(
      fc.property(
        checkpoints,
        fc.integer({ min: 1, max: 500 }),
        fc.array(
          fc.integer({ min: 0, max: 40 }).map((s) => s * 50),
          { minLength: 1, maxLength: 4 },
        ),
        options,
        (cps, every, steps, o) => {
          const reasons = new Map(
            planRetention(cps, { keepEveryNSteps: every, keepSteps: steps }, o).flatMap((p) =>
              p.keep.map((k) => [k.id, k.reasons]),
            ),
          );
          for (const c of cps.filter((cp) => cp.state === "COMPLETE")) {
            const expected = [
              ...(c.favorite ? ["favorite"] : []),
              ...(c.step !== undefined && c.step % every === 0 ? [`every ${every} steps`] : []),
              ...(c.step !== undefined && steps.includes(c.step) ? [`step ${c.step}`] : []),
            ];
            expect(reasons.get(c.id) ?? []).toEqual(expected);
          }
        },
      ),
    );
  });
});
