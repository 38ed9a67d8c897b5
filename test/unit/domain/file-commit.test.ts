import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ABANDONED_UPLOAD_SECONDS,
  CommitConfigSchema,
  commitRuleOf,
  decideCommit,
  type CommitRule,
  type SeenObject,
} from "../../../lib/domain/file-commit.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const object = (relativePath: string, secondsAgo: number): SeenObject => ({
  relativePath,
  lastModified: ago(secondsAgo),
});

const MARKER: CommitRule = { kind: "marker", marker: "commit_success.txt", settleSeconds: 0 };
const SETTLED: CommitRule = { kind: "marker", marker: "trainer_state.json", settleSeconds: 30 };
const QUIET: CommitRule = { kind: "quiet", quietSeconds: 120 };

describe("decideCommit", () => {
  it("completes a marked checkpoint at the marker's time", () => {
    const objects = [
      object("default/manifest.ocdbt", 50),
      object("_CHECKPOINT_METADATA", 45),
      object("commit_success.txt", 40),
    ];
    expect(decideCommit(MARKER, { objects }, NOW)).toEqual({
      state: "COMPLETE",
      reason: "committed",
      committedAt: ago(40),
    });
  });

  it("keeps a checkpoint without its marker PENDING however old it is", () => {
    const objects = [object("default/manifest.ocdbt", 86_400 * 30)];
    expect(decideCommit(MARKER, { objects }, NOW)).toEqual({
      state: "PENDING",
      reason: "no-marker",
    });
  });

  it("waits out the settle period after the last write, marker or not", () => {
    const objects = [object("trainer_state.json", 40), object("model.safetensors", 10)];
    expect(decideCommit(SETTLED, { objects }, NOW)).toEqual({
      state: "PENDING",
      reason: "settling",
      recheckAt: new Date(ago(10).getTime() + 30_000),
    });
    expect(decideCommit(SETTLED, { objects }, new Date(NOW.getTime() + 20_000))).toMatchObject({
      state: "COMPLETE",
      committedAt: ago(40),
    });
  });

  it("completes a quiet checkpoint at its last write, once the quiet period has passed", () => {
    const objects = [object("model.pt", 300), object(".metadata.json", 120)];
    expect(decideCommit(QUIET, { objects }, NOW)).toEqual({
      state: "COMPLETE",
      reason: "quiet",
      committedAt: ago(120),
    });
    const busy = [...objects, object("optimizer.pt", 119)];
    expect(decideCommit(QUIET, { objects: busy }, NOW)).toEqual({
      state: "PENDING",
      reason: "writing",
      recheckAt: new Date(NOW.getTime() + 1000),
    });
  });

  it("never completes a checkpoint with an upload in progress, whatever the rule", () => {
    const uploads = [{ relativePath: "model.safetensors", initiated: ago(600) }];
    const objects = [object("trainer_state.json", 500), object("config.json", 500)];
    for (const rule of [SETTLED, QUIET]) {
      expect(decideCommit(rule, { objects, uploads }, NOW)).toEqual({
        state: "PENDING",
        reason: "uploading",
      });
    }
  });

  it("takes an upload started over a day ago for abandoned", () => {
    const uploads = [{ relativePath: "model.pt", initiated: ago(ABANDONED_UPLOAD_SECONDS) }];
    const objects = [object("model.pt", 90_000), object("commit_success.txt", 90_000)];
    expect(decideCommit(MARKER, { objects, uploads }, NOW)).toMatchObject({ state: "COMPLETE" });
  });

  it("does not take directory placeholders alone for a checkpoint", () => {
    const objects = [object("", 3600), object("default/", 3600)];
    expect(decideCommit(QUIET, { objects }, NOW)).toEqual({ state: "PENDING", reason: "empty" });
    expect(decideCommit(MARKER, { objects }, NOW)).toEqual({ state: "PENDING", reason: "empty" });
  });

  it("completes a single object as soon as it is listed", () => {
    const rule: CommitRule = { kind: "atomic" };
    expect(decideCommit(rule, { objects: [object("", 1)] }, NOW)).toEqual({
      state: "COMPLETE",
      reason: "atomic",
      committedAt: ago(1),
    });
    const uploads = [{ relativePath: "", initiated: ago(5) }];
    expect(decideCommit(rule, { objects: [], uploads }, NOW)).toEqual({
      state: "PENDING",
      reason: "uploading",
    });
  });

  const seen = fc.record({
    objects: fc.array(
      fc.record({
        relativePath: fc.constantFrom("", "a/", "model.pt", "commit_success.txt", "x/y"),
        lastModified: fc.integer({ min: 0, max: 3600 }).map(ago),
      }),
      { maxLength: 6 },
    ),
    uploads: fc.array(
      fc.record({
        relativePath: fc.constantFrom("model.pt", "x/y"),
        initiated: fc.integer({ min: 0, max: 2 * 86_400 }).map(ago),
      }),
      { maxLength: 2 },
    ),
  });
  const rules = fc.oneof(
    fc.record({
      kind: fc.constant("marker" as const),
      marker: fc.constant("commit_success.txt"),
      settleSeconds: fc.integer({ min: 0, max: 600 }),
    }),
    fc.record({
      kind: fc.constant("quiet" as const),
      quietSeconds: fc.integer({ min: 1, max: 600 }),
    }),
  );

  it("stays COMPLETE as time passes without writes, and completes by its recheck time", () => {
    fc.assert(
      fc.property(rules, seen, fc.integer({ min: 0, max: 86_400 }), (rule, listing, later) => {
        const now = decideCommit(rule, { objects: listing.objects }, NOW);
        const after = decideCommit(
          rule,
          { objects: listing.objects },
          new Date(NOW.getTime() + later * 1000),
        );
        if (now.state === "COMPLETE") expect(after).toEqual(now);
        if (now.state === "PENDING" && now.recheckAt !== undefined) {
          expect(decideCommit(rule, { objects: listing.objects }, now.recheckAt).state).toBe(
            "COMPLETE",
          );
        }
      }),
    );
  });

  it("is never COMPLETE without a file, nor while an upload is live", () => {
    fc.assert(
      fc.property(rules, seen, (rule, listing) => {
        const decision = decideCommit(rule, listing, NOW);
        const files = listing.objects.filter(
          (o) => o.relativePath !== "" && !o.relativePath.endsWith("/"),
        );
        const live = listing.uploads.some(
          (u) => NOW.getTime() - u.initiated.getTime() < ABANDONED_UPLOAD_SECONDS * 1000,
        );
        if (files.length === 0 || live) expect(decision.state).toBe("PENDING");
        if (rule.kind === "marker" && !files.some((f) => f.relativePath === rule.marker)) {
          expect(decision.state).toBe("PENDING");
        }
      }),
    );
  });
});

