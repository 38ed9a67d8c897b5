import { describe, expect, it } from "vitest";
import { CheckpointPatchSchema, editCheckpoint } from "../../../lib/domain/checkpoint-edit.ts";
import { IllegalTransitionError, ValidationError } from "../../../lib/domain/errors.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";

const now = new Date("2026-02-01T12:00:00.000Z");
const patch = (input: unknown) => parseInput(CheckpointPatchSchema, input, "request body");

describe("CheckpointPatchSchema", () => {
  it("accepts name, description, tags and favorite, keeping each tag once", () => {
    expect(
      patch({ name: " nightly ", description: "d", tags: ["a", "b", "a"], favorite: true }),
    ).toEqual({ name: "nightly", description: "d", tags: ["a", "b"], favorite: true });
  });

  it("refuses every other field by name, with the known fields' errors in the same answer", () => {
    const error = (() => {
      try {
        patch({ name: "", state: "DELETED", location: { bucket: "x", key: "y" }, version: 9 });
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error("expected a ValidationError");
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([
      { path: "name", message: "must not be empty" },
      { path: "state", message: "cannot be changed; only name, description, tags, favorite can" },
      {
        path: "location",
        message: "cannot be changed; only name, description, tags, favorite can",
      },
      { path: "version", message: "cannot be changed; only name, description, tags, favorite can" },
    ]);
  });

  it("refuses wrong types and sizes", () => {
    expect(() => patch({ favorite: "yes" })).toThrow(/favorite/);
    expect(() => patch({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).toThrow(/tags/);
    expect(() => patch({ name: "n".repeat(257) })).toThrow(/name/);
    expect(() => patch([])).toThrow(ValidationError);
  });
});

describe("editCheckpoint", () => {
  it("changes only the given fields, bumping the version and modifiedAt", () => {
    const before = checkpoint({ name: "old", tags: ["x"], version: 3 });
    const { checkpoint: after, changed } = editCheckpoint(before, { favorite: true }, now);
    expect(changed).toBe(true);
    expect(after).toEqual({
      ...before,
      favorite: true,
      version: 4,
      modifiedAt: now.toISOString(),
    });
  });

  it("returns the record as it is when nothing changes, so a repeat writes nothing", () => {
    const before = checkpoint({ name: "same", tags: ["a", "b"], favorite: true });
    const result = editCheckpoint(before, { name: "same", tags: ["a", "b"], favorite: true }, now);
    expect(result).toEqual({ checkpoint: before, changed: false });
    expect(editCheckpoint(before, { tags: ["b", "a"] }, now).changed).toBe(true);
  });

  it("edits PENDING and FAILED checkpoints but never a DELETED one", () => {
    for (const state of ["PENDING", "FAILED"] as const) {
      expect(editCheckpoint(checkpoint({ state }), { name: "n" }, now).changed).toBe(true);
    }
    expect(() => editCheckpoint(checkpoint({ state: "DELETED" }), { name: "n" }, now)).toThrow(
      IllegalTransitionError,
    );
  });
});
