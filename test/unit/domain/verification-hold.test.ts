import { describe, expect, it } from "vitest";
import {
  abandonedVerdict,
  holdUnderTest,
  VERIFYING_REASON,
} from "../../../lib/domain/verification.ts";

const created = (id: string, hour: number) => ({
  id,
  createdAt: `2026-12-01T${String(hour).padStart(2, "0")}:00:00.000Z`,
});
const checkpoints = [created("c5", 5), created("c4", 4), created("c3", 3), created("c2", 2)];

describe("holdUnderTest", () => {
  const plan = {
    simulation: "sim-a",
    keep: [
      { id: "c5", reasons: ["last snapshot"] },
      { id: "c2", reasons: ["favorite"] },
    ],
    remove: [{ id: "c4" }, { id: "c3" }],
    refused: null,
  };

  it("moves a checkpoint under test from remove to keep, reason verifying, keeping keep newest first", () => {
    expect(holdUnderTest(plan, new Set(["c3"]), checkpoints)).toEqual({
      ...plan,
      keep: [
        { id: "c5", reasons: ["last snapshot"] },
        { id: "c3", reasons: [VERIFYING_REASON] },
        { id: "c2", reasons: ["favorite"] },
      ],
      remove: [{ id: "c4" }],
    });
  });

  it("leaves a plan alone when nothing it removes is under test, or when it is refused", () => {
    expect(holdUnderTest(plan, new Set(["c5", "other"]), checkpoints)).toBe(plan);
    const refused = { ...plan, refused: "would remove too much" };
    expect(holdUnderTest(refused, new Set(["c4"]), checkpoints)).toBe(refused);
  });
});

describe("abandonedVerdict", () => {
  const failed = {
    status: "FAILED" as const,
    detail: "could not load",
    at: "2026-12-01T10:00:00Z",
  };

  it("abandons a FAILED verdict whose checkpoint left the catalog, naming where it went", () => {
    const reason = abandonedVerdict(
      failed,
      { state: "DELETED", purgeAfter: "2026-12-08T10:00:00.000Z" },
      "c1",
    );
    expect(reason).toContain("checkpoint c1 was deleted during the test");
    expect(reason).toContain("in the trash until 2026-12-08T10:00:00.000Z");
    expect(reason).toContain("it had reached FAILED: could not load");
    expect(abandonedVerdict(failed, undefined, "c1")).toContain("it no longer exists");
  });

  it("keeps a FAILED verdict on a COMPLETE checkpoint, and every PASSED verdict", () => {
    expect(abandonedVerdict(failed, { state: "COMPLETE" }, "c1")).toBeUndefined();
    const passed = { ...failed, status: "PASSED" as const };
    expect(abandonedVerdict(passed, { state: "DELETED" }, "c1")).toBeUndefined();
  });
});
