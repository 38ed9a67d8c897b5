import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SimsnapConfigSchema, type SimsnapConfig } from "./domain/config-file.ts";
import { ValidationError } from "./domain/errors.ts";
import { parseInput } from "./domain/validation.ts";

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
 * synchronously; an unreadable file, invalid JSON or a broken rule is a `ValidationError` naming
 * the file and every field at fault.
 */
export function loadConfigFile(path: string): SimsnapConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ValidationError(
      `Cannot read the config file ${path}: ${(error as Error).message}`,
      [{ path: "(file)", message: "must be a readable file" }],
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      `The config file ${path} is not valid JSON: ${(error as Error).message}`,
      [{ path: "(file)", message: "must be JSON" }],
      { cause: error },
    );
  }
  return parseInput(SimsnapConfigSchema, json, `config file ${path}`);
}
