import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../lib/domain/checkpoint.ts";
import {
  heldCheckpointId,
  matchFinalCheckpoint,
  mirrorCheckpoint,
  newestCreated,
  reconcileFields,
  type HeldCheckpoint,
  type MirrorContext,
} from "../../../lib/domain/platform-checkpoint.ts";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

const held = (overrides: Partial<HeldCheckpoint> = {}): HeldCheckpoint => ({
  id: "ck-1",
  simulation: "air-sim",
  run: "run-1",
  state: "COMPLETE",
  name: "nightly",
  favorite: false,
  created: at(0),
  modified: at(0),
  ...overrides,
});

const context = (overrides: Partial<MirrorContext> = {}): MirrorContext => ({
  provider: "air",
  simulation: "air-sim",
  now: at(60),
  ...overrides,
});

/** The record mirroring `checkpoint` as it is now. */
function recorded(checkpoint: HeldCheckpoint, overrides: Partial<MirrorContext> = {}): Checkpoint {
  const step = mirrorCheckpoint(undefined, checkpoint, context(overrides));
  if (step.action !== "create") throw new Error(`expected a create, got ${step.action}`);
  return step.record;
}

describe("matchFinalCheckpoint", () => {
  const listed = [held({ id: "a", created: at(0) }), held({ id: "b", created: at(100) })];

  it("takes the one checkpoint created after the newest one before the call", () => {
    expect(matchFinalCheckpoint(listed, { newestBefore: at(0).toISOString() })).toEqual({
      kind: "one",
      checkpoint: listed[1],
    });
    expect(matchFinalCheckpoint(listed, { newestBefore: at(100).toISOString() })).toEqual({
      kind: "none",
    });
  });

  it("never guesses between two candidates", () => {
    expect(matchFinalCheckpoint(listed, {})).toEqual({ kind: "ambiguous", ids: ["a", "b"] });
  });

  it("knows the newest checkpoint of a listing, or none", () => {
    expect(newestCreated(listed)).toBe(at(100).toISOString());
    expect(newestCreated([])).toBeUndefined();
  });
});

describe("reconcileFields: the newer modified wins", () => {
  const record = { name: "mine", favorite: true, modifiedAt: at(10).toISOString() };

  it("pulls the platform's name and favorite when the platform changed them later (or at once)", () => {
    expect(reconcileFields(record, held({ name: "theirs", modified: at(20) }))).toEqual({
      pull: { name: "theirs", favorite: false },
    });
    expect(reconcileFields(record, held({ name: "theirs", modified: at(10) }))).toEqual({
      pull: { name: "theirs", favorite: false },
    });
  });

  it("pushes only the differing fields when the catalog changed them later", () => {
    expect(reconcileFields(record, held({ name: "mine", modified: at(5) }))).toEqual({
      push: { favorite: true },
    });
  });

  it("does nothing when both agree", () => {
    expect(
      reconcileFields(record, held({ name: "mine", favorite: true, modified: at(99) })),
    ).toEqual({});
  });
});

describe("mirrorCheckpoint", () => {
  it("records a new platform checkpoint as discovered, in the platform's state, under a derived id", () => {
    const record = recorded(held({ state: "PENDING" }));

    expect(record).toMatchObject({
      id: heldCheckpointId("air", "ck-1"),
      version: 1,
      simulation: "air-sim",
      provider: "air",
      run: "run-1",
      platformId: "ck-1",
      state: "PENDING",
      trigger: "discovered",
      createdAt: at(0).toISOString(),
    });
    expect(record.location).toBeUndefined();
    expect(record.completedAt).toBeUndefined();
    expect(heldCheckpointId("air", "ck-1")).not.toBe(heldCheckpointId("other", "ck-1"));
  });

  it("records one a stop of ours asked for as its shutdown checkpoint", () => {
    const record = recorded(held(), {
      attribution: { jobId: "stop-1", description: "maintenance" },
    });

    expect(record).toMatchObject({
      trigger: "shutdown",
      jobId: "stop-1",
      description: "maintenance",
      state: "COMPLETE",
      completedAt: at(60).toISOString(),
    });
  });

  it("does not record a checkpoint first seen DELETED", () => {
    expect(mirrorCheckpoint(undefined, held({ state: "DELETED" }), context())).toEqual({
      action: "none",
    });
  });

  it("completes a PENDING record once the platform says COMPLETE, and then changes nothing", () => {
    const pending = recorded(held({ state: "PENDING" }));
    const step = mirrorCheckpoint(pending, held({ modified: at(30) }), context({ now: at(90) }));

    expect(step).toMatchObject({
      action: "save",
      record: { state: "COMPLETE", version: 2, completedAt: at(90).toISOString() },
    });
    if (step.action !== "save") throw new Error("no save");
    expect(mirrorCheckpoint(step.record, held({ modified: at(30) }), context())).toEqual({
      action: "none",
    });
  });

  it("marks a COMPLETE record DELETED with the reason when the platform deleted it or forgot it", () => {
    const complete = recorded(held());
    const reason = {
      code: "DeletedByPlatform",
      message: "Checkpoint ck-1 was deleted by the platform (air), not by simsnap",
    };

    for (const gone of [held({ state: "DELETED" }), undefined]) {
      expect(mirrorCheckpoint(complete, gone, context())).toMatchObject({
        action: "save",
        record: { state: "DELETED", error: reason },
      });
    }
  });

  it("fails a PENDING record the platform deleted before it completed", () => {
    const pending = recorded(held({ state: "PENDING" }));

    expect(mirrorCheckpoint(pending, held({ state: "DELETED" }), context())).toMatchObject({
      action: "save",
      record: { state: "FAILED", error: { code: "DeletedByPlatform" } },
    });
  });

  it("takes a newer platform rename into the record, and pushes a newer catalog favorite", () => {
    const record = recorded(held());

    expect(
      mirrorCheckpoint(record, held({ name: "renamed", modified: at(120) }), context()),
    ).toMatchObject({ action: "save", record: { name: "renamed", version: 2 } });
    expect(
      mirrorCheckpoint({ ...record, favorite: true }, held({ modified: at(1) }), context()),
    ).toEqual({ action: "push", push: { favorite: true } });
  });

  it("lets a stop adopt a checkpoint an earlier sync recorded as discovered", () => {
    const record = recorded(held());

    expect(
      mirrorCheckpoint(record, held(), context({ attribution: { jobId: "stop-1" } })),
    ).toMatchObject({ action: "save", record: { trigger: "shutdown", jobId: "stop-1" } });
  });

  it("leaves DELETED and FAILED records alone", () => {
    const record = recorded(held());
    for (const state of ["DELETED", "FAILED"] as const) {
      expect(
        mirrorCheckpoint({ ...record, state }, held({ name: "x", modified: at(999) }), context()),
      ).toEqual({
        action: "none",
      });
    }
  });
});
