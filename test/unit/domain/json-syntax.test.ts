import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findJsonSyntaxProblem,
  lineAndColumn,
  locateJsonPath,
} from "../../../lib/domain/json-syntax.ts";

describe("findJsonSyntaxProblem", () => {
  it.each([
    ["a trailing comma in an array", '{\n  "a": [\n    1,\n  ]\n}', 4, 3, 'a comma before "]"'],
    ["a trailing comma in an object", '{\n  "a": 1,\n}', 3, 1, 'a comma before "}"'],
    ["a missing comma", '{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," before the next property'],
    ["single quotes", "{ 'a': 1 }", 1, 3, "property names need double quotes"],
    ["a comment", '{\n  // note\n  "a": 1\n}', 2, 3, "JSON has no comments"],
    ["a bare word", '{ "a": yes }', 1, 8, 'expected a value, found "y"'],
    ["an unclosed string", '{ "a": "b }', 1, 8, "this string is never closed"],
    ["a tab in a string", '{ "a": "b\tc" }', 1, 10, "must be written \\n or \\t"],
    ["a bad escape", '{ "a": "\\x" }', 1, 9, "is not an escape JSON knows"],
    ["a leading plus", '{ "a": +1 }', 1, 8, 'expected a value, found "+"'],
    ["a missing colon", '{ "a" 1 }', 1, 7, 'expected ":" after the property name'],
    ["the end of the file", '{ "a": [1, 2', 1, 13, "found the end of the file"],
    ["something after the value", "{}\n}", 2, 1, "expected the end of the file"],
    ["an empty file", "", 1, 1, "expected a value, found the end of the file"],
  ])("names the line, column and slip of %s", (_, text, line, column, reason) => {
    const problem = findJsonSyntaxProblem(text);
    expect(problem).toMatchObject({ line, column });
    expect(problem?.reason).toContain(reason);
    expect(() => JSON.parse(text)).toThrow();
  });

  it("finds no problem exactly where JSON.parse finds none", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        expect(findJsonSyntaxProblem(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
    const jsonish = fc.stringMatching(/^[{}[\]",:0-9a-z \n.\-\\+eE']{0,30}$/);
    fc.assert(
      fc.property(jsonish, (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(findJsonSyntaxProblem(text) === undefined).toBe(parses);
      }),
      { numRuns: 2000 },
    );
  });

  it("counts lines and columns from 1", () => {
    expect(lineAndColumn("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
  });
});

describe("locateJsonPath", () => {
  const text = '{\n  "a": {\n    "b.c": [10, { "d": 1 }]\n  },\n  "a2": 0\n}';

  it("finds a member's key and an element's first character", () => {
    expect(locateJsonPath(text, ["a"])).toEqual({ line: 2, column: 3 });
    expect(locateJsonPath(text, ["a", "b.c"])).toEqual({ line: 3, column: 5 });
    expect(locateJsonPath(text, ["a", "b.c", 1])).toEqual({ line: 3, column: 17 });
    expect(locateJsonPath(text, ["a", "b.c", 1, "d"])).toEqual({ line: 3, column: 19 });
    expect(locateJsonPath(text, ["a2"])).toEqual({ line: 5, column: 3 });
  });

  it("places a missing member at its nearest ancestor, the root at the value's start", () => {
    expect(locateJsonPath(text, ["a", "missing", 0])).toEqual({ line: 2, column: 3 });
    expect(locateJsonPath(`\n  ${text}`, ["nothing"])).toEqual({ line: 2, column: 3 });
  });

  it("places nothing in a text that is not JSON", () => {
    expect(locateJsonPath('{ "a": }', ["a"])).toBeUndefined();
  });
});
