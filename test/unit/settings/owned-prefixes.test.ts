import { describe, expect, it } from "vitest";
import { loadSettings } from "../../../lib/settings.ts";
import { ConfigError } from "../../../lib/domain/errors.ts";

const base = { SIMSNAP_TABLE: "catalog", SIMSNAP_SNAPSHOT_BUCKET: "snapshots" };

describe("owned prefixes", () => {
  it("adopt no prefix unless SIMSNAP_ADOPTED_PREFIXES names some (comma-separated)", () => {
    expect(loadSettings(base).SIMSNAP_ADOPTED_PREFIXES).toEqual([]);
    expect(
      loadSettings({ ...base, SIMSNAP_ADOPTED_PREFIXES: "otherteam, legacy/tool" })
        .SIMSNAP_ADOPTED_PREFIXES,
    ).toEqual(["otherteam", "legacy/tool"]);
  });

  it("refuse a prefix with a . or .. segment, whoever set it", () => {
    for (const bad of [
      { SIMSNAP_SNAPSHOT_PREFIX: "simsnap/.." },
      { SIMSNAP_ADOPTED_PREFIXES: "otherteam,../x" },
    ]) {
      expect(() => loadSettings({ ...base, ...bad }), JSON.stringify(bad)).toThrow(ConfigError);
    }
    expect(loadSettings({ ...base, SIMSNAP_SNAPSHOT_PREFIX: "" }).SIMSNAP_SNAPSHOT_PREFIX).toBe("");
  });
});
