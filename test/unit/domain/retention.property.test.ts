import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import {
  planRetention,
  RetentionPolicySchema,
  type RetentionCandidate,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";

const START = Date.parse("2019-12-20T00:00:00Z");
const MINUTE = 60_000;
const TAGS = ["gold", "release", "nightly"];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"];

/** Instants both spread over two years and bunched into hours, so ties and shared periods occur. */
const instant = fc.oneof(
  fc.integer({ min: 0, max: 2 * 366 * 24 * 60 }).map((m) => START + m * MINUTE),
  fc.integer({ min: 0, max: 6 * 60 }).map((m) => Date.parse("2020-10-25T00:00:00Z") + m * MINUTE),
  fc
    .integer({ min: 0, max: 4 * 24 })
    .map((h) => Date.parse("2020-12-30T00:00:00Z") + h * 60 * MINUTE),
);

const state: fc.Arbitrary<CheckpointState> = fc.oneof(
  { arbitrary: fc.constant("COMPLETE" as const), weight: 4 },
  {
    arbitrary: fc.constantFrom("PENDING" as const, "FAILED" as const, "DELETED" as const),
    weight: 1,
  },
);

const checkpoints: fc.Arbitrary<RetentionCandidate[]> = fc
  .array(
    fc.record({
      simulation: fc.constantFrom("sim-a", "sim-b", "sim-c"),
      time: instant,
      state,
      favorite: fc.boolean(),
      tags: fc.subarray(TAGS),
      asDate: fc.boolean(),
    }),
    { maxLength: 40 },
  )
  .map((records) =>
    records.map((r, i) => ({
      id: `cp-${i}`,
      simulation: r.simulation,
      createdAt: r.asDate ? new Date(r.time) : new Date(r.time).toISOString(),
      state: r.state,
      favorite: r.favorite,
      tags: r.tags,
    })),
  );

const count = fc.integer({ min: -1, max: 5 });
const duration = fc.constantFrom("1h", "6h", "1d", "2d", "7d", "1m", "3m", "1y", "1y2m3d4h", "0d");

const policy: fc.Arbitrary<RetentionPolicyInput> = fc
  .record(
    {
      keepLast: count,
      keepHourly: count,
      keepDaily: count,
      keepWeekly: count,
      keepMonthly: count,
      keepYearly: count,
      keepWithin: duration,
      keepWithinHourly: duration,
      keepWithinDaily: duration,
      keepWithinWeekly: duration,
      keepWithinMonthly: duration,
      keepWithinYearly: duration,
      keepTags: fc.array(fc.subarray(TAGS, { minLength: 1 }), { maxLength: 2 }),
      timeZone: fc.constantFrom(...ZONES),
    },
    { requiredKeys: [] },
  )
  .filter((p) => RetentionPolicySchema.safeParse(p).success);

const options = fc.record({
  now: instant.map((t) => new Date(t)),
  force: fc.boolean(),
  maxRemoveFraction: fc.double({ min: 0, max: 1, noNaN: true }),
});

const timeOf = (c: RetentionCandidate): number => new Date(c.createdAt).getTime();

describe("planRetention properties", () => {
  it("puts every COMPLETE checkpoint in exactly one list of its simulation's plan, and nothing else", () => {
    fc.assert(
      fc.property(checkpoints, policy, options, (cps, p, o) => {
        const plans = planRetention(cps, p, o);
        const simulations = [...new Set(cps.map((c) => c.simulation))].sort();
        expect(plans.map((plan) => plan.simulation)).toEqual(simulations);
        for (const plan of plans) {
          const complete = cps
            .filter((c) => c.simulation === plan.simulation && c.state === "COMPLETE")
            .map((c) => c.id);
          const listed = [...plan.keep.map((k) => k.id), ...plan.remove.map((r) => r.id)];
          expect(listed).toHaveLength(new Set(listed).size);
          expect([...listed].sort()).toEqual([...complete].sort());
        }
      }),
    );
  });

  it("never removes a favorite or a non-COMPLETE checkpoint", () => {
    fc.assert(
      fc.property(checkpoints, policy, options, (cps, p, o) => {
        const byId = new Map(cps.map((c) => [c.id, c]));
        for (const plan of planRetention(cps, p, o)) {
          for (const r of plan.remove) {
            expect(byId.get(r.id)!.favorite).toBe(false);
            expect(byId.get(r.id)!.state).toBe("COMPLETE");
          }
          for (const k of plan.keep) {
            expect(k.reasons.length).toBeGreaterThan(0);
            expect(k.reasons[0] === "favorite").toBe(byId.get(k.id)!.favorite === true);
          }
        }
        const favorites = cps.filter((c) => c.favorite && c.state === "COMPLETE").map((c) => c.id);
        const keptIds = new Set(
          planRetention(cps, p, o).flatMap((plan) => plan.keep.map((k) => k.id)),
        );
        for (const id of favorites) expect(keptIds.has(id)).toBe(true);
      }),
    );
  });

  it("lists both keep and remove newest first", () => {
    fc.assert(
      fc.property(checkpoints, policy, options, (cps, p, o) => {
        const byId = new Map(cps.map((c) => [c.id, c]));
        for (const plan of planRetention(cps, p, o)) {
          for (const list of [plan.keep, plan.remove]) {
            const times = list.map((e) => timeOf(byId.get(e.id)!));
            expect(times).toEqual([...times].sort((a, b) => b - a));
          }
        }
      }),
    );
  });

  it("refuses exactly the plans that remove everything, or too much without force", () => {
    fc.assert(
      fc.property(checkpoints, policy, options, (cps, p, o) => {
        for (const plan of planRetention(cps, p, o)) {
          const total = plan.keep.length + plan.remove.length;
          const all = total > 0 && plan.remove.length === total;
          const tooMany = !o.force && plan.remove.length > o.maxRemoveFraction * total;
          expect(plan.refused !== null).toBe(all || tooMany);
        }
      }),
    );
  });

  it("never removes a checkpoint that a smaller count kept when a count is raised", () => {
    const field = fc.constantFrom(
      "keepLast",
      "keepHourly",
      "keepDaily",
      "keepWeekly",
      "keepMonthly",
      "keepYearly",
    ) as fc.Arbitrary<
      "keepLast" | "keepHourly" | "keepDaily" | "keepWeekly" | "keepMonthly" | "keepYearly"
    >;
    fc.assert(
      fc.property(
        checkpoints,
        policy,
        field,
        fc.integer({ min: 1, max: 3 }),
        options,
        (cps, p, f, step, o) => {
          const before = p[f] ?? 0;
          if (before === -1) return;
          const raised = { ...p, [f]: step === 3 ? -1 : before + step };
          const keptIds = (pol: RetentionPolicyInput) =>
            new Set(planRetention(cps, pol, o).flatMap((plan) => plan.keep.map((k) => k.id)));
          const after = keptIds(raised);
          for (const id of keptIds(p)) expect(after.has(id)).toBe(true);
        },
      ),
    );
  });
});
