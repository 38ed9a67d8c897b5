import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../cli/program.ts";
import { configJsonSchema } from "../../../lib/domain/config-json-schema.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "simsnap-config-cli-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function simsnap(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

describe("simsnap config validate", () => {
  it("passes a valid file with exit code 0", async () => {
    const path = await file("ok.json", '{ "$schema": "x.json", "schedules": [] }');
    expect(await simsnap("config", "validate", path)).toEqual({
      code: 0,
      out: [`${path}: valid`],
      err: [],
    });
  });

  it("validates simsnap.config.json when given no file", async () => {
    expect(await simsnap("config", "validate")).toMatchObject({
      code: 0,
      out: ["simsnap.config.json: valid"],
    });
  });

  it("prints each of the loader's problems on its own line and exits 2", async () => {
    const path = await file(
      "typo.json",
      '{\n  "schedules": [\n    { "name": "a", "expresion": "rate(1 hour)" }\n  ],\n  "retention": { "default": { "keepDayly": 7 } }\n}\n',
    );
    const result = await simsnap("config", "validate", path);
    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      `${path}:3:5: schedules.0.expression: Invalid input: expected string, received undefined`,
      `${path}:3:20: schedules.0.expresion: is not a field here; did you mean "expression"?`,
      expect.stringMatching(
        new RegExp(`^${path}:5:18: retention.default: the policy keeps nothing`),
      ),
      `${path}:5:31: retention.default.keepDayly: is not a field here; did you mean "keepDaily"?`,
      `error: ${path} is not a valid simsnap config (4 problems)`,
    ]);
  });

  it("names the line and column of invalid JSON", async () => {
    const path = await file("broken.json", '{\n  "schedules": [\n    {},\n  ]\n}\n');
    const result = await simsnap("config", "validate", path);
    expect(result.code).toBe(2);
    expect(result.err[0]).toBe(
      `${path}:4:3: must be JSON; a comma before "]" is not allowed in JSON`,
    );
  });

  it("says why a file cannot be read", async () => {
    const result = await simsnap("config", "validate", join(dir, "missing.json"));
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/missing\.json: must be a readable file; ENOENT/);
  });

  it("prints the outcome as JSON for scripts", async () => {
    const path = await file("json.json", JSON.stringify({ destination: { prefx: "p" } }));
    const result = await simsnap("config", "validate", path, "--json");
    expect(result.code).toBe(2);
    expect(JSON.parse(result.out[0] as string)).toEqual({
      file: path,
      valid: false,
      problems: [
        {
          path: "destination.prefx",
          message: 'is not a field here; did you mean "prefix"?',
          line: 1,
          column: 17,
        },
      ],
    });
  });
});

describe("simsnap config schema", () => {
  it("prints the generated JSON Schema", async () => {
    const result = await simsnap("config", "schema");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out.join("\n"))).toEqual(configJsonSchema());
  });
});
