import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as z from "zod";
import { SimsnapConfigSchema, type SimsnapConfig } from "./domain/config-file.ts";
import { configJsonSchema, knownFieldsAt, type JsonSchema } from "./domain/config-json-schema.ts";
import { ValidationError } from "./domain/errors.ts";
import { findJsonSyntaxProblem, locateJsonPath } from "./domain/json-syntax.ts";
import { closestMatch } from "./domain/suggest.ts";

/** Environment variable naming the config file when no `--config` flag (or `-c config=`) does. */
export const CONFIG_FILE_ENV = "SIMSNAP_CONFIG";

/** The config file read when neither a flag nor the environment names one. */
export const DEFAULT_CONFIG_FILE = "simsnap.config.json";

/**
 * Which config file to read: the explicit choice (CLI flag, CDK context), else `SIMSNAP_CONFIG`,
 * else `simsnap.config.json`, relative to the working directory, as a user typing a path expects.
 */
export function configFilePath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  const chosen = explicit || env[CONFIG_FILE_ENV] || DEFAULT_CONFIG_FILE;
  return resolve(cwd, chosen);
}

/**
 * Reads and validates a config file. Synchronous because the CDK app builds its stacks
 * synchronously; an unreadable file, invalid JSON or a broken rule is a `ConfigFileError` naming
 * the file and every field at fault (see `parseConfigText`).
 */
export function loadConfigFile(path: string): SimsnapConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as Error).message;
    throw new ConfigFileError(
      `Cannot read the config file ${path}: ${reason}`,
      [{ path: "(file)", message: `must be a readable file; ${reason}` }],
      { cause: error },
    );
  }
  return parseConfigText(text, path);
}

/** One problem of a config file: the field and the rule, and where it is in the file if known. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** 1-based, as editors count; the member's key, or the nearest ancestor a missing one needs. */
  line?: number;
  column?: number;
}

/**
 * A config file's problems, each with its place in the file when it has one, so a tool can point
 * at the line (`simsnap config validate` prints `file:line:column:`). The message is the one-line
 * summary `npm start` and `cdk synth` print; `details` are the problems without their places.
 */
export class ConfigFileError extends ValidationError {
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[],
    options?: { cause?: unknown },
  ) {
    super(
      message,
      problems.map(({ path, message: rule }) => ({ path, message: rule })),
      options,
    );
  }
}

/** One problem per unknown key, on the key's own path, with the field it most likely meant. */
function unknownKeyProblems(issue: z.core.$ZodIssueUnrecognizedKeys, schema: JsonSchema) {
  const known = knownFieldsAt(schema, issue.path);
  return issue.keys.map((key) => {
    const guess = closestMatch(key, known);
    return {
      path: [...issue.path, key],
      message:
        guess !== undefined
          ? `is not a field here; did you mean "${guess}"?`
          : `is not a field here; the fields here are ${known.join(", ")}`,
    };
  });
}

/**
 * Validates a config file's text: invalid JSON names its line and column and what is wrong
 * there, and each broken rule its field and where it is; an unknown field, which is usually a
 * misspelt one, says which field it most likely meant. The loader and `simsnap config validate`
 * both answer with it, so a user sees the same errors from either.
 */
export function parseConfigText(text: string, path: string): SimsnapConfig {
  // Editors on Windows may save a byte order mark, which JSON.parse refuses.
  const json = text.replace(/^\uFEFF/, "");
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const problem = findJsonSyntaxProblem(json);
    const reason = problem?.reason ?? (error as Error).message;
    const where = problem === undefined ? "" : `line ${problem.line}, column ${problem.column}: `;
    throw new ConfigFileError(
      `The config file ${path} is not valid JSON: ${where}${reason}`,
      [
        {
          path: "(file)",
          message: `must be JSON; ${reason}`,
          ...(problem && { line: problem.line, column: problem.column }),
        },
      ],
      { cause: error },
    );
  }
  const result = SimsnapConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const schema = configJsonSchema();
  const problems = result.error.issues
    .flatMap((issue) =>
      issue.code === "unrecognized_keys"
        ? unknownKeyProblems(issue, schema)
        : [{ path: issue.path, message: issue.message }],
    )
    .map(({ path: at, message }) => ({
      path: at.length > 0 ? at.map(String).join(".") : "(root)",
      message,
      ...locateJsonPath(
        json,
        at.map((key) => (typeof key === "number" ? key : String(key))),
      ),
    }));
  const summary = problems.map((p) => `${p.path}: ${p.message}`).join("; ");
  throw new ConfigFileError(`Invalid config file ${path}: ${summary}`, problems, {
    cause: result.error,
  });
}
