/** Where a JSON text breaks the grammar, and how, in words a person editing the file can act on. */
export interface JsonSyntaxProblem {
  /** 1-based line and column (in UTF-16 code units, as editors count them). */
  line: number;
  column: number;
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const describe = (char: string | undefined): string =>
  char === undefined ? "the end of the file" : JSON.stringify(char);

/** The 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/**
 * The first place `text` is not JSON (RFC 8259), or `undefined` when it is. `JSON.parse` says only
 * "position 1107", or on Node 20 sometimes no position at all, so config files are checked again
 * by this small scanner once `JSON.parse` refused them, to name a line and column and the usual
 * slips (a trailing comma, a missing comma, single quotes, a comment).
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  try {
    scan(text, () => {});
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { ...lineAndColumn(text, error.offset), reason: error.reason };
  }
}

/**
 * Where the member at `path` (object keys and array indexes, as a validation error names them)
 * starts in a JSON text: its key, or an element's first character. A path the text lacks (a
 * required field left out) is placed at its nearest ancestor that is there, which is where it
 * must be added. `undefined` when the text is not JSON.
 */
export function locateJsonPath(
  text: string,
  path: readonly (string | number)[],
): { line: number; column: number } | undefined {
  const starts = new Map<string, number>();
  try {
    scan(text, (at, offset) => starts.set(JSON.stringify(at), offset));
  } catch (error) {
    if (error instanceof Stop) return undefined;
    throw error;
  }
  for (let length = path.length; length > 0; length -= 1) {
    const offset = starts.get(JSON.stringify(path.slice(0, length).map(String)));
    if (offset !== undefined) return lineAndColumn(text, offset);
  }
  return lineAndColumn(text, text.search(/\S|$/));
}

/**
 * Walks `text` by the JSON grammar, telling `member` where each object member (its key) and each
 * array element starts; throws `Stop` at the first break of the grammar.
 */
function scan(text: string, member: (path: string[], offset: number) => void): void {
  const path: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i += 1;
  };
  const fail = (reason: string, at = i): never => {
    // Wherever a comment starts, that is the slip, whatever was expected there.
    const comment = text[at] === "/" && (text[at + 1] === "/" || text[at + 1] === "*");
    throw new Stop(at, comment ? "JSON has no comments" : reason);
  };

  const string = () => {
    const start = i;
    i += 1; // the opening quote
    while (i < text.length) {
      const char = text[i] as string;
      if (char === '"') {
        i += 1;
        return;
      }
      if (char === "\\") {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail("\\u must be followed by four hex digits");
          }
          i += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) {
          fail(`${describe(`\\${next ?? ""}`)} is not an escape JSON knows`);
        }
        i += 2;
        continue;
      }
      if (char < " ") fail("a line break or tab inside a string must be written \\n or \\t");
      i += 1;
    }
    fail("this string is never closed", start);
  };

  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === "-") fail("not a number JSON knows (no leading +, ., 0x or NaN)");
    i += match![0].length;
  };

  const value = (): void => {
    ws();
    const char = text[i];
    if (char === "{") return object();
    if (char === "[") return array();
    if (char === '"') return string();
    if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return number();
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    if (char === "'") fail("strings need double quotes");
    fail(`expected a value, found ${describe(char)}`);
  };

  // Objects and arrays share the walk from bracket to bracket; only what may stand between differs.
  /** Steps past the opening bracket; true when the container closes straight away. */
  const opens = (close: "}" | "]"): boolean => {
    i += 1;
    ws();
    if (text[i] !== close) return false;
    i += 1;
    return true;
  };
  /** Reads the value of one member or element, telling `member` that it starts at `start`. */
  const entry = (key: string, start: number) => {
    path.push(key);
    member(path, start);
    value();
    path.pop();
  };
  /** Steps past the "," or `close` after an entry; true at `close`, else `expected` names the slip. */
  const closes = (close: "}" | "]", expected: (after: string | undefined) => string): boolean => {
    ws();
    const after = text[i];
    if (after !== "," && after !== close) fail(expected(after));
    i += 1;
    return after === close;
  };

  const object = () => {
    if (opens("}")) return;
    for (;;) {
      ws();
      const char = text[i];
      if (char === "}") fail('a comma before "}" is not allowed in JSON');
      if (char === "'") fail("property names need double quotes");
      if (char !== '"') fail(`expected a property name in double quotes, found ${describe(char)}`);
      const keyStart = i;
      string();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      ws();
      if (text[i] !== ":") fail(`expected ":" after the property name, found ${describe(text[i])}`);
      i += 1;
      entry(key, keyStart);
      const ended = closes("}", (after) =>
        after === '"'
          ? 'expected "," before the next property'
          : `expected "," or "}" after a property value, found ${describe(after)}`,
      );
      if (ended) return;
    }
  };

  const array = () => {
    if (opens("]")) return;
    for (let index = 0; ; index += 1) {
      ws();
      if (text[i] === "]") fail('a comma before "]" is not allowed in JSON');
      entry(String(index), i);
      const ended = closes(
        "]",
        (after) => `expected "," or "]" after an array element, found ${describe(after)}`,
      );
      if (ended) return;
    }
  };

  value();
  ws();
  if (i < text.length) fail(`expected the end of the file, found ${describe(text[i])}`);
}
