import * as z from "zod";
import { ValidationError } from "./errors.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * Key layouts of checkpoints that other tools write (a training loop, an HPC code): a pattern such
 * as `{run}/checkpoint-{step}/` with named fields, relative to a source prefix. A pattern ending in
 * `/` describes a directory checkpoint (every object under that directory belongs to it); any
 * other pattern describes a single-object checkpoint. Patterns are compiled once, when the config
 * is loaded, so a mistake is reported with the rule it breaks instead of silently matching nothing.
 */

/** The fields a layout may name. */
export const LAYOUT_FIELDS = ["run", "name", "step", "epoch", "index", "time"] as const;
/** One field of a layout. */
export type LayoutField = (typeof LAYOUT_FIELDS)[number];

/**
 * What a key says through its layout's fields. `run` and `name` are text (never containing `/`);
 * `step` (a training or solver step), `epoch` and `index` (a checkpoint's sequence number, as Ray
 * Tune counts them, which is not a step) are whole numbers; `time` is an instant (see
 * `parseLayoutTime` for the spellings read).
 */
export interface LayoutFields {
  run?: string;
  name?: string;
  step?: number;
  epoch?: number;
  index?: number;
  time?: Date;
}

type Part = { readonly literal: string } | { readonly field: LayoutField };

/** A validated, compiled layout; build it with `compileLayout`. */
export interface CompiledLayout {
  /** The pattern as configured. */
  readonly pattern: string;
  /** `directory` when the pattern ends in `/`: a checkpoint is every object under a prefix. */
  readonly kind: "directory" | "object";
  /** The fields the pattern names, in order. */
  readonly fields: readonly LayoutField[];
  readonly parts: readonly Part[];
  readonly regex: RegExp;
}

/** Where a key falls in a layout: its checkpoint, the fields, and its path inside the checkpoint. */
export interface LayoutMatch {
  /**
   * The checkpoint's own path: the directory (ending in `/`) of a directory checkpoint, the whole
   * path of a single-object one. Always `checkpointPath + relativePath === path`.
   */
  checkpointPath: string;
  fields: LayoutFields;
  /**
   * The path inside a directory checkpoint (`model.safetensors`, `state/array_metadatas/0`); empty
   * for a single-object checkpoint and for a directory's own placeholder object (`dir/`).
   */
  relativePath: string;
}

const INTEGER = String.raw`\d+`;
const ISO_EXTENDED = String.raw`(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?`;
const ISO_BASIC = String.raw`(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(?:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{4})?`;
const RAY_STAMP = String.raw`(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})(\.\d{1,9})?`;
const EPOCH_SECONDS = String.raw`(\d{1,12})(\.\d{1,9})?`;

/** How a field's value is spelt inside a key; groups are non-capturing so fields number simply. */
const FIELD_SOURCE: Record<LayoutField, string> = {
  run: "[^/]+",
  name: "[^/]+",
  step: INTEGER,
  epoch: INTEGER,
  index: INTEGER,
  time: [ISO_EXTENDED, ISO_BASIC, RAY_STAMP, EPOCH_SECONDS]
    .map((source) => `(?:${source.replace(/\((?!\?)/g, "(?:")})`)
    .join("|"),
};

const isField = (name: string): name is LayoutField =>
  (LAYOUT_FIELDS as readonly string[]).includes(name);

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

const knownFields = LAYOUT_FIELDS.map((f) => `{${f}}`).join(", ");

/**
 * Compiles and checks a layout pattern. The rules, each named in the error when broken: braces
 * pair up (`{{` and `}}` are literal braces); fields are among `LAYOUT_FIELDS`; a field appears
 * once; two fields have literal text between them (`{run}{step}` could split `ab12` several ways);
 * at least one field is named (else every checkpoint would have the same key); the pattern is
 * relative (no leading `/`) and has no empty, `.` or `..` segment, which tools mapping keys to
 * paths would resolve elsewhere. Fields never span `/`: each is matched within one segment.
 */
