import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../../../lib/domain/checkpoint.ts";
import {
  RetentionPolicySchema,
  type RetentionCandidate,
  type RetentionPolicyInput,
} from "../../../lib/domain/retention.ts";
import { kept, planOne, removed } from "../../support/retention-plan.ts";

interface Spec {
  id: string;
  /** Hours after 2026-01-01T00:00Z; higher is newer. */
  hour: number;
  verified?: "PASSED" | "FAILED";
  favorite?: boolean;
  state?: CheckpointState;
}

const NOW = new Date("2026-02-01T00:00:00Z");

const candidates = (specs: readonly Spec[]): RetentionCandidate[] =>
  specs.map((s) => ({
    id: s.id,
    simulation: "sim",
    createdAt: new Date(Date.UTC(2026, 0, 1) + s.hour * 3_600_000).toISOString(),
    state: s.state ?? "COMPLETE",
    favorite: s.favorite ?? false,
    ...(s.verified === undefined ? {} : { verification: { status: s.verified } }),
  }));

const plan = (specs: readonly Spec[], policy: RetentionPolicyInput, force = false) =>
  planOne(candidates(specs), policy, NOW, { force });

describe("keepVerified", () => {
  it("keeps the K newest checkpoints whose restore test PASSED, reason verified", () => {
    const result = plan(
      [
        { id: "a", hour: 1, verified: "PASSED" },
        { id: "b", hour: 2, verified: "PASSED" },
        { id: "c", hour: 3, verified: "FAILED" },
        { id: "d", hour: 4, verified: "PASSED" },
        { id: "e", hour: 5 },
        { id: "f", hour: 6 },
      ],
      { keepLast: 1, keepVerified: 2 },
    );
    expect(kept(result)).toEqual([
      ["f", ["last snapshot"]],
      ["d", ["verified"]],
      ["b", ["verified"]],
    ]);
    expect(removed(result)).toEqual(["e", "c", "a"]);
    expect(result.refused).toBeNull();
  });

  it("adds verified to the other reasons of a checkpoint", () => {
    const result = plan(
      [
        { id: "a", hour: 1 },
        { id: "b", hour: 2, verified: "PASSED" },
      ],
      { keepLast: 1, keepVerified: 1 },
    );
    expect(kept(result)).toEqual([["b", ["last snapshot", "verified"]]]);
  });

  it("counts only COMPLETE checkpoints: a DELETED verified one is no candidate", () => {
    const result = plan(
      [
        { id: "a", hour: 1, verified: "PASSED" },
        { id: "b", hour: 2, verified: "PASSED", state: "DELETED" },
        { id: "c", hour: 3 },
      ],
      { keepLast: 1, keepVerified: 1 },
    );
    expect(kept(result)).toEqual([
      ["c", ["last snapshot"]],
      ["a", ["verified"]],
    ]);
  });

  it("refuses a plan that would leave the simulation without a verified checkpoint, even forced", () => {
    const specs: Spec[] = [
      { id: "a", hour: 1, verified: "FAILED" },
      { id: "b", hour: 2 },
      { id: "c", hour: 3 },
    ];
    for (const force of [false, true]) {
      const result = plan(specs, { keepLast: 1, keepVerified: 1 }, force);
      expect(result.refused).toBe(
        "keepVerified: the policy would remove 2 checkpoints of sim while none of its 3 COMPLETE " +
          "checkpoints has passed a restore test; refusing to prune until one passes verification " +
          "(see docs/verification.md), or drop keepVerified from its policy",
      );
    }
    // Without the rule the same plan runs.
    expect(plan(specs, { keepLast: 1 }).refused).toBeNull();
  });

  it("does not refuse a plan that removes nothing", () => {
    const result = plan([{ id: "a", hour: 1 }], { keepLast: 1, keepVerified: 1 });
    expect(result.refused).toBeNull();
  });

  it("is a rule on its own: a policy of keepVerified alone keeps something", () => {
    expect(RetentionPolicySchema.safeParse({ keepVerified: 1 }).success).toBe(true);
    const result = plan(
      [
        { id: "a", hour: 1, verified: "PASSED" },
        { id: "b", hour: 2 },
      ],
      { keepVerified: 1 },
    );
    expect(kept(result)).toEqual([["a", ["verified"]]]);
    expect(removed(result)).toEqual(["b"]);
  });

  it.each([0, -1, 1.5, "2"])("rejects keepVerified %j, naming the rule", (value) => {
    const parsed = RetentionPolicySchema.safeParse({ keepLast: 1, keepVerified: value });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["keepVerified"]);
    expect(parsed.error?.issues[0]?.message).toMatch(/count of verified checkpoints to keep/);
  });
});
