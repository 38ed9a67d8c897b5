import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import {
  planRetention,
  retentionBaseOf,
  RetentionBaseSchema,
  RetentionPolicySchema,
  type RetentionBase,
  type RetentionPlan,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

interface Entry {
  id: string;
  simulation: string;
  createdAt: string;
  completedAt: string;
  state: CheckpointState;
  metrics: Record<string, number>;
}

/**
 * One simulation's catalog and the share guard's memory of it, as the prune use case keeps them:
 * a checkpoint completes a minute after it is taken, a run that is not refused records its base
 * and then removes what it planned (all of it, unless told to leave some, as a removal waiting for
 * its archive copy does).
 */
class World {
  readonly entries: Entry[] = [];
  base: RetentionBase | undefined;
  runs = 0;

  constructor(public policy: RetentionPolicyInput) {}

  /** A checkpoint stamped `at` (ms), completed at `completedAt` (a minute later by default). */
  take(at: number, completedAt = at + MINUTE): void {
    this.entries.push({
      id: `cp-${this.entries.length}`,
      simulation: "ocean",
      createdAt: iso(at),
      completedAt: iso(completedAt),
      state: "COMPLETE",
      // A noisy loss, the same for the same position in every world.
      metrics: { loss: ((this.entries.length * 7919) % 101) / 101 },
    });
  }

  complete(): Entry[] {
    return this.entries.filter((e) => e.state === "COMPLETE");
  }

  /** A run at `now`: the plan, with its base recorded and its removals carried out when approved. */
  prune(now: number, options: { force?: boolean; leave?: (id: string) => boolean } = {}) {
    const candidates = this.complete();
    const [plan] = planRetention(candidates, this.policy, {
      now: new Date(now),
      force: options.force,
      maxRemoveFraction: 0.5,
      base: () => this.base,
    }) as [RetentionPlan];
    const run = { scope: "checkpoints" as const, simulation: "ocean", now: new Date(now) };
    const runId = `run-${++this.runs}`;
    // A refused first run records a base that approves nothing, as the use cases do.
    if (plan.refused !== null && this.base === undefined) {
      this.base = retentionBaseOf({ ...run, runId }, candidates);
    }
    if (plan.refused === null) {
      const policy = RetentionPolicySchema.parse(this.policy);
      this.base = retentionBaseOf({ ...run, runId }, candidates, policy);
      const doomed = new Set(plan.remove.map((r) => r.id));
      for (const entry of this.entries) {
        if (doomed.has(entry.id) && !options.leave?.(entry.id)) entry.state = "DELETED";
      }
    }
    return plan;
  }
}

/** A world in its steady state: `count` hourly checkpoints, each pruned after it completed. */
function steady(policy: RetentionPolicyInput, count: number): { world: World; at: number } {
  const world = new World(policy);
  let at = T0;
  for (let i = 0; i < count; i++, at += HOUR) {
    world.take(at);
    expect(world.prune(at + 2 * MINUTE).refused).toBeNull();
  }
  return { world, at };
}

describe("the share guard with a base (the last approved run)", () => {
  it("lets two completions in one debounce window through (3 of 5 with keepLast 2)", () => {
    const { world, at } = steady({ keepLast: 2 }, 4);
    for (const offset of [0, 20, 40]) world.take(at + offset * MINUTE);
    const plan = world.prune(at + 45 * MINUTE);
    expect(plan.remove).toHaveLength(3);
    expect(plan.keep).toHaveLength(2);
    expect(plan.refused).toBeNull();
    // and the steady state goes on afterwards, never refused again.
    for (let i = 1; i <= 5; i++) {
      world.take(at + i * HOUR);
      expect(world.prune(at + i * HOUR + 2 * MINUTE).refused).toBeNull();
    }
    expect(world.complete()).toHaveLength(2);
  });

  it("refuses that very plan without a base, as on a first run", () => {
    const { world, at } = steady({ keepLast: 2 }, 4);
    for (const offset of [0, 20, 40]) world.take(at + offset * MINUTE);
    world.base = undefined;
    expect(world.prune(at + 45 * MINUTE).refused).toBe(
      "the policy would remove 3 of 5 COMPLETE checkpoints of ocean (60%), more than the " +
        "allowed 50%; force the run to allow it",
    );
  });

  it("does not lock out a simulation whose first run was refused (a fast first window)", () => {
    const world = new World({ keepLast: 2 });
    for (let i = 0; i < 15; i++) world.take(T0 + i * 4 * 1000);
    expect(world.prune(T0 + 2 * MINUTE).refused).toMatch(/remove 13 of 15 .* \(87%\)/);
    expect(world.base?.at).toBe(iso(T0 + 2 * MINUTE));
    expect(world.base?.policy).toBeUndefined();
    // What the refused run saw stays counted; what arrives after it rolls through.
    for (let i = 0; i < 15; i++) world.take(T0 + 3 * MINUTE + i * 4 * 1000);
    const plan = world.prune(T0 + 5 * MINUTE);
    expect(plan.refused).toBeNull();
    expect(world.complete()).toHaveLength(2);
  });

  it("keeps refusing a first run on a large catalog while few checkpoints arrive", () => {
    const world = new World({ keepLast: 2 });
    for (let i = 0; i < 20; i++) world.take(T0 + i * HOUR, T0 + 20 * HOUR);
    const at = T0 + 20 * HOUR + MINUTE;
    expect(world.prune(at).refused).toMatch(
      /remove 18 of 20 COMPLETE checkpoints of ocean \(90%\)/,
    );
    world.take(at + HOUR);
    expect(world.prune(at + HOUR + 2 * MINUTE).refused).toBe(
      "the policy would remove 19 of 21 COMPLETE checkpoints of ocean, 18 of them (86%) not " +
        "pushed out by the 1 newer checkpoints since its refused first run " +
        "(2026-11-01T20:01:00.000Z), more than the allowed 50%; force the run to allow it",
    );
    expect(world.prune(at + HOUR + 3 * MINUTE, { force: true }).refused).toBeNull();
    expect(world.base?.policy).toEqual(RetentionPolicySchema.parse({ keepLast: 2 }));
  });

  it("lets a backlog after an outage through without force (48 new, keepLast 2)", () => {
    const { world, at } = steady({ keepLast: 2, keepDaily: 3 }, 30);
    for (let i = 0; i < 48; i++) world.take(at + i * HOUR);
    const plan = world.prune(at + 48 * HOUR);
    expect(plan.refused).toBeNull();
    expect(plan.remove.length).toBeGreaterThan(0.5 * (plan.remove.length + plan.keep.length));
  });

  it("still refuses a policy change that would remove a large share", () => {
    const { world, at } = steady({ keepLast: 10 }, 12);
    world.policy = { keepLast: 2 };
    world.take(at);
    const plan = world.prune(at + 2 * MINUTE);
    expect(plan.refused).toBe(
      "the policy would remove 9 of 11 COMPLETE checkpoints of ocean, 8 of them (73%) neither " +
        "approved by its last approved run (2026-11-01T11:02:00.000Z) nor pushed out by the 1 " +
        "newer checkpoints since (a changed policy or clock, or checkpoints out of order?), more " +
        "than the allowed 50%; force the run to allow it",
    );
    expect(world.complete()).toHaveLength(11);
    // Forced once, the new policy is the base, and its steady state passes again.
    expect(world.prune(at + 3 * MINUTE, { force: true }).refused).toBeNull();
    world.take(at + HOUR);
    expect(world.prune(at + HOUR + 2 * MINUTE).refused).toBeNull();
    expect(world.complete()).toHaveLength(2);
  });

  it("lets a policy change through when it removes no more than the share", () => {
    const { world, at } = steady({ keepLast: 10 }, 12);
    world.policy = { keepLast: 6 };
    world.take(at);
    expect(world.prune(at + 2 * MINUTE).refused).toBeNull();
  });

  it("refuses old checkpoints imported after the base (out of order), however many are new", () => {
    const { world, at } = steady({ keepLast: 3 }, 5);
    // 20 checkpoints from last month, cataloged now (an import, a late discovery).
    for (let i = 0; i < 20; i++) {
      world.entries.push({
        id: `old-${i}`,
        simulation: "ocean",
        createdAt: iso(T0 - (30 - i) * 24 * HOUR),
        completedAt: iso(at),
        state: "COMPLETE",
        metrics: {},
      });
    }
    world.take(at);
    const plan = world.prune(at + 2 * MINUTE);
    expect(plan.refused).toMatch(/remove 21 of 24 COMPLETE checkpoints of ocean, 20 of them/);
  });

  it("refuses checkpoints stamped in the future pushing the kept ones out (a clock jump)", () => {
    const { world, at } = steady({ keepDaily: 10 }, 10 * 24);
    // 12 checkpoints from a clock a year ahead: each takes a day of keepDaily.
    for (let i = 0; i < 12; i++) world.take(at + 365 * 24 * HOUR + i * 24 * HOUR, at - MINUTE);
    expect(world.prune(at).refused).toMatch(/remove 12 of 22 COMPLETE .* 12 of them \(55%\)/);
    // The same 12 days of checkpoints, taken in time (a backlog), pass.
    const backlog = steady({ keepDaily: 10 }, 10 * 24);
    for (let i = 0; i < 12; i++) backlog.world.take(backlog.at + i * 24 * HOUR);
    expect(backlog.world.prune(backlog.at + 12 * 24 * HOUR).refused).toBeNull();
  });

  it("refuses when the clock moves the kept ones out (keepWithin from a newest in the future)", () => {
    const { world, at } = steady({ keepWithin: "2d" }, 48);
    // A checkpoint stamped a week ahead is kept (in the future, it moves no cutoff)...
    world.take(at + 7 * 24 * HOUR, at - MINUTE);
    expect(world.prune(at).refused).toBeNull();
    // ...until the clock reaches it: every checkpoint of the two days before is then outside.
    const later = at + 7 * 24 * HOUR + 2 * HOUR;
    world.take(at + HOUR, at + HOUR + MINUTE);
    expect(world.prune(later).refused).toMatch(/remove 49 of 50 COMPLETE .* 48 of them/);
  });

  it("lets later arrivals through once a checkpoint stamped in the future was kept", () => {
    const { world, at } = steady({ keepLast: 2 }, 4);
    world.take(Date.parse("2036-01-01T00:00:00.000Z"), at - MINUTE);
    expect(world.prune(at).refused).toBeNull();
    for (const offset of [0, 20, 40]) world.take(at + offset * MINUTE);
    expect(world.prune(at + 45 * MINUTE).refused).toBeNull();
  });

  it("does not count removals the base approved but could not finish (awaiting an archive)", () => {
    const world = new World({ keepLast: 2 });
    let at = T0;
    world.take(at);
    world.prune(at + 2 * MINUTE);
    // Every removal waits for its archive copy for a day: they pile up, approved.
    for (let i = 1; i <= 24; i++) {
      at += HOUR;
      world.take(at);
      expect(world.prune(at + 2 * MINUTE, { leave: () => true }).refused).toBeNull();
    }
    expect(world.complete()).toHaveLength(25);
    at += HOUR;
    world.take(at);
    const plan = world.prune(at + 2 * MINUTE);
    expect(plan.refused).toBeNull();
    expect(plan.remove).toHaveLength(24);
  });

  it("keeps the remove-all guard, forced or not, with a base", () => {
    const { world, at } = steady({ keepTags: [["gold"]], keepLast: 1 }, 3);
    world.policy = { keepTags: [["gold"]] };
    world.take(at);
    expect(world.prune(at + 2 * MINUTE, { force: true }).refused).toMatch(
      /would remove all 2 COMPLETE checkpoints of ocean/,
    );
  });

  it("records no base for a simulation without COMPLETE checkpoints", () => {
    const policy = RetentionPolicySchema.parse({ keepLast: 1 });
    const run = { scope: "checkpoints" as const, simulation: "s", runId: "r", now: new Date(T0) };
    expect(retentionBaseOf(run, [], policy)).toBeUndefined();
    const base = retentionBaseOf(
      run,
      [
        { id: "a", simulation: "s", createdAt: iso(T0 - HOUR), state: "COMPLETE" },
        { id: "b", simulation: "s", createdAt: iso(T0 + HOUR), state: "PENDING" },
      ],
      policy,
    );
    expect(base).toEqual({ ...run, now: undefined, at: iso(T0), newest: iso(T0 - HOUR), policy });
    expect(RetentionBaseSchema.parse(JSON.parse(JSON.stringify(base)))).toEqual(base);
  });
});

describe("the share guard's steady state (property)", () => {
  const policy: fc.Arbitrary<RetentionPolicyInput> = fc
    .record({
      keepLast: fc.integer({ min: 0, max: 4 }),
      keepHourly: fc.integer({ min: 0, max: 4 }),
      keepDaily: fc.integer({ min: 0, max: 3 }),
      keepWithin: fc.constantFrom(undefined, "2h", "1d"),
      best: fc.integer({ min: 0, max: 2 }),
    })
    .filter(
      (p) => p.keepLast + p.keepHourly + p.keepDaily + p.best > 0 || p.keepWithin !== undefined,
    )
    .map(({ best, ...p }) => ({
      ...p,
      ...(best > 0 ? { keepBest: { metric: "loss", mode: "min" as const, count: best } } : {}),
    }));

  it("never refuses an unchanged policy fed checkpoints in time order, in any batches", () => {
    let lockouts = 0;
    fc.assert(
      fc.property(
        policy,
        fc.array(
          fc.record({
            taken: fc.array(fc.integer({ min: 1, max: 180 }), { maxLength: 6 }),
            leaveSome: fc.boolean(),
          }),
          { maxLength: 25 },
        ),
        (rules, batches) => {
          const world = new World(rules);
          let at = T0;
          world.take(at);
          expect(world.prune(at + 2 * MINUTE).refused).toBeNull();
          for (const { taken, leaveSome } of batches) {
            for (const gap of taken) world.take((at += gap * MINUTE));
            at += 2 * MINUTE;
            const [firstRun] = planRetention(world.complete(), rules, { now: new Date(at) });
            if (firstRun?.refused) lockouts++;
            // Some removals are left, as one waiting for its archive copy is.
            const leave = (id: string) => leaveSome && Number(id.slice(3)) % 3 === 0;
            expect(world.prune(at, { leave }).refused).toBeNull();
          }
        },
      ),
      { numRuns: 300 },
    );
    // Without a base, many of these runs would have been refused: the property is not vacuous.
    expect(lockouts).toBeGreaterThan(100);
  });

  it("lets a simulation through once as many checkpoints arrived as its refused first run saw", () => {
    let refusedFirst = 0;
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        (rules, first, batch) => {
          const world = new World(rules);
          let at = T0;
          for (let i = 0; i < first; i++) world.take((at += 5 * MINUTE));
          let refused = world.prune((at += 2 * MINUTE)).refused;
          if (refused !== null) refusedFirst++;
          for (let arrived = 0; arrived < first;) {
            for (let i = 0; i < batch; i++, arrived++) world.take((at += 5 * MINUTE));
            refused = world.prune((at += 2 * MINUTE)).refused;
          }
          expect(refused).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
    expect(refusedFirst).toBeGreaterThan(50);
  });
});
