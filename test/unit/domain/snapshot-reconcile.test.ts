import { describe, expect, it } from "vitest";
import {
  isLeftBehind,
  RECONCILE_MARGIN_SECONDS,
  ReconcileCursorSchema,
  reconcileCursorLocation,
  reconcileGraceSeconds,
} from "../../../lib/domain/snapshot-reconcile.ts";
import { stepGraceSeconds, topology } from "../../../lib/topology.ts";
import { parseScheduleExpression } from "../../../lib/domain/schedule-expression.ts";

const stamp = { time: new Date("2026-12-01T10:00:00Z") };
const now = new Date("2026-12-01T11:10:00Z");

describe("reconcileGraceSeconds", () => {
  it("is the snapshot deadline plus a margin that covers one sweep and a status check's grace", () => {
    const sweep = topology.schedules.find((s) => s.target === "sweep-jobs")!;
    const period = parseScheduleExpression(sweep.expression);
    expect(period.kind === "rate" && period.periodMs / 1000).toBe(300);
    expect(RECONCILE_MARGIN_SECONDS).toBeGreaterThanOrEqual(
      300 + stepGraceSeconds("status-checks"),
    );
    expect(reconcileGraceSeconds({ deadlineSeconds: 3600, marginSeconds: 600 })).toBe(4200);
  });
});

describe("isLeftBehind", () => {
  it("counts from the later of the stamp and the write", () => {
    const grace = 4200;
    expect(isLeftBehind({ lastModified: stamp.time }, stamp, now, grace)).toBe(true);
    expect(
      isLeftBehind({ lastModified: new Date("2026-12-01T10:00:01Z") }, stamp, now, grace),
    ).toBe(false);
    // A write stamped earlier than the key (a clock behind) does not make the file older.
    expect(
      isLeftBehind({ lastModified: new Date("2026-12-01T09:00:00Z") }, { time: now }, now, 60),
    ).toBe(false);
  });

  it("takes a listing without a write time for a file written now", () => {
    expect(isLeftBehind({}, stamp, now, 60)).toBe(false);
  });
});

describe("the scan's cursor", () => {
  it("lives under the destination prefix's reports folder, at the bucket's root without one", () => {
    expect(reconcileCursorLocation({ bucket: "b", prefix: "team/sims/" })).toEqual({
      bucket: "b",
      key: "team/sims/reports/reconcile-snapshots/cursor.json",
    });
    expect(reconcileCursorLocation({ bucket: "b", prefix: "" }).key).toBe(
      "reports/reconcile-snapshots/cursor.json",
    );
  });

  it("is a place to go on from, or empty; nothing else", () => {
    expect(ReconcileCursorSchema.parse({})).toEqual({});
    expect(ReconcileCursorSchema.parse({ prefix: "", startAfter: "snapshot/a.zip" })).toEqual({
      prefix: "",
      startAfter: "snapshot/a.zip",
    });
    expect(ReconcileCursorSchema.safeParse({ prefix: "p" }).success).toBe(false);
    expect(ReconcileCursorSchema.safeParse({ prefix: "p", startAfter: "" }).success).toBe(false);
  });
});
