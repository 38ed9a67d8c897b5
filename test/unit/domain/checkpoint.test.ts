import { describe, expect, it } from "vitest";
import {
  canTransitionCheckpoint,
  CheckpointSchema,
  CheckpointStateSchema,
  completeCheckpoint,
  failCheckpoint,
  markCheckpointDeleted,
  type Checkpoint,
  type CheckpointState,
} from "../../../lib/domain/checkpoint.ts";
import { IllegalTransitionError } from "../../../lib/domain/errors.ts";

const now = new Date("2026-11-23T12:00:00Z");
const base: Checkpoint = {
  id: "c1",
  version: 1,
  simulation: "sim-a",
  provider: "simspaceweaver",
  name: "n",
  description: "",
  tags: [],
  favorite: false,
  state: "PENDING",
  trigger: "schedule",
  createdAt: "2026-11-23T11:00:00.000Z",
  modifiedAt: "2026-11-23T11:00:00.000Z",
};
const file = {
  location: { bucket: "b", key: "p/snapshot/sim-a-261123-1100-00.zip" },
  size: 10,
  etag: "e",
};
const inState = (state: CheckpointState): Checkpoint => ({ ...base, state });

describe("checkpoint state machine", () => {
  it("allows exactly PENDING→COMPLETE, PENDING→FAILED and COMPLETE→DELETED", () => {
    const allowed = CheckpointStateSchema.options.flatMap((from) =>
      CheckpointStateSchema.options
        .filter((to) => canTransitionCheckpoint(from, to))
        .map((to) => `${from}→${to}`),
    );
    expect(allowed).toEqual(["PENDING→COMPLETE", "PENDING→FAILED", "COMPLETE→DELETED"]);
  });

  it("completes a PENDING checkpoint with its file, bumping version and times", () => {
    const done = completeCheckpoint(base, file, now);
    expect(done).toMatchObject({
      state: "COMPLETE",
      version: 2,
      location: file.location,
      size: 10,
      etag: "e",
      completedAt: now.toISOString(),
      modifiedAt: now.toISOString(),
    });
    expect(CheckpointSchema.parse(done)).toEqual(done);
  });

  it("fails a PENDING checkpoint with its reason", () => {
    expect(failCheckpoint(base, { code: "X", message: "why" }, now)).toMatchObject({
      state: "FAILED",
      error: { code: "X", message: "why" },
    });
  });

  it("deletes only COMPLETE checkpoints", () => {
    expect(markCheckpointDeleted(inState("COMPLETE"), now).state).toBe("DELETED");
    for (const state of ["PENDING", "FAILED", "DELETED"] as const) {
      expect(() => markCheckpointDeleted(inState(state), now)).toThrow(IllegalTransitionError);
    }
  });

  it.each(["COMPLETE", "FAILED", "DELETED"] as const)(
    "refuses to complete or fail a %s checkpoint",
    (state) => {
      expect(() => completeCheckpoint(inState(state), file, now)).toThrow(
        `Checkpoint c1 is ${state} and cannot become COMPLETE`,
      );
      expect(() => failCheckpoint(inState(state), { code: "X", message: "y" }, now)).toThrow(
        IllegalTransitionError,
      );
    },
  );
});
