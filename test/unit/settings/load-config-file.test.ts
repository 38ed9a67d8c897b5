import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import {
  ConfigFileError,
  parseConfigText,
  type ConfigProblem,
} from "../../../lib/load-config-file.ts";

function problems(text: string): ConfigProblem[] {
  try {
    parseConfigText(text, "/srv/simsnap.config.json");
  } catch (error) {
    if (error instanceof ConfigFileError) {
      // The plain details every ValidationError carries are the problems without their places.
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.details).toEqual(error.problems.map(({ path, message }) => ({ path, message })));
      return [...error.problems];
    }
    throw error;
  }
  throw new Error("the config was accepted");
}

describe("parseConfigText", () => {
  it('accepts "$schema", which editors read and simsnap ignores', () => {
    const config = parseConfigText(
      JSON.stringify({ $schema: "./schema/simsnap.config.schema.json", schedules: [] }),
      "x.json",
    );
    expect(config.schedules).toEqual([]);
  });

  it("names the line and column of invalid JSON, not an offset", () => {
    const text = '{\n  "schedules": [],\n  "retention": { "default": { "keepLast": 2 }, }\n}';
    expect(() => parseConfigText(text, "/srv/simsnap.config.json")).toThrow(
      'The config file /srv/simsnap.config.json is not valid JSON: line 3, column 48: a comma before "}" is not allowed in JSON',
    );
    expect(problems(text)).toEqual([
      {
        path: "(file)",
        message: 'must be JSON; a comma before "}" is not allowed in JSON',
        line: 3,
        column: 48,
      },
    ]);
  });

  it("reads a file an editor saved with a byte order mark", () => {
    expect(parseConfigText('\uFEFF{"schedules": []}', "x.json").schedules).toEqual([]);
  });

  it("suggests the field a misspelt key most likely meant, on the key's own path and line", () => {
    const text = JSON.stringify(
      {
        schedule: [],
        destination: { prefx: "p" },
        schedules: [{ name: "a", expresion: "rate(1 hour)" }],
        retention: { default: { keeplast: 2, keepLast: 1 } },
      },
      null,
      2,
    );
    const at = (key: string) => {
      const line = text.split("\n").findIndex((l) => l.includes(`"${key}"`));
      return { line: line + 1, column: (text.split("\n")[line] as string).indexOf(`"${key}"`) + 1 };
    };
    expect(problems(text)).toEqual(
      expect.arrayContaining([
        {
          path: "schedule",
          message: 'is not a field here; did you mean "schedules"?',
          ...at("schedule"),
        },
        {
          path: "destination.prefx",
          message: 'is not a field here; did you mean "prefix"?',
          ...at("prefx"),
        },
        {
          path: "schedules.0.expresion",
          message: 'is not a field here; did you mean "expression"?',
          ...at("expresion"),
        },
        {
          path: "retention.default.keeplast",
          message: 'is not a field here; did you mean "keepLast"?',
          ...at("keeplast"),
        },
      ]),
    );
  });

  it("places a missing field at the object that lacks it", () => {
    const text = '{\n  "schedules": [\n    { "name": "a" }\n  ]\n}';
    expect(problems(text)).toEqual([
      {
        path: "schedules.0.expression",
        message: "Invalid input: expected string, received undefined",
        line: 3,
        column: 5,
      },
    ]);
  });

  it("lists the fields of the place when no field is close", () => {
    expect(problems(JSON.stringify({ destination: { region: "eu-west-1" } }))).toEqual([
      {
        path: "destination.region",
        message:
          "is not a field here; the fields here are bucket, prefix, adoptPrefixes, trashDays",
        line: 1,
        column: 17,
      },
    ]);
  });

  it("keeps the other rules' messages, each on its field", () => {
    const text = JSON.stringify({ schedules: [{ name: "a", expression: "rate(5 seconds)" }] });
    expect(() => parseConfigText(text, "/srv/c.json")).toThrow(
      /^Invalid config file \/srv\/c\.json: schedules\.0\.expression: is in seconds/,
    );
  });
});
