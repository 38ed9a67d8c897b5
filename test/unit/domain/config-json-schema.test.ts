import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import {
  CONFIG_SCHEMA_FILE,
  configJsonSchema,
  knownFieldsAt,
} from "../../../lib/domain/config-json-schema.ts";

const root = resolve(import.meta.dirname, "../../..");
const readJson = (file: string) =>
  JSON.parse(readFileSync(resolve(root, file), "utf8")) as Record<string, unknown>;

function editorCheck() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(readJson(CONFIG_SCHEMA_FILE));
}

describe("the config file's JSON Schema", () => {
  it("is committed as generated from the config schema (npm run schema writes it)", () => {
    expect(readJson(CONFIG_SCHEMA_FILE), `${CONFIG_SCHEMA_FILE} is stale: npm run schema`).toEqual(
      configJsonSchema(),
    );
  });

  it("is what the sample config points editors at, and the sample passes it", () => {
    const sample = readJson("simsnap.config.json");
    expect(resolve(root, String(sample.$schema))).toBe(resolve(root, CONFIG_SCHEMA_FILE));
    const check = editorCheck();
    expect(check(sample), JSON.stringify(check.errors)).toBe(true);
  });

  it("flags in the editor what the loader refuses for shape: unknown fields, wrong types", () => {
    const check = editorCheck();
    expect(check({ schedule: [] })).toBe(false);
    expect(check({ schedules: [{ name: "a", expression: "rate(1 hour)", enabled: "yes" }] })).toBe(
      false,
    );
    expect(check({ retention: { default: { keepLast: 2, keepDayly: 1 } } })).toBe(false);
    expect(check({ $schema: "./schema/simsnap.config.schema.json", schedules: [] })).toBe(true);
  });

  it("knows the fields of each object in the file, for suggestions", () => {
    const schema = configJsonSchema();
    expect(knownFieldsAt(schema, [])).toEqual(expect.arrayContaining(["schedules", "retention"]));
    expect(knownFieldsAt(schema, ["schedules", 0])).toEqual(
      expect.arrayContaining(["name", "expression", "localExpression", "timeZone"]),
    );
    expect(knownFieldsAt(schema, ["retention", "overrides", 3, "policy"])).toContain("keepDaily");
    expect(knownFieldsAt(schema, ["schedules", 0, "name"])).toEqual([]);
  });
});
