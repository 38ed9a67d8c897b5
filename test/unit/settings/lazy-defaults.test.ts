import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../lib/domain/errors.ts";
import { loadSettings, SettingsSchema, type Settings } from "../../../lib/settings.ts";

const base = { SIMSNAP_TABLE: "catalog", SIMSNAP_SNAPSHOT_BUCKET: "snapshots" };

describe("settings a function's environment leaves unset", () => {
  it("read as their defaults, exactly as parsing the whole environment gives them", () => {
    const settings = loadSettings(base);
    const whole = SettingsSchema.parse(base);
    for (const name of Object.keys(SettingsSchema.shape) as (keyof Settings)[]) {
      expect(settings[name], name).toEqual(whole[name]);
    }
  });

  it("are parsed when first read, not at load (the retention policy's default is a whole policy)", () => {
    const settings = loadSettings(base);
    expect(Object.getOwnPropertyDescriptor(settings, "SIMSNAP_RETENTION")?.get).toBeTypeOf(
      "function",
    );
    expect(Object.getOwnPropertyDescriptor(settings, "SIMSNAP_TABLE")?.value).toBe("catalog");
  });

  it("leave what is set, or required, checked at load", () => {
    expect(() => loadSettings({ ...base, SIMSNAP_RETENTION: "{" })).toThrow(
      /SIMSNAP_RETENTION: must be JSON/,
    );
    expect(() => loadSettings({ ...base, SIMSNAP_TRASH_DAYS: "400" })).toThrow(ConfigError);
    expect(() => loadSettings({ SIMSNAP_TABLE: "catalog" })).toThrow(/SIMSNAP_SNAPSHOT_BUCKET/);
  });
});
