import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import {
  globToRegExp,
  matchesGlob,
  planRetention,
  policyFor,
  RetentionConfigSchema,
  RetentionPolicySchema,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPlanOptions,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { kept, planOne as planWith, removed } from "../../support/retention-plan.ts";

interface Spec {
  at: string;
  id?: string;
  tags?: string[];
  favorite?: boolean;
  state?: CheckpointState;
  simulation?: string;
}

const candidates = (specs: readonly Spec[]): RetentionCandidate[] =>
  specs.map((s) => ({
    id: s.id ?? s.at,
    simulation: s.simulation ?? "sim",
    createdAt: s.at,
    state: s.state ?? "COMPLETE",
    favorite: s.favorite ?? false,
    tags: s.tags ?? [],
  }));

const NOW = new Date("2030-01-01T00:00:00Z");

function planOne(
  specs: readonly Spec[],
  policy: RetentionPolicyInput,
  options: Partial<RetentionPlanOptions> = {},
): RetentionPlan {
  return planWith(candidates(specs), policy, NOW, options);
}

// restic's `testExpireSnapshots` (internal/restic/snapshot_policy_test.go), in its order.
const RESTIC_SNAPSHOTS: Spec[] = (
  [
    ["2014-09-01 10:20:30"],
    ["2014-09-02 10:20:30"],
    ["2014-09-05 10:20:30"],
    ["2014-09-06 10:20:30"],
    ["2014-09-08 10:20:30"],
    ["2014-09-09 10:20:30"],
    ["2014-09-10 10:20:30"],
    ["2014-09-11 10:20:30"],
    ["2014-09-20 10:20:30"],
    ["2014-09-22 10:20:30"],
    ["2014-08-08 10:20:30"],
    ["2014-08-10 10:20:30"],
    ["2014-08-12 10:20:30"],
    ["2014-08-13 10:20:30"],
    ["2014-08-13 10:20:30.1"],
    ["2014-08-15 10:20:30"],
    ["2014-08-18 10:20:30"],
    ["2014-08-20 10:20:30"],
    ["2014-08-21 10:20:30"],
    ["2014-08-22 10:20:30"],
    ["2014-10-01 10:20:30", ["foo"]],
    ["2014-10-02 10:20:30", ["foo"]],
    ["2014-10-05 10:20:30", ["foo"]],
    ["2014-10-06 10:20:30", ["foo"]],
    ["2014-10-08 10:20:30", ["foo"]],
    ["2014-10-09 10:20:30", ["foo"]],
    ["2014-10-10 10:20:30", ["foo"]],
    ["2014-10-11 10:20:30", ["foo"]],
    ["2014-10-20 10:20:30", ["foo"]],
    ["2014-10-22 10:20:30", ["foo"]],
    ["2014-11-08 10:20:30", ["foo"]],
    ["2014-11-10 10:20:30", ["foo"]],
    ["2014-11-12 10:20:30", ["foo"]],
    ["2014-11-13 10:20:30", ["foo"]],
    ["2014-11-13 10:20:30.1", ["bar"]],
    ["2014-11-15 10:20:30", ["foo", "bar"]],
    ["2014-11-18 10:20:30"],
    ["2014-11-20 10:20:30"],
    ["2014-11-21 10:20:30"],
    ["2014-11-22 10:20:30"],
    ["2015-09-01 10:20:30"],
    ["2015-09-02 10:20:30"],
    ["2015-09-05 10:20:30"],
    ["2015-09-06 10:20:30"],
    ["2015-09-08 10:20:30"],
    ["2015-09-09 10:20:30"],
    ["2015-09-10 10:20:30"],
    ["2015-09-11 10:20:30"],
    ["2015-09-20 10:20:30"],
    ["2015-09-22 10:20:30"],
    ["2015-08-08 10:20:30"],
    ["2015-08-10 10:20:30"],
    ["2015-08-12 10:20:30"],
    ["2015-08-13 10:20:30"],
    ["2015-08-13 10:20:30.1"],
    ["2015-08-15 10:20:30"],
    ["2015-08-18 10:20:30"],
    ["2015-08-20 10:20:30"],
    ["2015-08-21 10:20:30"],
    ["2015-08-22 10:20:30"],
    ["2015-10-01 10:20:30"],
    ["2015-10-02 10:20:30"],
    ["2015-10-05 10:20:30"],
    ["2015-10-06 10:20:30"],
    ["2015-10-08 10:20:30"],
    ["2015-10-09 10:20:30"],
    ["2015-10-10 10:20:30"],
    ["2015-10-11 10:20:30"],
    ["2015-10-20 10:20:30"],
    ["2015-10-22 10:20:30"],
    ["2015-10-22 10:20:30"],
    ["2015-10-22 10:20:30", ["foo", "bar"]],
    ["2015-10-22 10:20:30", ["foo", "bar"]],
    ["2015-10-22 10:20:30", ["foo", "bar"]],
    ["2015-11-08 10:20:30"],
    ["2015-11-10 10:20:30"],
    ["2015-11-12 10:20:30"],
    ["2015-11-13 10:20:30"],
    ["2015-11-13 10:20:30.1"],
    ["2015-11-15 10:20:30"],
    ["2015-11-18 10:20:30"],
    ["2015-11-20 10:20:30"],
    ["2015-11-21 10:20:30"],
    ["2015-11-22 10:20:30"],
    ["2016-01-01 01:02:03"],
    ["2016-01-01 01:03:03"],
    ["2016-01-01 07:08:03"],
    ["2016-01-03 07:02:03"],
    ["2016-01-04 10:23:03"],
    ["2016-01-04 11:23:03"],
    ["2016-01-04 12:23:03"],
    ["2016-01-04 12:24:03"],
    ["2016-01-04 12:28:03"],
    ["2016-01-04 12:30:03"],
    ["2016-01-04 16:23:03"],
    ["2016-01-05 09:02:03"],
    ["2016-01-06 08:02:03"],
    ["2016-01-07 10:02:03"],
    ["2016-01-08 20:02:03"],
    ["2016-01-09 21:02:03"],
    ["2016-01-12 21:02:03"],
    ["2016-01-12 21:08:03"],
    ["2016-01-18 12:02:03"],
  ] as [string, string[]?][]
).map(([time, tags], i) => ({ id: `s${i}`, at: `${time.replace(" ", "T")}Z`, tags }));

const timeOf = new Map(RESTIC_SNAPSHOTS.map((s) => [s.id, s.at.slice(0, 19)]));
/** `[time, reasons]` of kept snapshots, the shape of restic's golden files. */
const resticKept = (policy: RetentionPolicyInput): [string, string[]][] =>
  planOne(RESTIC_SNAPSHOTS, policy, { force: true }).keep.map((k) => [
    timeOf.get(k.id)!,
    k.reasons,
  ]);

describe("restic's golden files (internal/restic/testdata/policy_keep_snapshots_N)", () => {
  it("14: keep-monthly 6", () => {
    expect(resticKept({ keepMonthly: 6 })).toEqual([
      ["2016-01-18T12:02:03", ["monthly snapshot"]],
      ["2015-11-22T10:20:30", ["monthly snapshot"]],
      ["2015-10-22T10:20:30", ["monthly snapshot"]],
      ["2015-09-22T10:20:30", ["monthly snapshot"]],
      ["2015-08-22T10:20:30", ["monthly snapshot"]],
      ["2014-11-22T10:20:30", ["monthly snapshot"]],
    ]);
  });

  it("15: keep-daily 2, keep-weekly 2, keep-monthly 6 (one snapshot fills several rules)", () => {
    expect(resticKept({ keepDaily: 2, keepWeekly: 2, keepMonthly: 6 })).toEqual([
      ["2016-01-18T12:02:03", ["daily snapshot", "weekly snapshot", "monthly snapshot"]],
      ["2016-01-12T21:08:03", ["daily snapshot", "weekly snapshot"]],
      ["2015-11-22T10:20:30", ["monthly snapshot"]],
      ["2015-10-22T10:20:30", ["monthly snapshot"]],
      ["2015-09-22T10:20:30", ["monthly snapshot"]],
      ["2015-08-22T10:20:30", ["monthly snapshot"]],
      ["2014-11-22T10:20:30", ["monthly snapshot"]],
    ]);
  });

  it("16: keep-yearly 10 keeps the oldest snapshot while the count is not filled", () => {
    expect(resticKept({ keepYearly: 10 })).toEqual([
      ["2016-01-18T12:02:03", ["yearly snapshot"]],
      ["2015-11-22T10:20:30", ["yearly snapshot"]],
      ["2014-11-22T10:20:30", ["yearly snapshot"]],
      ["2014-08-08T10:20:30", ["oldest yearly snapshot"]],
    ]);
  });

  it("19: keep-tag foo,bar keeps exactly the snapshots that have both tags", () => {
    expect(resticKept({ keepTags: [["foo", "bar"]] })).toEqual([
      ["2015-10-22T10:20:30", ["has tags [foo, bar]"]],
      ["2015-10-22T10:20:30", ["has tags [foo, bar]"]],
      ["2015-10-22T10:20:30", ["has tags [foo, bar]"]],
      ["2014-11-15T10:20:30", ["has tags [foo, bar]"]],
    ]);
  });

  it("32: keep-within-weekly 1y2m3d3h", () => {
    const weekly = ["weekly within 1y2m3d3h"];
    expect(resticKept({ keepWithinWeekly: "1y2m3d3h" })).toEqual(
      [
        "2016-01-18T12:02:03",
        "2016-01-12T21:08:03",
        "2016-01-09T21:02:03",
        "2016-01-03T07:02:03",
        "2015-11-22T10:20:30",
        "2015-11-15T10:20:30",
        "2015-11-08T10:20:30",
        "2015-10-22T10:20:30",
        "2015-10-11T10:20:30",
        "2015-10-02T10:20:30",
        "2015-09-22T10:20:30",
        "2015-09-20T10:20:30",
        "2015-09-11T10:20:30",
        "2015-09-06T10:20:30",
        "2015-08-22T10:20:30",
        "2015-08-15T10:20:30",
        "2015-08-08T10:20:30",
        "2014-11-22T10:20:30",
        "2014-11-15T10:20:30",
      ].map((t) => [t, weekly]),
    );
  });

  it("35: every within rule at once, with the oldest kept by keep-within-yearly", () => {
    expect(
      resticKept({
        keepWithin: "1h",
        keepWithinHourly: "1d",
        keepWithinDaily: "7d",
        keepWithinWeekly: "1m",
        keepWithinMonthly: "1y",
        keepWithinYearly: "9999y",
      }),
    ).toEqual([
      [
        "2016-01-18T12:02:03",
        [
          "within 1h",
          "hourly within 1d",
          "daily within 7d",
          "weekly within 1m",
          "monthly within 1y",
          "yearly within 9999y",
        ],
      ],
      ["2016-01-12T21:08:03", ["daily within 7d", "weekly within 1m"]],
      ["2016-01-09T21:02:03", ["weekly within 1m"]],
      ["2016-01-03T07:02:03", ["weekly within 1m"]],
      ["2015-11-22T10:20:30", ["monthly within 1y", "yearly within 9999y"]],
      ["2015-10-22T10:20:30", ["monthly within 1y"]],
      ["2015-09-22T10:20:30", ["monthly within 1y"]],
      ["2015-08-22T10:20:30", ["monthly within 1y"]],
      ["2014-11-22T10:20:30", ["yearly within 9999y"]],
      ["2014-08-08T10:20:30", ["oldest yearly within 9999y"]],
    ]);
  });

  it("39: keep-daily 3, keep-weekly 2, unlimited monthly and yearly", () => {
    expect(resticKept({ keepDaily: 3, keepWeekly: 2, keepMonthly: -1, keepYearly: -1 })).toEqual([
      [
        "2016-01-18T12:02:03",
        ["daily snapshot", "weekly snapshot", "monthly snapshot", "yearly snapshot"],
      ],
      ["2016-01-12T21:08:03", ["daily snapshot", "weekly snapshot"]],
      ["2016-01-09T21:02:03", ["daily snapshot"]],
      ["2015-11-22T10:20:30", ["monthly snapshot", "yearly snapshot"]],
      ["2015-10-22T10:20:30", ["monthly snapshot"]],
      ["2015-09-22T10:20:30", ["monthly snapshot"]],
      ["2015-08-22T10:20:30", ["monthly snapshot"]],
      ["2014-11-22T10:20:30", ["monthly snapshot", "yearly snapshot"]],
      ["2014-10-22T10:20:30", ["monthly snapshot"]],
      ["2014-09-22T10:20:30", ["monthly snapshot"]],
      ["2014-08-22T10:20:30", ["monthly snapshot"]],
      ["2014-08-08T10:20:30", ["oldest monthly snapshot", "oldest yearly snapshot"]],
    ]);
  });
});

describe("count rules", () => {
  it("keepLast counts every checkpoint, even two taken at the same instant", () => {
    const plan = planOne(
      [
        { id: "a", at: "2026-01-01T10:00:00Z" },
        { id: "b", at: "2026-01-01T10:00:00Z" },
        { id: "c", at: "2026-01-01T09:00:00Z" },
      ],
      { keepLast: 2 },
    );
    expect(kept(plan)).toEqual([
      ["a", ["last snapshot"]],
      ["b", ["last snapshot"]],
    ]);
    expect(removed(plan)).toEqual(["c"]);
  });

  it("keepLast -1 keeps everything", () => {
    const plan = planOne([{ at: "2026-01-02T00:00:00Z" }, { at: "2026-01-01T00:00:00Z" }], {
      keepLast: -1,
    });
    expect(plan.keep.map((k) => k.reasons)).toEqual([["last snapshot"], ["last snapshot"]]);
    expect(plan.remove).toEqual([]);
  });

  it("keepHourly keeps the newest checkpoint of each hour", () => {
    const plan = planOne(
      [
        { id: "h11", at: "2026-01-01T11:10:00Z" },
        { id: "h10b", at: "2026-01-01T10:59:59Z" },
        { id: "h10a", at: "2026-01-01T10:00:00Z" },
        { id: "h08", at: "2026-01-01T08:30:00Z" },
      ],
      { keepHourly: 3 },
    );
    expect(kept(plan)).toEqual([
      ["h11", ["hourly snapshot"]],
      ["h10b", ["hourly snapshot"]],
      ["h08", ["hourly snapshot"]],
    ]);
    expect(removed(plan)).toEqual(["h10a"]);
  });

  it("keepDaily skips days without checkpoints instead of counting them", () => {
    const plan = planOne(
      [
        { id: "d10", at: "2026-01-10T12:00:00Z" },
        { id: "d09", at: "2026-01-09T12:00:00Z" },
        { id: "d05", at: "2026-01-05T12:00:00Z" },
        { id: "d01", at: "2026-01-01T12:00:00Z" },
      ],
      { keepDaily: 3 },
    );
    expect(plan.keep.map((k) => k.id)).toEqual(["d10", "d09", "d05"]);
    expect(removed(plan)).toEqual(["d01"]);
  });

  it("keepMonthly and keepYearly keep the newest of each month and year", () => {
    const specs = [
      { id: "2026-02", at: "2026-02-01T00:00:00Z" },
      { id: "2026-01b", at: "2026-01-31T23:59:59Z" },
      { id: "2026-01a", at: "2026-01-01T00:00:00Z" },
      { id: "2025-12", at: "2025-12-31T23:00:00Z" },
      { id: "2025-06", at: "2025-06-15T00:00:00Z" },
    ];
    expect(planOne(specs, { keepMonthly: 3 }).keep.map((k) => k.id)).toEqual([
      "2026-02",
      "2026-01b",
      "2025-12",
    ]);
    expect(kept(planOne(specs, { keepYearly: 1 }))).toEqual([["2026-02", ["yearly snapshot"]]]);
  });

  it("lets one checkpoint fill a slot of every rule it satisfies", () => {
    const plan = planOne(
      [
        { id: "new", at: "2026-01-02T10:00:00Z" },
        { id: "same-day", at: "2026-01-02T09:00:00Z" },
        { id: "day-before", at: "2026-01-01T10:00:00Z" },
        { id: "older", at: "2025-12-31T10:00:00Z" },
      ],
      { keepLast: 1, keepDaily: 2 },
    );
    expect(kept(plan)).toEqual([
      ["new", ["last snapshot", "daily snapshot"]],
      ["day-before", ["daily snapshot"]],
    ]);
    expect(removed(plan)).toEqual(["same-day", "older"]);
  });
});

describe("the oldest rule", () => {
  const days = [
    { id: "d3", at: "2026-01-03T12:00:00Z" },
    { id: "d2", at: "2026-01-02T12:00:00Z" },
    { id: "d1-late", at: "2026-01-01T18:00:00Z" },
    { id: "d1-early", at: "2026-01-01T08:00:00Z" },
  ];

  it("keeps the oldest checkpoint for every rule still short of its count", () => {
    expect(kept(planOne(days, { keepDaily: 5, keepWeekly: 4, keepLast: 1 }))).toEqual([
      ["d3", ["last snapshot", "daily snapshot", "weekly snapshot"]],
      ["d2", ["daily snapshot"]],
      ["d1-late", ["daily snapshot"]],
      ["d1-early", ["oldest daily snapshot", "oldest weekly snapshot"]],
    ]);
  });

  it("does not keep the oldest once the count is filled", () => {
    const plan = planOne(days, { keepDaily: 3 });
    expect(plan.keep.map((k) => k.id)).toEqual(["d3", "d2", "d1-late"]);
    expect(removed(plan)).toEqual(["d1-early"]);
  });

  it("gives the plain reason when the oldest opens a period of its own", () => {
    expect(kept(planOne(days.slice(0, 3), { keepDaily: 5 })).at(-1)).toEqual([
      "d1-late",
      ["daily snapshot"],
    ]);
  });

  it("applies to within rules whose window holds the oldest checkpoint", () => {
    expect(kept(planOne(days, { keepWithinDaily: "7d" }))).toEqual([
      ["d3", ["daily within 7d"]],
      ["d2", ["daily within 7d"]],
      ["d1-late", ["daily within 7d"]],
      ["d1-early", ["oldest daily within 7d"]],
    ]);
    expect(planOne(days, { keepWithinDaily: "2d" }).keep.map((k) => k.id)).toEqual([
      "d3",
      "d2",
      "d1-late",
    ]);
  });
});

describe("ISO weeks", () => {
  it("puts 2020-12-31 and 2021-01-01 in 2020-W53 and 2021-01-04 in 2021-W01", () => {
    const plan = planOne(
      [
        { id: "2021-01-04", at: "2021-01-04T00:00:00Z" },
        { id: "2021-01-03", at: "2021-01-03T23:59:59Z" },
        { id: "2021-01-01", at: "2021-01-01T12:00:00Z" },
        { id: "2020-12-31", at: "2020-12-31T12:00:00Z" },
        { id: "2020-12-27", at: "2020-12-27T12:00:00Z" },
      ],
      { keepWeekly: -1 },
    );
    expect(plan.keep.map((k) => k.id)).toEqual(["2021-01-04", "2021-01-03", "2020-12-27"]);
    expect(removed(plan)).toEqual(["2021-01-01", "2020-12-31"]);
  });

  it("puts 2019-12-30 in week-year 2020 (W01) with 2020-01-05, apart from 2019-12-29", () => {
    const plan = planOne(
      [
        { id: "2020-01-06", at: "2020-01-06T00:00:00Z" },
        { id: "2020-01-05", at: "2020-01-05T00:00:00Z" },
        { id: "2019-12-30", at: "2019-12-30T00:00:00Z" },
        { id: "2019-12-29", at: "2019-12-29T00:00:00Z" },
      ],
      { keepWeekly: -1 },
    );
    expect(plan.keep.map((k) => k.id)).toEqual(["2020-01-06", "2020-01-05", "2019-12-29"]);
    expect(removed(plan)).toEqual(["2019-12-30"]);
  });

  it("starts weeks on Monday", () => {
    const plan = planOne(
      [
        { id: "mon", at: "2026-01-05T00:00:00Z" },
        { id: "sun", at: "2026-01-04T23:00:00Z" },
        { id: "sat", at: "2026-01-03T00:00:00Z" },
      ],
      { keepWeekly: 2 },
    );
    expect(plan.keep.map((k) => k.id)).toEqual(["mon", "sun"]);
  });
});

describe("within rules", () => {
  it("measure back from the newest checkpoint, so a stalled schedule ages nothing out", () => {
    const plan = planOne(
      [
        { id: "last", at: "2026-01-10T12:00:00Z" },
        { id: "in", at: "2026-01-08T12:00:01Z" },
        { id: "edge", at: "2026-01-08T12:00:00Z" },
        { id: "out", at: "2026-01-07T00:00:00Z" },
      ],
      { keepWithin: "2d" },
      { now: new Date("2027-06-01T00:00:00Z") },
    );
    expect(kept(plan)).toEqual([
      ["last", ["within 2d"]],
      ["in", ["within 2d"]],
    ]);
    expect(removed(plan)).toEqual(["edge", "out"]);
  });

  it("use calendar months: one month before 31 March 2021 is 3 March", () => {
    const specs = [
      { id: "latest", at: "2021-03-31T12:00:00Z" },
      { id: "after", at: "2021-03-03T12:00:01Z" },
      { id: "cutoff", at: "2021-03-03T12:00:00Z" },
      { id: "feb-28", at: "2021-02-28T12:00:00Z" },
    ];
    const plan = planOne(specs, { keepWithin: "1m" });
    expect(plan.keep.map((k) => k.id)).toEqual(["latest", "after"]);
    expect(removed(plan)).toEqual(["cutoff", "feb-28"]);
  });

  it("use the leap day: one month before 31 March 2020 is 2 March", () => {
    const plan = planOne(
      [
        { id: "latest", at: "2020-03-31T12:00:00Z" },
        { id: "mar-2-after", at: "2020-03-02T12:00:01Z" },
        { id: "mar-2-cutoff", at: "2020-03-02T12:00:00Z" },
      ],
      { keepWithin: "1m" },
    );
    expect(plan.keep.map((k) => k.id)).toEqual(["latest", "mar-2-after"]);
  });

  it("keep the newest of each period inside the window only", () => {
    const plan = planOne(
      [
        { id: "h12b", at: "2026-01-02T12:30:00Z" },
        { id: "h12a", at: "2026-01-02T12:10:00Z" },
        { id: "h11", at: "2026-01-02T11:00:00Z" },
        { id: "yesterday", at: "2026-01-01T09:00:00Z" },
        { id: "old", at: "2025-12-01T09:00:00Z" },
      ],
      { keepWithinHourly: "1d" },
    );
    expect(kept(plan)).toEqual([
      ["h12b", ["hourly within 1d"]],
      ["h11", ["hourly within 1d"]],
    ]);
    expect(removed(plan)).toEqual(["h12a", "yesterday", "old"]);
  });

  it("state the duration in restic's canonical spelling", () => {
    const plan = planOne([{ at: "2026-01-02T00:00:00Z" }], { keepWithinMonthly: "0y12m0d" });
    expect(plan.keep[0]!.reasons).toEqual(["monthly within 12m"]);
  });
});

describe("future-dated checkpoints", () => {
  const specs = [
    { id: "future", at: "2026-03-01T00:00:00Z" },
    { id: "now", at: "2026-02-01T00:00:00Z" },
    { id: "recent", at: "2026-01-31T12:00:00Z" },
    { id: "old", at: "2026-01-20T00:00:00Z" },
  ];
  const now = new Date("2026-02-01T00:00:00Z");

  it("do not move the within window: it starts at the newest checkpoint not in the future", () => {
    const plan = planOne(specs, { keepWithin: "1d" }, { now });
    expect(kept(plan)).toEqual([
      ["future", ["within 1d"]],
      ["now", ["within 1d"]],
      ["recent", ["within 1d"]],
    ]);
    expect(removed(plan)).toEqual(["old"]);
  });

  it("still take count slots, as in restic (newest first by time)", () => {
    const plan = planOne(specs, { keepLast: 2 }, { now });
    expect(plan.keep.map((k) => k.id)).toEqual(["future", "now"]);
  });

  it("count a checkpoint taken exactly at now as not in the future", () => {
    const plan = planOne(
      [...specs.slice(1, 3), { id: "between", at: "2026-01-30T18:00:00Z" }],
      { keepWithin: "1d" },
      { now },
    );
    expect(removed(plan)).toEqual(["between"]);
  });

  it("leave every checkpoint inside the window when all of them are in the future", () => {
    const plan = planOne(specs, { keepWithin: "1h" }, { now: new Date("2020-01-01T00:00:00Z") });
    expect(plan.remove).toEqual([]);
  });
});

describe("time zones", () => {
  it("cut days at local midnight (New York, across the spring-forward night)", () => {
    const specs = [
      { id: "mar14-0130-est", at: "2021-03-14T06:30:00Z" },
      { id: "mar13-2330-est", at: "2021-03-14T04:30:00Z" },
      { id: "mar13-2200-est", at: "2021-03-14T03:00:00Z" },
    ];
    expect(kept(planOne(specs, { keepDaily: 2, timeZone: "America/New_York" }))).toEqual([
      ["mar14-0130-est", ["daily snapshot"]],
      ["mar13-2330-est", ["daily snapshot"]],
    ]);
    expect(kept(planOne(specs, { keepDaily: 2 }))).toEqual([
      ["mar14-0130-est", ["daily snapshot"]],
      ["mar13-2200-est", ["oldest daily snapshot"]],
    ]);
  });

  it("merge the repeated hour of a fall-back night into one hourly period, as Go's clock does", () => {
    const specs = [
      { id: "0230-cet", at: "2021-10-31T01:30:00Z" },
      { id: "0230-cest", at: "2021-10-31T00:30:00Z" },
      { id: "evening", at: "2021-10-30T20:00:00Z" },
    ];
    const berlin = planOne(specs, { keepHourly: 5, timeZone: "Europe/Berlin" });
    expect(berlin.keep.map((k) => k.id)).toEqual(["0230-cet", "evening"]);
    expect(removed(berlin)).toEqual(["0230-cest"]);
    expect(planOne(specs, { keepHourly: 5 }).remove).toEqual([]);
  });

  it("measure within windows on the zone's calendar: 1d before a spring-forward noon is 23 h", () => {
    const specs = [
      { id: "latest", at: "2021-03-28T10:00:00Z" },
      { id: "23h30-before", at: "2021-03-27T10:30:00Z" },
    ];
    const berlin = { keepWithin: "1d", timeZone: "Europe/Berlin" } as const;
    expect(removed(planOne(specs, berlin))).toEqual(["23h30-before"]);
    expect(removed(planOne(specs, { ...berlin, keepWithin: "24h" }))).toEqual([]);
    expect(removed(planOne(specs, { keepWithin: "1d" }))).toEqual([]);
  });

  it("cut ISO weeks and years in the zone (Sunday night in UTC is Monday in Tokyo)", () => {
    const specs = [
      { id: "mon-tokyo", at: "2021-01-03T16:00:00Z" },
      { id: "sun", at: "2021-01-03T10:00:00Z" },
    ];
    expect(planOne(specs, { keepWeekly: 2, timeZone: "Asia/Tokyo" }).remove).toEqual([]);
    expect(removed(planOne(specs, { keepWeekly: 1 }))).toEqual(["sun"]);
  });
});

describe("tags", () => {
  const specs = [
    { id: "both", at: "2026-01-04T00:00:00Z", tags: ["release", "gold"] },
    { id: "release", at: "2026-01-03T00:00:00Z", tags: ["release"] },
    { id: "untagged", at: "2026-01-02T00:00:00Z", tags: [] },
    { id: "other", at: "2026-01-01T00:00:00Z", tags: ["other"] },
  ];

  it("match when the checkpoint has every tag of a list, one reason per matching list", () => {
    const plan = planOne(specs, { keepTags: [["release", "gold"], ["release"]] });
    expect(kept(plan)).toEqual([
      ["both", ["has tags [release, gold]", "has tags [release]"]],
      ["release", ["has tags [release]"]],
    ]);
    expect(removed(plan)).toEqual(["untagged", "other"]);
  });

  it("match untagged checkpoints with the empty tag, as restic's --keep-tag ''", () => {
    expect(planOne(specs, { keepTags: [[""]] }).keep.map((k) => k.id)).toEqual(["untagged"]);
  });

  it("come before within and count reasons, as in restic", () => {
    const plan = planOne(specs.slice(0, 1), {
      keepLast: 1,
      keepWithin: "1d",
      keepTags: [["gold"]],
    });
    expect(plan.keep[0]!.reasons).toEqual(["has tags [gold]", "within 1d", "last snapshot"]);
  });
});

describe("simsnap's guards", () => {
  it("always keeps favorites, with the reason favorite first", () => {
    const plan = planOne(
      [
        { id: "new", at: "2026-01-03T00:00:00Z" },
        { id: "fav-new", at: "2026-01-02T00:00:00Z", favorite: true },
        { id: "fav-old", at: "2025-01-01T00:00:00Z", favorite: true },
        { id: "old", at: "2024-01-01T00:00:00Z" },
      ],
      { keepDaily: 2 },
    );
    expect(kept(plan)).toEqual([
      ["new", ["daily snapshot"]],
      ["fav-new", ["favorite", "daily snapshot"]],
      ["fav-old", ["favorite"]],
    ]);
    expect(removed(plan)).toEqual(["old"]);
  });

  it("lets a favorite fill the period it falls in, like any checkpoint", () => {
    const plan = planOne(
      [
        { id: "fav", at: "2026-01-02T12:00:00Z", favorite: true },
        { id: "same-day", at: "2026-01-02T08:00:00Z" },
      ],
      { keepDaily: 1 },
    );
    expect(kept(plan)).toEqual([["fav", ["favorite", "daily snapshot"]]]);
    expect(removed(plan)).toEqual(["same-day"]);
  });

  it("never lists non-COMPLETE checkpoints, and they take no slot", () => {
    const plan = planOne(
      [
        { id: "pending", at: "2026-01-05T00:00:00Z", state: "PENDING" },
        { id: "failed", at: "2026-01-04T00:00:00Z", state: "FAILED" },
        { id: "deleted", at: "2026-01-03T00:00:00Z", state: "DELETED" },
        { id: "complete", at: "2026-01-02T00:00:00Z" },
        { id: "older", at: "2026-01-01T00:00:00Z" },
      ],
      { keepLast: 1, keepWithin: "1d" },
    );
    expect(kept(plan)).toEqual([["complete", ["within 1d", "last snapshot"]]]);
    expect(removed(plan)).toEqual(["older"]);
  });

  it("refuses a plan that would remove every COMPLETE checkpoint, even when forced", () => {
    const specs = [{ at: "2026-01-02T00:00:00Z" }, { at: "2026-01-01T00:00:00Z" }];
    const plan = planOne(specs, { keepTags: [["gold"]] }, { force: true });
    expect(plan.refused).toBe(
      "the policy would remove all 2 COMPLETE checkpoints of sim; refusing to leave it without any",
    );
    expect(removed(plan)).toHaveLength(2);
  });

  it("refuses to remove more than maxRemoveFraction (0.5 by default) unless forced", () => {
    const specs = [0, 1, 2, 3, 4].map((d) => ({ at: `2026-01-0${d + 1}T00:00:00Z` }));
    const options = { now: NOW };
    const [plan] = planRetention(candidates(specs), { keepLast: 2 }, options);
    expect(plan!.refused).toBe(
      "the policy would remove 3 of 5 COMPLETE checkpoints of sim (60%), more than the allowed " +
        "50%; force the run to allow it",
    );
    expect(plan!.keep).toHaveLength(2);
    expect(plan!.remove).toHaveLength(3);
    expect(
      planRetention(candidates(specs), { keepLast: 2 }, { ...options, force: true })[0]!.refused,
    ).toBeNull();
    expect(planRetention(candidates(specs), { keepLast: 3 }, options)[0]!.refused).toBeNull();
    expect(
      planRetention(candidates(specs), { keepLast: 4 }, { ...options, maxRemoveFraction: 0.1 })[0]!
        .refused,
    ).toContain("more than the allowed 10%");
  });

  it("allows exactly the configured share", () => {
    const specs = [0, 1, 2, 3].map((d) => ({ at: `2026-01-0${d + 1}T00:00:00Z` }));
    expect(planRetention(candidates(specs), { keepLast: 2 }, { now: NOW })[0]!.refused).toBeNull();
  });

  it("rejects a maxRemoveFraction outside 0..1", () => {
    expect(() => planRetention([], { keepLast: 1 }, { now: NOW, maxRemoveFraction: 1.5 })).toThrow(
      "maxRemoveFraction must be between 0 and 1",
    );
  });
});

describe("planRetention", () => {
  it("plans each simulation with its own policy, in name order", () => {
    const config = RetentionConfigSchema.parse({
      default: { keepLast: 1 },
      overrides: [{ match: "prod-*", policy: { keepLast: 2 } }],
      maxRemoveFraction: 1,
    });
    const specs = ["2026-01-03", "2026-01-02", "2026-01-01"].flatMap((day) =>
      ["test-b", "prod-a"].map((simulation) => ({
        id: `${simulation}@${day}`,
        at: `${day}T00:00:00Z`,
        simulation,
      })),
    );
    const plans = planRetention(candidates(specs), (s) => policyFor(config, s), {
      now: NOW,
      maxRemoveFraction: config.maxRemoveFraction,
    });
    expect(plans.map((p) => [p.simulation, p.keep.length, p.remove.length])).toEqual([
      ["prod-a", 2, 1],
      ["test-b", 1, 2],
    ]);
  });

  it("accepts Date createdAt values and sorts newest first whatever the input order", () => {
    const plan = planRetention(
      [
        {
          id: "old",
          simulation: "s",
          createdAt: new Date("2026-01-01T00:00:00Z"),
          state: "COMPLETE",
        },
        {
          id: "new",
          simulation: "s",
          createdAt: new Date("2026-01-02T00:00:00Z"),
          state: "COMPLETE",
        },
      ],
      { keepLast: -1 },
      { now: NOW },
    )[0]!;
    expect(plan.keep.map((k) => k.id)).toEqual(["new", "old"]);
  });

  it("gives an empty plan to a simulation with no COMPLETE checkpoint", () => {
    const plans = planRetention(
      candidates([{ at: "2026-01-01T00:00:00Z", state: "PENDING" }]),
      { keepLast: 1 },
      { now: NOW },
    );
    expect(plans).toEqual([{ simulation: "sim", keep: [], remove: [], refused: null }]);
  });

  it("rejects duplicate ids and unreadable dates", () => {
    const twice = candidates([
      { id: "x", at: "2026-01-01T00:00:00Z" },
      { id: "x", at: "2026-01-02T00:00:00Z" },
    ]);
    expect(() => planRetention(twice, { keepLast: 1 }, { now: NOW })).toThrow(
      "checkpoint id x appears more than once",
    );
    const bad = candidates([{ id: "y", at: "yesterday" }]);
    expect(() => planRetention(bad, { keepLast: 1 }, { now: NOW })).toThrow(
      'checkpoint y has an invalid createdAt "yesterday"',
    );
  });

  it("validates the policy it is given", () => {
    expect(() =>
      planRetention(candidates([{ at: "2026-01-01T00:00:00Z" }]), { keepDaily: -2 }, { now: NOW }),
    ).toThrow(
      "Invalid retention policy for sim: keepDaily: must be -1 (unlimited), 0 (off) or a positive count",
    );
  });
});

describe("RetentionPolicySchema", () => {
  const invalid = (policy: unknown): string => {
    try {
      parseInput(RetentionPolicySchema, policy, "retention policy");
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as Error).message;
    }
    throw new Error("the policy was accepted");
  };

  it("fills in UTC and spells the time zone canonically", () => {
    expect(RetentionPolicySchema.parse({ keepDaily: 7 })).toEqual({
      keepDaily: 7,
      timeZone: "UTC",
    });
    expect(RetentionPolicySchema.parse({ keepDaily: 7, timeZone: "europe/berlin" }).timeZone).toBe(
      "Europe/Berlin",
    );
  });

  it("rejects an unknown field, naming it", () => {
    expect(invalid({ keepDayly: 7, keepLast: 1 })).toBe(
      'Invalid retention policy: (root): unknown field "keepDayly"; known fields are keepLast, ' +
        "keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin, keepWithinHourly, " +
        "keepWithinDaily, keepWithinWeekly, keepWithinMonthly, keepWithinYearly, keepTags, " +
        "keepBest, keepEveryNSteps, keepSteps, keepVerified, timeZone",
    );
  });

  it.each([{}, { timeZone: "UTC" }, { keepLast: 0, keepWithin: "0d" }, { keepTags: [] }])(
    "rejects a policy that keeps nothing: %j",
    (policy) => expect(invalid(policy)).toContain("(root): the policy keeps nothing"),
  );

  it("rejects counts below -1 and fractional counts", () => {
    expect(invalid({ keepDaily: -2 })).toBe(
      "Invalid retention policy: keepDaily: must be -1 (unlimited), 0 (off) or a positive count",
    );
    expect(invalid({ keepHourly: 1.5 })).toBe(
      "Invalid retention policy: keepHourly: must be an integer: -1 (unlimited), 0 (off) or a positive count",
    );
  });

  it("rejects a bad duration with restic's reason", () => {
    expect(invalid({ keepWithinWeekly: "2w" })).toBe(
      'Invalid retention policy: keepWithinWeekly: invalid duration "2w": invalid unit "w" after ' +
        "number 2; use y, m, d or h",
    );
  });

  it("rejects an unknown time zone and an empty tag list", () => {
    expect(invalid({ keepLast: 1, timeZone: "Mars/Olympus_Mons" })).toBe(
      "Invalid retention policy: timeZone: must be an IANA time zone name such as UTC or Europe/Berlin",
    );
    expect(invalid({ keepTags: [[]] })).toContain("keepTags.0: a tag list needs at least one tag");
  });
});

