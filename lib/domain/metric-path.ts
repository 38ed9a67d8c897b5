import * as z from "zod";
import { ValidationError } from "./errors.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * A small JSON path naming one number in a checkpoint's sidecar file, such as
 * `log_history[-1].eval_loss` in a Hugging Face `trainer_state.json`. The syntax is deliberately
 * tiny, so a config reads like the code that would fetch the value: names joined by `.`, array
 * indices in brackets (negative ones count from the end, as in Python), and names that are not
 * plain words in brackets as JSON strings (`metrics["val/loss"]`). Paths are compiled when the
 * config is loaded; reading one never throws: a missing or non-numeric value is no value.
 */

type Step = { readonly key: string } | { readonly index: number };

/** A compiled metric path; build it with `compileMetricPath`. */
export interface MetricPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*/;
const INDEX = /^\[(-?\d+)\]/;
const STRING = /^\[("(?:[^"\\]|\\.)*")\]/;

/** Compiles a metric path, or throws a `ValidationError` naming the position and what was wrong. */
export function compileMetricPath(source: string): MetricPath {
  function fail(at: number, why: string): never {
    const message = `invalid metric path ${JSON.stringify(source)}: ${why} at position ${at + 1}`;
    throw new ValidationError(message, [{ path: "path", message: `${why} at position ${at + 1}` }]);
  }
  if (source === "") fail(0, "it is empty; write e.g. log_history[-1].eval_loss");
  const steps: Step[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const afterDot = rest.startsWith(".") && steps.length > 0;
    if (rest.startsWith(".") && steps.length === 0) fail(at, 'a path cannot start with "."');
    const name = NAME.exec(afterDot ? rest.slice(1) : rest);
    if (afterDot || (steps.length === 0 && name !== null)) {
      if (name === null) fail(at + 1, 'expected a name after "." (use ["…"] for other keys)');
      steps.push({ key: name[0] });
      at += (afterDot ? 1 : 0) + name[0].length;
      continue;
    }
    const index = INDEX.exec(rest);
    if (index !== null) {
      const value = Number(index[1]);
      if (!Number.isSafeInteger(value)) fail(at, `index ${index[1]} is too large`);
      steps.push({ index: value });
      at += index[0].length;
      continue;
    }
    const key = STRING.exec(rest);
    if (key !== null) {
      let text: unknown;
      try {
        text = JSON.parse(key[1] ?? "");
      } catch {
        fail(at, `${key[1]} is not a valid JSON string`);
      }
      steps.push({ key: String(text) });
      at += key[0].length;
      continue;
    }
    if (rest.startsWith("[")) fail(at, 'expected an index such as [0] or [-1], or a key ["…"]');
    fail(at, `unexpected ${JSON.stringify(rest.charAt(0))}; expected "." or "["`);
  }
  return { source, steps };
}

/** A metric path in a config, rejected at load when `compileMetricPath` refuses it. */
export const MetricPathSchema = lazySchema(() =>
  z.string().superRefine((source, ctx) => {
    try {
      compileMetricPath(source);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
);

/**
 * The number `path` names in `document` (a parsed sidecar), or undefined when the path leads
 * nowhere (a missing key, an index past the end, a key into an array) or to something that is not
 * a finite number: text, `null`, NaN or an infinity cannot be ranked, so they are no value.
 */
export function readMetric(path: MetricPath, document: unknown): number | undefined {
  let value: unknown = document;
  for (const step of path.steps) {
    if ("index" in step) {
      if (!Array.isArray(value)) return undefined;
      const position = step.index < 0 ? value.length + step.index : step.index;
      value = position >= 0 && position < value.length ? value[position] : undefined;
    } else {
      const record =
        typeof value === "object" && value !== null && !Array.isArray(value)
          ? (value as Record<string, unknown>)
          : undefined;
      value =
        record !== undefined && Object.hasOwn(record, step.key) ? record[step.key] : undefined;
    }
    if (value === undefined) return undefined;
  }
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * Parses a sidecar's text as JSON, accepting the bare `NaN`, `Infinity` and `-Infinity` that
 * Python's `json.dump` writes for such floats (a diverged loss in `trainer_state.json`, for one)
 * and that `JSON.parse` refuses: they are read as `null`, which no metric path turns into a value,
 * so one bad number does not hide the file's other metrics. Throws a `ValidationError` for text
 * that is not JSON even so.
 */
export function parseSidecarJson(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return parseJson(text);
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      out += c;
      if (c === "\\") out += text.charAt(++i);
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const word = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9))?.[0];
    if (word !== undefined) {
      out += "null";
      i += word.length - 1;
    } else out += c;
  }
  return parseJson(out);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`a sidecar file is not JSON: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
}