export function compileLayout(pattern: string): CompiledLayout {
  function fail(why: string): never {
    throw new ValidationError(`invalid layout ${JSON.stringify(pattern)}: ${why}`, [
      { path: "layout", message: why },
    ]);
  }
  const parts: Part[] = [];
  const fields: LayoutField[] = [];
  let literal = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if ((c === "{" || c === "}") && pattern.charAt(i + 1) === c) {
      literal += c;
      i++;
    } else if (c === "{") {
      const close = pattern.indexOf("}", i);
      if (close === -1) fail(`"{" at position ${i + 1} is not closed (write "{{" for a brace)`);
      const name = pattern.slice(i + 1, close);
      if (!isField(name)) {
        fail(`unknown field {${name}} at position ${i + 1}; known fields are ${knownFields}`);
      }
      if (fields.includes(name)) fail(`field {${name}} appears twice; name each field once`);
      const previous = parts.at(-1);
      if (literal === "" && previous !== undefined && "field" in previous) {
        fail(
          `fields {${previous.field}} and {${name}} are adjacent; put literal text between ` +
            "them so that a key splits one way only",
        );
      }
      if (literal !== "") parts.push({ literal });
      literal = "";
      parts.push({ field: name });
      fields.push(name);
      i = close;
    } else if (c === "}") {
      fail(`"}" at position ${i + 1} has no "{" (write "}}" for a brace)`);
    } else literal += c;
  }
  if (literal !== "") parts.push({ literal });
  if (fields.length === 0) {
    fail(`it names no field (${knownFields}), so every checkpoint would have the same key`);
  }
  const kind = pattern.endsWith("/") ? "directory" : "object";
  // Segment rules are checked on the pattern with every field standing for a placeholder.
  const shape = parts.map((p) => ("field" in p ? "\u0000" : p.literal)).join("");
  const segments = (kind === "directory" ? shape.slice(0, -1) : shape).split("/");
  if (shape.startsWith("/")) fail('it must be relative to the source prefix: no leading "/"');
  if (segments.includes("")) fail('it has an empty segment ("//"); keys with one are refused');
  if (segments.some((s) => s === "." || s === "..")) {
    fail('it has a "." or ".." segment, which tools mapping keys to paths resolve elsewhere');
  }
  const body = parts
    .map((p) => ("field" in p ? `(${FIELD_SOURCE[p.field]})` : escapeRegExp(p.literal)))
    .join("");
  const source = kind === "directory" ? `^(${body})(.*)$` : `^(${body})$`;
  return { pattern, kind, fields, parts, regex: new RegExp(source, "s") };
}

/** A layout pattern in a config, rejected at load when `compileLayout` refuses it. */
export const LayoutPatternSchema = lazySchema(() =>
  z.string().superRefine((pattern, ctx) => {
    try {
      compileLayout(pattern);
    } catch (error) {
      const rule =
        error instanceof ValidationError ? (error.details[0]?.message ?? error.message) : error;
      ctx.addIssue({ code: "custom", message: String(rule) });
    }
  }),
);

/**
 * Where `path` (a key relative to the source prefix) falls in `layout`, or undefined when it is
 * not part of any checkpoint of the layout: another file of the tool, a value a field cannot hold
 * (a step too large to be exact, an impossible date).
 */
export function matchLayout(layout: CompiledLayout, path: string): LayoutMatch | undefined {
  const match = layout.regex.exec(path);
  if (match === null) return undefined;
  const fields: LayoutFields = {};
  for (const [i, field] of layout.fields.entries()) {
    const text = match[i + 2] ?? "";
    if (field === "run" || field === "name") fields[field] = text;
    else if (field === "time") {
      const time = parseLayoutTime(text);
      if (time === undefined) return undefined;
      fields.time = time;
    } else {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) return undefined;
      fields[field] = value;
    }
  }
  const checkpointPath = match[1] ?? "";
  return { checkpointPath, fields, relativePath: path.slice(checkpointPath.length) };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** `time` as `formatLayout` spells it: ISO 8601 basic, UTC, with milliseconds only when set. */
export function formatLayoutTime(time: Date): string {
  const ms = time.getUTCMilliseconds();
  return (
    `${pad(time.getUTCFullYear(), 4)}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}` +
    `T${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}` +
    `${ms === 0 ? "" : `.${pad(ms, 3)}`}Z`
  );
}

