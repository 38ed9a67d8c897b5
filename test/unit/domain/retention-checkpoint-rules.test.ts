import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import {
  planRetention,
  policyFor,
  RetentionConfigSchema,
  RetentionPolicySchema,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPlanOptions,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";
import { bestEntries } from "../../../lib/domain/retention-checkpoint-rules.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { kept, planOne as planWith, removed } from "../../support/retention-plan.ts";

interface Spec {
  id: string;
  /** Hours after 2026-01-01T00:00Z; higher is newer. */
  hour: number;
  step?: number;
  metrics?: Record<string, number>;
  favorite?: boolean;
  state?: CheckpointState;
  simulation?: string;
  tags?: string[];
}

const candidates = (specs: readonly Spec[]): RetentionCandidate[] =>
  specs.map((s) => ({
    id: s.id,
    simulation: s.simulation ?? "sim",
    createdAt: new Date(Date.UTC(2026, 0, 1) + s.hour * 3_600_000).toISOString(),
    state: s.state ?? "COMPLETE",
    favorite: s.favorite ?? false,
    tags: s.tags ?? [],
    ...(s.step === undefined ? {} : { step: s.step }),
    ...(s.metrics === undefined ? {} : { metrics: s.metrics }),
  }));

const NOW = new Date("2027-01-01T00:00:00Z");

function planOne(
  specs: readonly Spec[],
  policy: RetentionPolicyInput,
  options: Partial<RetentionPlanOptions> = {},
): RetentionPlan {
  return planWith(candidates(specs), policy, NOW, options);
}

/** Checkpoints of a training run, one an hour, oldest first; loss falls, then rises (overfitting). */
const TRAINING: Spec[] = [
  { id: "s500", hour: 1, step: 500, metrics: { eval_loss: 0.9, accuracy: 0.61 } },
  { id: "s1000", hour: 2, step: 1000, metrics: { eval_loss: 0.4, accuracy: 0.8 } },
  { id: "s1500", hour: 3, step: 1500, metrics: { eval_loss: 0.213, accuracy: 0.86 } },
  { id: "s2000", hour: 4, step: 2000, metrics: { eval_loss: 0.25, accuracy: 0.88 } },
  { id: "s2500", hour: 5, step: 2500, metrics: { eval_loss: 0.31, accuracy: 0.87 } },
];

describe("keepBest", () => {
  it("keeps the count best by a metric to minimize, naming the metric, value and rank", () => {
    const plan = planOne(TRAINING, { keepBest: { metric: "eval_loss", mode: "min", count: 2 } });
    expect(kept(plan)).toEqual([
      ["s2000", ["best eval_loss (0.25, 2 of 2)"]],
      ["s1500", ["best eval_loss (0.213, 1 of 2)"]],
    ]);
    expect(removed(plan)).toEqual(["s2500", "s1000", "s500"]);
  });

  it("keeps the count best by a metric to maximize", () => {
    const plan = planOne(TRAINING, { keepBest: { metric: "accuracy", mode: "max", count: 1 } });
    expect(kept(plan)).toEqual([["s2000", ["best accuracy (0.88, 1 of 1)"]]]);
  });

  it("keeps checkpoints without the metric by default, and not when keepWithoutMetric is false", () => {
    const specs: Spec[] = [
      ...TRAINING,
      { id: "no-metrics", hour: 6, step: 3000 },
      { id: "other-metric", hour: 7, step: 3500, metrics: { accuracy: 0.9 } },
    ];
    const rule = { metric: "eval_loss", mode: "min", count: 1 } as const;
    expect(kept(planOne(specs, { keepBest: rule }))).toEqual([
      ["other-metric", ["no eval_loss"]],
      ["no-metrics", ["no eval_loss"]],
      ["s1500", ["best eval_loss (0.213, 1 of 1)"]],
    ]);
    const strict = planOne(specs, { keepBest: { ...rule, keepWithoutMetric: false } });
    expect(kept(strict)).toEqual([["s1500", ["best eval_loss (0.213, 1 of 1)"]]]);
    expect(removed(strict)).toEqual([
      "other-metric",
      "no-metrics",
      "s2500",
      "s2000",
      "s1000",
      "s500",
    ]);
  });

  it("breaks ties in favour of the newer checkpoint, then of input order at the same instant", () => {
    const specs: Spec[] = [
      { id: "old", hour: 1, metrics: { loss: 0.5 } },
      { id: "new", hour: 3, metrics: { loss: 0.5 } },
      { id: "worse", hour: 4, metrics: { loss: 0.6 } },
      { id: "twin-a", hour: 2, metrics: { loss: 0.5 } },
      { id: "twin-b", hour: 2, metrics: { loss: 0.5 } },
    ];
    const best = (count: number) =>
      planOne(specs, { keepBest: { metric: "loss", mode: "min", count } }).keep.map((k) => k.id);
    expect(best(1)).toEqual(["new"]);
    expect(best(2)).toEqual(["new", "twin-a"]);
    expect(best(3)).toEqual(["new", "twin-a", "twin-b"]);
    // The same for a metric to maximize: ties are about recency, not direction.
    const max = planOne(specs, { keepBest: { metric: "loss", mode: "max", count: 2 } });
    expect(kept(max)).toEqual([
      ["worse", ["best loss (0.6, 1 of 2)"]],
      ["new", ["best loss (0.5, 2 of 2)"]],
    ]);
  });

  it("ranks COMPLETE checkpoints only: a better PENDING or FAILED one takes no slot", () => {
    const specs: Spec[] = [
      ...TRAINING,
      { id: "pending", hour: 6, metrics: { eval_loss: 0.01 }, state: "PENDING" },
      { id: "failed", hour: 7, metrics: { eval_loss: 0.02 }, state: "FAILED" },
      { id: "deleted", hour: 0, metrics: { eval_loss: 0.03 }, state: "DELETED" },
    ];
    const plan = planOne(specs, { keepBest: { metric: "eval_loss", mode: "min", count: 1 } });
    expect(kept(plan)).toEqual([["s1500", ["best eval_loss (0.213, 1 of 1)"]]]);
    expect(removed(plan)).toEqual(["s2500", "s2000", "s1000", "s500"]);
  });

  it("keeps every checkpoint with the metric when there are fewer than count", () => {
    const plan = planOne(TRAINING.slice(0, 2), {
      keepBest: { metric: "eval_loss", mode: "min", count: 5 },
    });
    expect(kept(plan)).toEqual([
      ["s1000", ["best eval_loss (0.4, 1 of 5)"]],
      ["s500", ["best eval_loss (0.9, 2 of 5)"]],
    ]);
  });

  it("treats NaN and infinite values as no value: they cannot be ranked", () => {
    const specs: Spec[] = [
      { id: "finite", hour: 1, metrics: { loss: 3 } },
      { id: "nan", hour: 2, metrics: { loss: Number.NaN } },
      { id: "minus-infinity", hour: 3, metrics: { loss: Number.NEGATIVE_INFINITY } },
    ];
    const plan = planOne(specs, { keepBest: { metric: "loss", mode: "min", count: 1 } });
    expect(kept(plan)).toEqual([
      ["minus-infinity", ["no loss"]],
      ["nan", ["no loss"]],
      ["finite", ["best loss (3, 1 of 1)"]],
    ]);
  });

  it("ranks each simulation on its own", () => {
    const specs: Spec[] = [
      { id: "a1", hour: 1, metrics: { loss: 1 }, simulation: "a" },
      { id: "a2", hour: 2, metrics: { loss: 2 }, simulation: "a" },
      { id: "b1", hour: 1, metrics: { loss: 9 }, simulation: "b" },
      { id: "b2", hour: 2, metrics: { loss: 8 }, simulation: "b" },
    ];
    const plans = planRetention(
      candidates(specs),
      { keepBest: { metric: "loss", mode: "min", count: 1 } },
      { now: NOW, maxRemoveFraction: 1 },
    );
    expect(plans.map((p) => p.keep.map((k) => k.id))).toEqual([["a1"], ["b2"]]);
  });

  it("returns the best indices best first (bestEntries, the bounded heap)", () => {
    const entries = [5, 1, 4, 1, 5, 9, 2, 6].map((loss) => ({ metrics: { loss } }));
    const rule = { metric: "loss", mode: "min", count: 4, keepWithoutMetric: true } as const;
    expect(bestEntries(entries, rule)).toEqual([1, 3, 6, 2]);
    expect(bestEntries(entries, { ...rule, mode: "max", count: 3 })).toEqual([5, 7, 0]);
    expect(bestEntries([], rule)).toEqual([]);
  });
});

describe("keepEveryNSteps and keepSteps", () => {
  it("keepEveryNSteps keeps the checkpoints whose step is a multiple of N, step 0 included", () => {
    const specs: Spec[] = [{ id: "s0", hour: 0, step: 0 }, ...TRAINING];
    const plan = planOne(specs, { keepEveryNSteps: 1000 });
    expect(kept(plan)).toEqual([
      ["s2000", ["every 1000 steps"]],
      ["s1000", ["every 1000 steps"]],
      ["s0", ["every 1000 steps"]],
    ]);
    expect(removed(plan)).toEqual(["s2500", "s1500", "s500"]);
  });

  it("keepSteps keeps exactly the listed steps, one reason each, beside keepEveryNSteps", () => {
    const plan = planOne(TRAINING, { keepEveryNSteps: 1000, keepSteps: [1500, 2000, 7] });
    expect(kept(plan)).toEqual([
      ["s2000", ["every 1000 steps", "step 2000"]],
      ["s1500", ["step 1500"]],
      ["s1000", ["every 1000 steps"]],
    ]);
  });

  it("keep nothing of checkpoints without a step (SimSpace Weaver, NVIDIA Air), so the guard refuses", () => {
    const specs: Spec[] = [
      { id: "w1", hour: 1 },
      { id: "w2", hour: 2 },
    ];
    const plan = planOne(specs, { keepEveryNSteps: 1, keepSteps: [0] });
    expect(plan.keep).toEqual([]);
    expect(plan.refused).toBe(
      "the policy would remove all 2 COMPLETE checkpoints of sim; refusing to leave it without any",
    );
  });
});

describe("the checkpoint rules composed with restic's and with favorites", () => {
  it("keep a checkpoint when any rule keeps it, favorite first, restic's reasons before theirs", () => {
    const specs: Spec[] = TRAINING.map((s) =>
      s.id === "s500" ? { ...s, favorite: true, tags: ["baseline"] } : s,
    );
    const plan = planOne(specs, {
      keepLast: 1,
      keepTags: [["baseline"]],
      keepBest: { metric: "eval_loss", mode: "min", count: 1 },
      keepEveryNSteps: 1000,
      keepSteps: [2500],
    });
    expect(kept(plan)).toEqual([
      ["s2500", ["last snapshot", "step 2500"]],
      ["s2000", ["every 1000 steps"]],
      ["s1500", ["best eval_loss (0.213, 1 of 1)"]],
      ["s1000", ["every 1000 steps"]],
      ["s500", ["favorite", "has tags [baseline]"]],
    ]);
    expect(plan.remove).toEqual([]);
  });

  it("let a favorite take a best slot, as favorites fill restic's periods", () => {
    const specs = TRAINING.map((s) => (s.id === "s1500" ? { ...s, favorite: true } : s));
    const plan = planOne(specs, { keepBest: { metric: "eval_loss", mode: "min", count: 1 } });
    expect(kept(plan)).toEqual([["s1500", ["favorite", "best eval_loss (0.213, 1 of 1)"]]]);
  });

  it("the best by loss plus the last 2 (the demo trainer's policy)", () => {
    const plan = planOne(TRAINING, {
      keepLast: 2,
      keepBest: { metric: "eval_loss", mode: "min", count: 2 },
    });
    expect(kept(plan)).toEqual([
      ["s2500", ["last snapshot"]],
      ["s2000", ["last snapshot", "best eval_loss (0.25, 2 of 2)"]],
      ["s1500", ["best eval_loss (0.213, 1 of 2)"]],
    ]);
    expect(removed(plan)).toEqual(["s1000", "s500"]);
  });

  it("still refuse to remove more than maxRemoveFraction unless forced", () => {
    const policy = { keepBest: { metric: "eval_loss", mode: "min", count: 1 } } as const;
    const plan = planOne(TRAINING, policy, { maxRemoveFraction: 0.5 });
    expect(plan.refused).toBe(
      "the policy would remove 4 of 5 COMPLETE checkpoints of sim (80%), more than the allowed " +
        "50%; force the run to allow it",
    );
    expect(planOne(TRAINING, policy, { maxRemoveFraction: 0.5, force: true }).refused).toBeNull();
  });
});

describe("the policy schema of the checkpoint rules", () => {
  const invalid = (policy: unknown): string => {
    try {
      parseInput(RetentionPolicySchema, policy, "retention policy");
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as Error).message;
    }
    throw new Error("the policy was accepted");
  };

  it("accepts a policy with only keepBest, keepWithoutMetric defaulting to true", () => {
    expect(
      RetentionPolicySchema.parse({ keepBest: { metric: "loss", mode: "min", count: 2 } }),
    ).toEqual({
      keepBest: { metric: "loss", mode: "min", count: 2, keepWithoutMetric: true },
      timeZone: "UTC",
    });
    expect(RetentionPolicySchema.parse({ keepEveryNSteps: 100 }).keepEveryNSteps).toBe(100);
    expect(RetentionPolicySchema.parse({ keepSteps: [0, 10] }).keepSteps).toEqual([0, 10]);
  });

  it("names the field and the rule of an invalid keepBest", () => {
    expect(invalid({ keepBest: { mode: "lowest", count: 0 } })).toBe(
      "Invalid retention policy: keepBest.metric: must name the metric to rank by, such as " +
        'eval_loss; keepBest.mode: must be "min" (lower is better, e.g. a loss) or "max" (higher ' +
        "is better, e.g. accuracy); keepBest.count: must be a positive count of checkpoints to keep",
    );
    expect(invalid({ keepBest: { metric: "", mode: "max", count: 1.5 } })).toBe(
      "Invalid retention policy: keepBest.metric: must name the metric to rank by, such as " +
        "eval_loss; keepBest.count: must be a whole, positive count of checkpoints to keep",
    );
    expect(
      invalid({ keepBest: { metric: "loss", mode: "min", count: 1, keepWithoutMetric: "no" } }),
    ).toBe(
      "Invalid retention policy: keepBest.keepWithoutMetric: must be true (keep checkpoints " +
        "without the metric, the default) or false",
    );
    expect(invalid({ keepBest: { metric: "loss", mode: "min", count: 1, top: 3 } })).toBe(
      'Invalid retention policy: keepBest: unknown field "top" of keepBest; its fields are ' +
        "metric, mode, count, keepWithoutMetric",
    );
    expect(invalid({ keepBest: 3 })).toBe(
      'Invalid retention policy: keepBest: must be an object such as { "metric": "eval_loss", ' +
        '"mode": "min", "count": 2 }',
    );
  });

  it("names the field and the rule of invalid step rules", () => {
    expect(invalid({ keepEveryNSteps: 0 })).toBe(
      "Invalid retention policy: keepEveryNSteps: must be a positive number of steps",
    );
    expect(invalid({ keepEveryNSteps: 2.5 })).toBe(
      "Invalid retention policy: keepEveryNSteps: must be a whole, positive number of steps",
    );
    expect(invalid({ keepSteps: [10, -1, 2.5] })).toBe(
      "Invalid retention policy: keepSteps.1: a step must be a whole number, 0 or more; " +
        "keepSteps.2: a step must be a whole number, 0 or more",
    );
    expect(invalid({ keepSteps: 1000 })).toBe(
      "Invalid retention policy: keepSteps: must be a list of steps such as [1000, 5000]",
    );
  });

  it("still rejects a policy that keeps nothing, an empty keepSteps included", () => {
    expect(invalid({ keepSteps: [] })).toBe(
      "Invalid retention policy: (root): the policy keeps nothing: set a " +
        "keepLast/keepHourly/…/keepYearly count (-1 or more than 0), a non-zero keepWithin… " +
        "duration, a keepTags list, keepBest, keepEveryNSteps, keepVerified or a keepSteps list",
    );
    expect(invalid({})).toContain("the policy keeps nothing");
  });

  it("accepts the rules in overrides per simulation glob, and reports an override's mistake there", () => {
    const config = RetentionConfigSchema.parse({
      default: { keepLast: 3 },
      overrides: [
        {
          match: "train-*",
          policy: { keepLast: 1, keepBest: { metric: "loss", mode: "min", count: 1 } },
        },
      ],
    });
    expect(policyFor(config, "train-7")).toEqual({
      keepLast: 1,
      keepBest: { metric: "loss", mode: "min", count: 1, keepWithoutMetric: true },
      timeZone: "UTC",
    });
    const specs: Spec[] = [
      { id: "t1", hour: 1, metrics: { loss: 0.1 }, simulation: "train-7" },
      { id: "t2", hour: 2, metrics: { loss: 0.3 }, simulation: "train-7" },
      { id: "t3", hour: 3, metrics: { loss: 0.2 }, simulation: "train-7" },
      { id: "w1", hour: 1, metrics: { loss: 0.1 }, simulation: "weaver" },
      { id: "w2", hour: 2, simulation: "weaver" },
    ];
    const plans = planRetention(candidates(specs), (s) => policyFor(config, s), {
      now: NOW,
      maxRemoveFraction: 1,
    });
    expect(plans.map((p) => [p.simulation, kept(p)])).toEqual([
      [
        "train-7",
        [
          ["t3", ["last snapshot"]],
          ["t1", ["best loss (0.1, 1 of 1)"]],
        ],
      ],
      [
        "weaver",
        [
          ["w2", ["last snapshot"]],
          ["w1", ["last snapshot"]],
        ],
      ],
    ]);
    expect(() =>
      parseInput(
        RetentionConfigSchema,
        {
          default: { keepLast: 1 },
          overrides: [{ match: "x-*", policy: { keepEveryNSteps: -5 } }],
        },
        "retention config",
      ),
    ).toThrow(
      "Invalid retention config: overrides.0.policy.keepEveryNSteps: must be a positive number of steps",
    );
  });
});
