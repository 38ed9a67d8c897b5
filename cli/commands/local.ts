import { randomInt } from "node:crypto";
import { constants } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { LocalConfigSchema } from "../../lib/local/demo-config.ts";
import { DEFAULT_DATA_DIR } from "../../lib/local/endpoint-file.ts";
import { runLocal } from "../../lib/local/runtime.ts";
import {
  CONFIG_FILE_ENV,
  configFilePath,
  DEFAULT_CONFIG_FILE,
  loadConfigFile,
} from "../../lib/load-config-file.ts";
import { topology } from "../../lib/topology.ts";
import { parseCommandInput } from "../api-command.ts";
import type { CliIo } from "../io.ts";

const RATE = "must be a number from 0 to 1 (the share of calls or events, e.g. 0.3)";
const rate = z.coerce.number({ error: RATE }).min(0, RATE).max(1, RATE);
const SEED = "must be an integer from 0 to 4294967295";
const DEADLINE = "must be a whole number of seconds from 1";
const LOCAL_DEFAULTS = LocalConfigSchema.parse({});

const LocalOptionsSchema = z.object({
  duration: z.coerce.number().positive("must be a positive number of seconds").optional(),
  dataDir: z.string().min(1),
  keepData: z.boolean().default(false),
  config: z.string().min(1, "must name a file").optional(),
  port: z.coerce
    .number({ error: "must be a port number from 0 to 65535" })
    .int("must be a port number from 0 to 65535")
    .min(0, "must be a port number from 0 to 65535")
    .max(65535, "must be a port number from 0 to 65535"),
  faults: rate.optional(),
  dropEvents: rate.optional(),
  seed: z.coerce.number({ error: SEED }).int(SEED).min(0, SEED).max(0xffff_ffff, SEED).optional(),
  snapshotDeadline: z.coerce.number({ error: DEADLINE }).int(DEADLINE).min(1, DEADLINE).optional(),
  restoreDemo: z.boolean().default(true),
});

/** Chaos mode's settings from the flags; a run without `--seed` gets a random one (printed). */
function chaosFrom(options: z.output<typeof LocalOptionsSchema>) {
  if (options.faults === undefined && options.dropEvents === undefined) return undefined;
  return {
    providerFaults: options.faults ?? 0,
    dropEvents: options.dropEvents ?? 0,
    seed: options.seed ?? randomInt(0, 0xffff_ffff),
  };
}

/**
 * A Ctrl-C in a terminal reaches every process of the group: this one, and npm and tsx, which
 * relay it again within milliseconds. Signals this soon after the first are that same Ctrl-C.
 */
const SAME_INTERRUPT_MS = 1500;

/**
 * What SIGINT and SIGTERM do: the first starts the clean stop (as the end of `--duration` does);
 * a second one, pressed after the first was acknowledged, quits at once without it.
 */
export function interruptHandler(
  controller: AbortController,
  io: CliIo,
  options: {
    restoreDemo: boolean;
    exit?: (code: number) => void;
    now?: () => number;
  },
): (signal: NodeJS.Signals) => void {
  const { exit = (code: number) => process.exit(code), now = Date.now } = options;
  const steps = options.restoreDemo ? "open jobs, restore demo, summary" : "open jobs, summary";
  let first: number | undefined;
  return (signal) => {
    const at = now();
    if (first === undefined) {
      first = at;
      io.out(
        `${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping cleanly (${steps}); Ctrl-C again quits at once`,
      );
      controller.abort();
      return;
    }
    if (at - first < SAME_INTERRUPT_MS) return;
    io.out(
      `${signal === "SIGINT" ? "Ctrl-C" : signal} again: quitting at once, without the clean stop`,
    );
    exit(128 + constants.signals[signal]);
  };
}

/** `simsnap local`: the whole stack on this machine (what `npm start` runs). */
export function registerLocalCommand(program: Command, io: CliIo): void {
  program
    .command("local")
    .description("run the whole simsnap stack locally on embedded servers (no AWS account needed)")
    .option("--duration <seconds>", "stop after this many seconds and print a JSON summary")
    .option("--data-dir <dir>", "where local data lives", DEFAULT_DATA_DIR)
    .option("--keep-data", "keep the data of the previous run instead of starting fresh")
    .option(
      "--config <file>",
      `config file (default: $${CONFIG_FILE_ENV}, else ${DEFAULT_CONFIG_FILE})`,
    )
    .option(
      "--port <port>",
      "port of the HTTP API on 127.0.0.1 (0: any free port)",
      String(topology.httpApi.localPort),
    )
    .option(
      "--faults <rate>",
      "chaos mode: answer this share (0 to 1) of simsnap's SimSpace Weaver calls with an " +
        "InternalServerException, ThrottlingException or ConflictException",
    )
    .option(
      "--drop-events <rate>",
      "chaos mode: lose this share (0 to 1) of the snapshot bucket's S3 Object Created events",
    )
    .option(
      "--seed <n>",
      "seed of the chaos mode's choices: the same seed, the same sequence (default: random, printed)",
    )
    .option(
      "--snapshot-deadline <seconds>",
      "a snapshot without a file by then fails (SIMSNAP_SNAPSHOT_DEADLINE_SECONDS; default " +
        `${LOCAL_DEFAULTS.snapshotDeadlineSeconds})`,
    )
    .option("--no-restore-demo", "skip the restore demo at the end of the run")
    .action(async (raw: unknown) => {
      const options = parseCommandInput(LocalOptionsSchema, raw);
      const configFile = loadConfigFile(configFilePath(options.config));
      const controller = new AbortController();
      const stop = interruptHandler(controller, io, { restoreDemo: options.restoreDemo });
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      try {
        const summary = await runLocal({
          config: LocalConfigSchema.parse({
            chaos: chaosFrom(options),
            snapshotDeadlineSeconds: options.snapshotDeadline,
            restoreDemo: options.restoreDemo,
          }),
          configFile,
          dataDir: options.dataDir,
          durationSeconds: options.duration,
          keepData: options.keepData,
          apiPort: options.port,
          signal: controller.signal,
          print: io.out,
        });
        io.out(JSON.stringify(summary));
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
}