describe("RetentionConfigSchema and policyFor", () => {
  it("defaults overrides to none and maxRemoveFraction to 0.5", () => {
    expect(RetentionConfigSchema.parse({ default: { keepLast: 3 } })).toEqual({
      default: { keepLast: 3, timeZone: "UTC" },
      overrides: [],
      maxRemoveFraction: 0.5,
    });
  });

  it("uses the first matching override, else the default", () => {
    const config = RetentionConfigSchema.parse({
      default: { keepLast: 1 },
      overrides: [
        { match: "prod-?", policy: { keepDaily: 7 } },
        { match: "prod-*", policy: { keepWeekly: 4 } },
      ],
    });
    expect(policyFor(config, "prod-1")).toEqual({ keepDaily: 7, timeZone: "UTC" });
    expect(policyFor(config, "prod-12")).toEqual({ keepWeekly: 4, timeZone: "UTC" });
    expect(policyFor(config, "dev-1")).toEqual({ keepLast: 1, timeZone: "UTC" });
  });

  it("applies an override naming a provider only to that provider's simulations", () => {
    const config = RetentionConfigSchema.parse({
      default: { keepLast: 1 },
      overrides: [
        {
          match: "*",
          provider: "files",
          policy: { keepBest: { metric: "eval_loss", mode: "min", count: 2 }, keepLast: 2 },
        },
        { match: "bert-*", policy: { keepDaily: 7 } },
      ],
    });
    expect(policyFor(config, "bert-demo", "files")).toMatchObject({
      keepBest: { metric: "eval_loss", mode: "min", count: 2 },
      keepLast: 2,
    });
    expect(policyFor(config, "bert-demo", "simspaceweaver")).toEqual({
      keepDaily: 7,
      timeZone: "UTC",
    });
    // A caller that does not say whose simulation it is gets no provider's override.
    expect(policyFor(config, "bert-demo")).toEqual({ keepDaily: 7, timeZone: "UTC" });
    expect(() =>
      RetentionConfigSchema.parse({
        default: { keepLast: 1 },
        overrides: [{ match: "*", provider: "gcp", policy: { keepLast: 1 } }],
      }),
    ).toThrow("must be one of simspaceweaver, air, files");
  });

  it("rejects an invalid override when the config is loaded, naming where", () => {
    expect(() =>
      parseInput(
        RetentionConfigSchema,
        { default: { keepLast: 1 }, overrides: [{ match: "[a-", policy: { keepDaily: "7" } }] },
        "retention config",
      ),
    ).toThrow(
      'Invalid retention config: overrides.0.match: invalid glob "[a-": character class at position ' +
        "1 is not closed; overrides.0.policy.keepDaily: Invalid input: expected number, received string",
    );
    expect(() =>
      RetentionConfigSchema.parse({ default: { keepLast: 1 }, maxRemoveFraction: 2 }),
    ).toThrow("must be between 0 and 1");
  });
});

describe("globs", () => {
  it.each([
    ["*", "anything", true],
    ["prod-*", "prod-eu.1", true],
    ["prod-*", "preprod-eu", false],
    ["sim-?", "sim-7", true],
    ["sim-?", "sim-17", false],
    ["sim-[abc]", "sim-b", true],
    ["sim-[a-c]x", "sim-cx", true],
    ["sim-[!a-c]", "sim-d", true],
    ["sim-[!a-c]", "sim-a", false],
    ["sim.v1", "simXv1", false],
    ["sim.v1", "sim.v1", true],
  ])("%s against %s is %s", (pattern, name, expected) => {
    expect(matchesGlob(pattern, name)).toBe(expected);
  });

  it.each([
    ["sim-[", "is not closed"],
    ["sim-[]", "is empty"],
    ["sim-[z-a]", "range z-a is reversed"],
  ])("rejects %s: %s", (pattern, why) => {
    expect(() => globToRegExp(pattern)).toThrow(why);
  });
});
