/**
 * What the CLI prints is read by a person at a terminal, not by a program: the API's messages name
 * its own parameters (`force=true`) and routes, and zod's default messages are a parser's
 * ("Too big: expected string to have <=256 characters"). These rewrite both into what the person
 * can act on, in one place, so every command says it the same way.
 */

/** The API's way of naming a choice, and the CLI's flag for it. */
const API_TO_CLI: readonly [RegExp, string | ((...groups: string[]) => string)][] = [
  [/\bforce=true\b/g, "--force"],
  [/\bsnapshot=false\b/g, "--no-snapshot"],
  [/\bdryRun=true\b/g, "--dry-run"],
  [/\bor with force\b/g, "or with --force"],
  [/\bask with force\b/g, "ask with --force"],
  [/\bforce the run to allow it\b/g, "run it with --force to allow it"],
  [
    /\(POST \/simulations\/([^/\s)]+)\/stop\)/g,
    (simulation) => `(simsnap stop ${decodeURIComponent(simulation)})`,
  ],
];

/** The API's wording of a choice, as the CLI's flags and commands: `force=true` → `--force`. */
export function inCliTerms(message: string): string {
  return API_TO_CLI.reduce(
    (text, [pattern, replacement]) =>
      typeof replacement === "string"
        ? text.replace(pattern, replacement)
        : text.replace(pattern, (_match, ...groups: string[]) => replacement(...groups)),
    message,
  );
}

const TYPE_NAMES: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "text",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  date: "a date",
};

const quotedList = (list: string): string => {
  const items = list.split("|").map((item) => item.replace(/^"|"$/g, ""));
  return items.length === 1
    ? items[0]!
    : `${items.slice(0, -1).join(", ")} or ${items.at(-1) ?? ""}`;
};

const count = (n: string, unit: string): string => `${n} ${unit}${n === "1" ? "" : "s"}`;

/** zod's default messages (zod 4), and what a person reads instead. */
const ZOD_WORDING: readonly [RegExp, (...groups: string[]) => string][] = [
  [/^Invalid option: expected one of (.+)$/, (list) => `must be one of ${quotedList(list)}`],
  [/^Invalid input: expected "(.*)"$/, (value) => `must be ${value}`],
  [/^Invalid input: expected \w+, received undefined$/, () => "is required"],
  [/^Invalid input: expected number, received NaN$/, () => "must be a number"],
  [
    /^Invalid input: expected (\w+), received \w+$/,
    (type) => `must be ${TYPE_NAMES[type] ?? type}`,
  ],
  [
    /^Too (?:big|small): expected string to have ([<>]=?)(\d+) characters$/,
    (op, n) =>
      op === ">=" && n === "1"
        ? "must not be empty"
        : `must be ${op.startsWith("<") ? "at most" : "at least"} ${count(n!, "character")}`,
  ],
  [
    /^Too (?:big|small): expected array to have ([<>]=?)(\d+) items$/,
    (op, n) =>
      op === ">=" && n === "1"
        ? "must name at least one"
        : `must have ${op.startsWith("<") ? "at most" : "at least"} ${count(n!, "item")}`,
  ],
  [
    /^Too (?:big|small): expected number to be ([<>]=?)(\S+)$/,
    (op, n) =>
      ({
        "<=": `must be at most ${n}`,
        "<": `must be less than ${n}`,
        ">=": `must be at least ${n}`,
        ">": `must be more than ${n}`,
      })[op] ?? `must be ${op} ${n}`,
  ],
  [/^Invalid string: must match pattern (.+)$/, (pattern) => `must match the pattern ${pattern}`],
  [/^Invalid ISO datetime$/, () => "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z"],
  [/^Invalid ISO date$/, () => "must be a date such as 2026-01-31"],
  [/^Invalid URL$/, () => "must be a URL such as http://127.0.0.1:8080"],
  [/^Unrecognized keys?: (.+)$/, (keys) => `unknown field ${keys.replace(/"/g, "")}`],
];

/**
 * One rule's message for a person: zod's default wording rephrased (`Too big: expected string to
 * have <=256 characters` → `must be at most 256 characters`), simsnap's own messages unchanged.
 */
export function forPeople(message: string): string {
  for (const [pattern, rephrase] of ZOD_WORDING) {
    const match = pattern.exec(message);
    if (match) return rephrase(...match.slice(1));
  }
  return inCliTerms(message);
}

/**
 * A validation error's message rebuilt for a person from its details (each `field: rule`, the
 * rule rephrased), keeping what it said first (`Invalid query`); unchanged without details.
 */
export function validationMessage(
  message: string,
  details: readonly { path: string; message: string }[],
): string {
  if (details.length === 0) return inCliTerms(message);
  const head = message.includes(": ") ? message.slice(0, message.indexOf(": ")) : message;
  return `${head}: ${details.map((d) => `${d.path}: ${forPeople(d.message)}`).join("; ")}`;
}