describe("commit configs", () => {
  it("reads a marker (with an optional settle period) or a quiet period", () => {
    expect(commitRuleOf(CommitConfigSchema.parse({ marker: "_SUCCESS" }))).toEqual({
      kind: "marker",
      marker: "_SUCCESS",
      settleSeconds: 0,
    });
    expect(commitRuleOf(CommitConfigSchema.parse({ quietSeconds: 300 }))).toEqual({
      kind: "quiet",
      quietSeconds: 300,
    });
  });

  it.each([
    [{}, "set either marker"],
    [{ marker: "_SUCCESS", quietSeconds: 60 }, "not both or neither"],
    [{ quietSeconds: 60, settleSeconds: 5 }, "settleSeconds goes with a marker"],
    [{ quietSeconds: 0 }, "at least 1 second"],
    [{ quietSeconds: 1.5 }, "whole number of seconds"],
    [{ quietSeconds: 8 * 86_400 }, "at most 604800 seconds"],
    [{ marker: "/abs" }, "a path inside the checkpoint"],
    [{ marker: "state/" }, "a path inside the checkpoint"],
    [{ marker: "../x" }, 'a "." or ".." segment'],
    [{ marker: "m", extra: 1 }, "Unrecognized key"],
  ])("refuses %j", (input, why) => {
    const result = CommitConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join("; ")).toContain(why);
  });
});
