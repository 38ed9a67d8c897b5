import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import {
  compileLayout,
  formatLayout,
  formatLayoutTime,
  LayoutPatternSchema,
  matchLayout,
  parseLayoutTime,
  type LayoutField,
  type LayoutFields,
} from "../../../lib/domain/file-layout.ts";

function ruleOf(pattern: string): string {
  try {
    compileLayout(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details[0]?.message ?? "";
  }
  throw new Error(`${pattern} compiled`);
}

describe("compileLayout", () => {
  it("tells a directory layout from a single-object one by the trailing /", () => {
    expect(compileLayout("{run}/checkpoint-{step}/")).toMatchObject({
      kind: "directory",
      fields: ["run", "step"],
    });
    expect(compileLayout("{run}/epoch={epoch}-step={step}.ckpt")).toMatchObject({
      kind: "object",
      fields: ["run", "epoch", "step"],
    });
  });

  it.each([
    ["{run}{step}/", "fields {run} and {step} are adjacent"],
    ["{run}/ckpt-{steps}/", "unknown field {steps} at position 12; known fields are {run}"],
    ["{run}/{run}-{step}/", "field {run} appears twice"],
    ["{run}/checkpoint-{step/", '"{" at position 18 is not closed'],
    ["{run}/step}-{step}/", '"}" at position 11 has no "{"'],
    ["checkpoints/latest/", "it names no field"],
    ["", "it names no field"],
    ["/{run}/checkpoint-{step}/", 'no leading "/"'],
    ["{run}//checkpoint-{step}/", 'empty segment ("//")'],
    ["{run}/../checkpoint-{step}/", 'a "." or ".." segment'],
    ["./{run}-{step}.ckpt", 'a "." or ".." segment'],
  ])("refuses %s, naming the rule", (pattern, rule) => {
    expect(ruleOf(pattern)).toContain(rule);
  });

  it("reads {{ and }} as literal braces", () => {
    const layout = compileLayout("{{{run}}}/{step}.bin");
    expect(matchLayout(layout, "{exp}/7.bin")?.fields).toEqual({ run: "exp", step: 7 });
    expect(formatLayout(layout, { run: "exp", step: 7 })).toBe("{exp}/7.bin");
  });

  it("is offered to configs as a schema with the same rules", () => {
    expect(LayoutPatternSchema.safeParse("{run}/checkpoint-{step}/").success).toBe(true);
    const result = LayoutPatternSchema.safeParse("{run}{step}/");
    expect(result.error?.issues[0]?.message).toContain("are adjacent");
  });
});

describe("matchLayout", () => {
  const hf = compileLayout("{run}/checkpoint-{step}/");

  it("splits a key into checkpoint, fields and the path inside", () => {
    expect(matchLayout(hf, "exp7/checkpoint-1200/model.safetensors")).toEqual({
      checkpointPath: "exp7/checkpoint-1200/",
      fields: { run: "exp7", step: 1200 },
      relativePath: "model.safetensors",
    });
    expect(matchLayout(hf, "exp7/checkpoint-1200/sub/dir/file")?.relativePath).toBe("sub/dir/file");
  });

  it("gives a directory's placeholder object an empty path inside", () => {
    expect(matchLayout(hf, "exp7/checkpoint-1200/")).toMatchObject({ relativePath: "" });
  });

  it("never lets a field span a /", () => {
    expect(matchLayout(hf, "team/exp7/checkpoint-1200/model.safetensors")).toBeUndefined();
  });

  it.each([
    "exp7/checkpoint-1200",
    "exp7/checkpoint-abc/model.safetensors",
    "exp7/tmp-checkpoint-1200/model.safetensors",
    "exp7/checkpoint-99999999999999999999/model.safetensors",
    "exp7/config.json",
  ])("matches nothing for %s", (key) => {
    expect(matchLayout(hf, key)).toBeUndefined();
  });

  it("reads leading zeros, as Ray and Orbax pad their numbers", () => {
    const ray = compileLayout("{run}/{name}/checkpoint_{index}/");
    expect(matchLayout(ray, "exp/trial_0/checkpoint_000042/model.pt")?.fields).toEqual({
      run: "exp",
      name: "trial_0",
      index: 42,
    });
  });

  it("gives text fields the longest match when the literal after them recurs", () => {
    const layout = compileLayout("{run}-{step}.ckpt");
    expect(matchLayout(layout, "my-run-12.ckpt")?.fields).toEqual({ run: "my-run", step: 12 });
  });

  it("does not take a key with an impossible time for a checkpoint", () => {
    const layout = compileLayout("{run}/checkpoint_{time}/");
    expect(matchLayout(layout, "r/checkpoint_2026-02-29_10-00-00/x")).toBeUndefined();
    expect(matchLayout(layout, "r/checkpoint_2028-02-29_10-00-00/x")?.fields.time).toEqual(
      new Date("2028-02-29T10:00:00Z"),
    );
  });

  it("holds checkpointPath + relativePath === key", () => {
    const keys = fc.tuple(
      fc.constantFrom("exp7", "a-b", "x_1"),
      fc.nat({ max: 1_000_000 }),
      fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(keys, ([run, step, rest]) => {
        const key = `${run}/checkpoint-${step}/${rest.join("/")}`;
        const match = matchLayout(hf, key);
        expect(match).toBeDefined();
        expect(`${match?.checkpointPath}${match?.relativePath}`).toBe(key);
      }),
    );
  });
});

describe("parseLayoutTime", () => {
  it.each([
    ["2026-12-01T10:00:00Z", "2026-12-01T10:00:00.000Z"],
    ["2026-12-01T10:00Z", "2026-12-01T10:00:00.000Z"],
    ["2026-12-01T10:00:00.5+01:00", "2026-12-01T09:00:00.500Z"],
    ["2026-12-01T10:00:00-0230", "2026-12-01T12:30:00.000Z"],
    ["2026-12-01T10:00:00", "2026-12-01T10:00:00.000Z"],
    ["2026-12-01", "2026-12-01T00:00:00.000Z"],
    ["20261201T100000Z", "2026-12-01T10:00:00.000Z"],
    ["20261201T100000.123456Z", "2026-12-01T10:00:00.123Z"],
    ["20261201T1000+0100", "2026-12-01T09:00:00.000Z"],
    ["2025-04-22_14-04-46.768769", "2025-04-22T14:04:46.768Z"],
    ["2025-04-22_14-04-46", "2025-04-22T14:04:46.000Z"],
    ["1764583200", "2025-12-01T10:00:00.000Z"],
    ["1764583200.25", "2025-12-01T10:00:00.250Z"],
    ["0099-01-01", "0099-01-01T00:00:00.000Z"],
  ])("reads %s", (text, iso) => {
    expect(parseLayoutTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    "2026-02-29",
    "2026-13-01",
    "2026-12-32",
    "2026-12-01T24:00:00Z",
    "2026-12-01T10:60:00Z",
    "2026-12-01T10:00:00+25:00",
    "2026-12-01 10:00:00",
    "Dec01_10-00-00",
    "",
    "1e9",
  ])("refuses %s", (text) => {
    expect(parseLayoutTime(text)).toBeUndefined();
  });

  it("reads back every instant formatLayoutTime writes", () => {
    const instants = fc.date({
      min: new Date("0000-01-01T00:00:00Z"),
      max: new Date("9999-12-31T23:59:59.999Z"),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instants, (time) => {
        expect(parseLayoutTime(formatLayoutTime(time))).toEqual(time);
      }),
    );
  });
});

describe("formatLayout", () => {
  it("names a checkpoint as the tool would", () => {
    expect(formatLayout(compileLayout("{run}/checkpoint-{step}/"), { run: "e", step: 5 })).toBe(
      "e/checkpoint-5/",
    );
    expect(
      formatLayout(compileLayout("{run}/checkpoint_{time}/"), {
        run: "r",
        time: new Date("2026-12-01T10:00:00Z"),
      }),
    ).toBe("r/checkpoint_20261201T100000Z/");
  });

  it.each<[LayoutFields, string]>([
    [{ run: "e" }, "cannot fill {step}"],
    [{ run: "a/b", step: 1 }, 'without "/"'],
    [{ run: "..", step: 1 }, 'not "." or ".."'],
    [{ run: "e", step: -1 }, "whole number ≥ 0"],
    [{ run: "e", step: 1.5 }, "whole number ≥ 0"],
  ])("refuses %j", (fields, why) => {
    expect(() => formatLayout(compileLayout("{run}/checkpoint-{step}/"), fields)).toThrow(why);
  });
});

/**
 * Random layouts whose literals each hold a character no field value can contain, with values to
 * fill them: the key a layout gives to the values must read back as the same values.
 */
const SEPARATORS = ["/", "=", "@", "~", ",", "/run-", "=v", "@ckpt_"];
const VALUES: Record<LayoutField, fc.Arbitrary<LayoutFields[LayoutField]>> = {
  run: fc.stringMatching(/^[a-z0-9_]{1,8}$/),
  name: fc.stringMatching(/^[a-z0-9_]{1,8}$/),
  step: fc.nat(),
  epoch: fc.nat({ max: 1000 }),
  index: fc.maxSafeNat(),
  time: fc.date({
    min: new Date("1970-01-01T00:00:00Z"),
    max: new Date("2200-01-01T00:00:00Z"),
    noInvalidDate: true,
  }),
};
const layouts = fc
  .record({
    fields: fc.shuffledSubarray([...(Object.keys(VALUES) as LayoutField[])], { minLength: 1 }),
    lead: fc.constantFrom("", "ckpt-", "runs/"),
    separators: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 6, maxLength: 6 }),
    tail: fc.constantFrom("/", ".ckpt", "/ckpt/", ""),
  })
  .map(({ fields, lead, separators, tail }) => ({
    fields,
    pattern:
      lead + fields.map((f, i) => (i === 0 ? `{${f}}` : `${separators[i]}{${f}}`)).join("") + tail,
  }));

describe("layouts round-trip", () => {
  it("parses a key produced from fields back to the same fields", () => {
    const cases = layouts.chain(({ fields, pattern }) =>
      fc.record({
        pattern: fc.constant(pattern),
        values: fc.record(Object.fromEntries(fields.map((f) => [f, VALUES[f]]))),
        inside: fc.array(fc.stringMatching(/^[A-Za-z0-9._-]{1,6}$/), { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(cases, ({ pattern, values, inside }) => {
        const layout = compileLayout(pattern);
        const fields = values as LayoutFields;
        const checkpointPath = formatLayout(layout, fields);
        const key =
          layout.kind === "directory" ? checkpointPath + inside.join("/") : checkpointPath;
        const match = matchLayout(layout, key);
        expect(match).toEqual({
          checkpointPath,
          fields,
          relativePath: key.slice(checkpointPath.length),
        });
      }),
    );
  });
});
