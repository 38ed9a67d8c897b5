import { relative } from "node:path";
import type { Command } from "commander";
import { configJsonSchema } from "../../lib/domain/config-json-schema.ts";
import { ValidationError } from "../../lib/domain/errors.ts";
import {
  ConfigFileError,
  configFilePath,
  loadConfigFile,
  type ConfigProblem,
} from "../../lib/load-config-file.ts";
import type { CliIo } from "../io.ts";

/** The file as the user would type it: relative to where they are, unless it lies elsewhere. */
function shown(path: string): string {
  const near = relative(process.cwd(), path);
  return near === "" || near.startsWith("..") ? path : near;
}

/**
 * A problem as compilers print one (`file:line:column: field: rule`), which terminals and editors
 * turn into a link to the place; the field is left out when the problem is the whole file.
 */
function problemLine(file: string, problem: ConfigProblem): string {
  const place = problem.line === undefined ? "" : `:${problem.line}:${problem.column}`;
  const field = problem.path === "(file)" || problem.path === "(root)" ? "" : `${problem.path}: `;
  return `${file}${place}: ${field}${problem.message}`;
}

/**
 * `simsnap config validate [FILE]` checks a config file with the very loader `npm start` and
 * `cdk synth` use, so it finds what they would, before a deploy; `simsnap config schema` prints
 * the file's JSON Schema for editors (`npm run schema` keeps the repository's copy).
 */
export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command("config").description("check and describe simsnap.config.json");

  config
    .command("validate")
    .description(
      "check a config file as npm start and cdk synth read it; exit 0 when valid, 2 when not",
    )
    .argument("[file]", "the config file (default: $SIMSNAP_CONFIG, else simsnap.config.json)")
    .option("--json", "print the outcome as JSON for scripts")
    .action((file: string | undefined, options: { json?: boolean }) => {
      const path = configFilePath(file);
      const name = shown(path);
      try {
        loadConfigFile(path);
        io.out(
          options.json
            ? JSON.stringify({ file: path, valid: true, problems: [] })
            : `${name}: valid`,
        );
      } catch (error) {
        if (!(error instanceof ConfigFileError)) throw error;
        if (options.json) {
          io.out(JSON.stringify({ file: path, valid: false, problems: error.problems }));
        } else {
          // In the file's order, as a reader goes through it.
          const ordered = [...error.problems].sort(
            (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
          );
          for (const problem of ordered) io.err(problemLine(name, problem));
        }
        const count = error.problems.length;
        throw new ValidationError(
          `${name} is not a valid simsnap config (${count} ${count === 1 ? "problem" : "problems"})`,
          error.details,
          { cause: error },
        );
      }
    });

  config
    .command("schema")
    .description("print the JSON Schema of simsnap.config.json, for editors and other tools")
    .action(() => io.out(JSON.stringify(configJsonSchema(), null, 2)));
}
