import { Command, CommanderError } from "commander";
import { isAppError } from "../lib/domain/errors.ts";
import { SIMSNAP_VERSION } from "../lib/version.ts";
import { SimsnapValidationError } from "../packages/client/src/errors.ts";
import { registerCheckpointCommands } from "./commands/checkpoints.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerJobCommands } from "./commands/jobs.ts";
import { registerLocalCommand } from "./commands/local.ts";
import { registerPruneCommand } from "./commands/prune.ts";
import { registerRestoreCommand } from "./commands/restore.ts";
import { registerRetentionCommands } from "./commands/retention.ts";
import { registerSnapshotCommands } from "./commands/snapshot.ts";
import { registerCompletionCommand } from "./completion.ts";
import type { CliIo } from "./io.ts";
import { inCliTerms, validationMessage } from "./people.ts";

/** Exit codes of the `simsnap` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Builds the `simsnap` command; tests build it with their own `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("simsnap")
    .description("Keeps the snapshots of long-running simulations safe and tidy")
    .version(SIMSNAP_VERSION, "-V, --version", "print the simsnap version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    });
  registerLocalCommand(program, io);
  registerRetentionCommands(program, io);
  registerConfigCommands(program, io);
  registerCheckpointCommands(program, io);
  registerSnapshotCommands(program, io);
  registerJobCommands(program, io);
  registerRestoreCommand(program, io);
  registerPruneCommand(program, io);
  registerCompletionCommand(program, io);
  return program;
}

/** Runs the command line and returns the exit code: 0 ok, 1 failure, 2 bad usage or input. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // The API refused the request's input (a 400): bad usage, like invalid local arguments.
    if (error instanceof SimsnapValidationError) {
      io.err(`error: ${validationMessage(error.message, error.details)}`);
      return EXIT.usage;
    }
    if (isAppError(error) && error.status >= 400 && error.status < 500) {
      io.err(`error: ${inCliTerms(error.message)}`);
      return EXIT.usage;
    }
    io.err(`error: ${inCliTerms((error as Error).message ?? String(error))}`);
    return EXIT.failure;
  }
}