/**
 * The checkpoint path `layout` gives to `fields` (with a trailing `/` for a directory layout): how
 * a tool following the layout would name the checkpoint, so the demo trainer and tests write keys
 * that discovery reads back. Refuses a missing field and a value the layout could not read back.
 */
export function formatLayout(layout: CompiledLayout, fields: LayoutFields): string {
  function fail(field: LayoutField, why: string): never {
    throw new ValidationError(
      `cannot fill {${field}} of ${JSON.stringify(layout.pattern)}: ${why}`,
      [{ path: field, message: why }],
    );
  }
  return layout.parts
    .map((part) => {
      if ("literal" in part) return part.literal;
      const { field } = part;
      const value = fields[field];
      if (value === undefined) fail(field, "no value given");
      if (value instanceof Date) {
        const year = value.getUTCFullYear();
        if (Number.isNaN(value.getTime()) || year < 0 || year > 9999) {
          fail(field, "must be a valid date in the years 0000 to 9999");
        }
        return formatLayoutTime(value);
      }
      if (typeof value === "number") {
        if (!Number.isSafeInteger(value) || value < 0) fail(field, "must be a whole number ≥ 0");
        return String(value);
      }
      if (value === "" || value.includes("/") || value === "." || value === "..") {
        fail(field, 'must be non-empty text without "/", and not "." or ".."');
      }
      return value;
    })
    .join("");
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Milliseconds of a fraction such as `.123456` (truncated, as the instant has ms precision). */
const fractionMillis = (fraction: string | undefined): number =>
  fraction === undefined || fraction === "" ? 0 : Number(fraction.slice(1, 4).padEnd(3, "0"));

function fromParts(
  [year, month, day, hour = 0, minute = 0, second = 0]: number[],
  millis: number,
  offset: string | undefined,
): Date | undefined {
  if (year === undefined || month === undefined || day === undefined) return undefined;
  const days = month === 2 && !isLeap(year) ? 28 : MONTH_DAYS[month - 1];
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (offset !== undefined && offset !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    const [hours, minutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (offset.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  return date;
}

const anchored = (source: string): RegExp => new RegExp(`^${source}$`);
const ISO_EXTENDED_RE = anchored(ISO_EXTENDED);
const ISO_BASIC_RE = anchored(ISO_BASIC);
const RAY_STAMP_RE = anchored(RAY_STAMP);
const EPOCH_SECONDS_RE = anchored(EPOCH_SECONDS);

/**
 * Reads a `{time}` field. Four spellings, because the tools differ: ISO 8601 extended
 * (`2026-12-01T10:00:00Z`, `2026-12-01T10:00:00.5+01:00`, or a date alone, read as midnight), ISO
 * 8601 basic (`20261201T100000Z`, what `formatLayout` writes), Ray Train's directory stamp
 * (`2026-12-01_10-00-00.123456`) and Unix epoch seconds (`1764583200`, `1764583200.25`, what
 * Python's `time.time()` prints). A time without an offset is read as UTC: Ray writes its stamp
 * on the driver's local clock, which on cloud nodes is UTC. Fractions are cut to milliseconds.
 * Undefined for anything else, including impossible dates (`2026-02-30`), so such a key is not
 * taken for a checkpoint.
 */
export function parseLayoutTime(text: string): Date | undefined {
  const epoch = EPOCH_SECONDS_RE.exec(text);
  if (epoch !== null) {
    return new Date(Number(epoch[1]) * 1000 + fractionMillis(epoch[2]));
  }
  const numbers = (match: RegExpExecArray, count: number): number[] =>
    match.slice(1, count + 1).flatMap((part) => (part === undefined ? [] : [Number(part)]));
  const extended = ISO_EXTENDED_RE.exec(text);
  if (extended !== null) {
    return fromParts(numbers(extended, 6), fractionMillis(extended[7]), extended[8]);
  }
  const basic = ISO_BASIC_RE.exec(text);
  if (basic !== null) return fromParts(numbers(basic, 6), fractionMillis(basic[7]), basic[8]);
  const ray = RAY_STAMP_RE.exec(text);
  if (ray !== null) return fromParts(numbers(ray, 6), fractionMillis(ray[7]), undefined);
  return undefined;
}
