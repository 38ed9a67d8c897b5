import { describe, expect, it } from "vitest";
import { SimsnapConfigSchema } from "../../../lib/domain/config-file.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { simSpaceWeaverEnabled } from "../../../lib/domain/providers.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { loadConfigFile } from "../../../lib/load-config-file.ts";

const parse = (input: unknown) => parseInput(SimsnapConfigSchema, input, "config file");

const problems = (input: unknown): { path: string; message: string }[] => {
  try {
    parse(input);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.details];
    throw error;
  }
  throw new Error("the config was accepted");
};

const air = { endpoint: "https://air.example.com/api/v3/" };
const files = { sources: [{ prefix: "training/runs", preset: "huggingface" }] };
const hourly = (selector: Record<string, unknown>) => ({
  name: "hourly",
  expression: "rate(1 hour)",
  selector,
});

describe("the SimSpace Weaver switch (providers.simspaceweaver)", () => {
  it("is on for a config that configures no other platform, and off for one that configures Air or files", () => {
    expect(simSpaceWeaverEnabled(parse({}).providers)).toBe(true);
    expect(simSpaceWeaverEnabled(parse({ providers: { air } }).providers)).toBe(false);
    expect(simSpaceWeaverEnabled(parse({ providers: { files } }).providers)).toBe(false);
  });

  it("follows enabled when the config says, whatever else it configures", () => {
    expect(
      simSpaceWeaverEnabled(parse({ providers: { simspaceweaver: { enabled: false } } }).providers),
    ).toBe(false);
    expect(
      simSpaceWeaverEnabled(
        parse({ providers: { simspaceweaver: { enabled: true }, air, files } }).providers,
      ),
    ).toBe(true);
  });

  it("keeps the sample config's npm start demo on SimSpace Weaver (its local simulations)", () => {
    const sample = loadConfigFile(
      new URL("../../../simsnap.config.json", import.meta.url).pathname,
    );
    expect(simSpaceWeaverEnabled(sample.providers)).toBe(true);
  });

  it("refuses schedule and restore-test selectors naming it, and demo simulations on it, when off", () => {
    expect(
      problems({
        providers: { simspaceweaver: { enabled: false } },
        schedules: [hourly({ providers: ["air", "simspaceweaver"] })],
        verification: { expression: "rate(1 day)", selector: { providers: ["simspaceweaver"] } },
        local: { simulations: [{ name: "ocean" }] },
      }),
    ).toEqual([
      {
        path: "schedules.0.selector.providers",
        message:
          "must not name simspaceweaver, which this deployment turns off (providers.simspaceweaver.enabled is false); remove it, or set providers.simspaceweaver.enabled to true",
      },
      {
        path: "verification.selector.providers",
        message: expect.stringMatching(/^must not name simspaceweaver, which this deployment/),
      },
      {
        path: "local.simulations.0.provider",
        message: expect.stringMatching(/^must not be simspaceweaver, which this deployment/),
      },
    ]);
  });

  it("says why it is off when the default turned it off", () => {
    expect(
      problems({ providers: { air }, schedules: [hourly({ providers: ["simspaceweaver"] })] }),
    ).toEqual([
      {
        path: "schedules.0.selector.providers",
        message: expect.stringContaining(
          "providers.simspaceweaver.enabled is unset and the config configures another platform (air or files)",
        ),
      },
    ]);
  });

  it("accepts the same selectors with it on, and unknown fields in it are refused", () => {
    expect(() =>
      parse({
        providers: { simspaceweaver: { enabled: true }, air },
        schedules: [hourly({ providers: ["simspaceweaver"] })],
      }),
    ).not.toThrow();
    expect(problems({ providers: { simspaceweaver: { enable: false } } })).toEqual([
      expect.objectContaining({ path: "providers.simspaceweaver" }),
    ]);
  });
});
