import type { Command } from "commander";
import { z } from "zod";
import { LocalConfigSchema } from "../../lib/local/demo-config.ts";
import { runLocal } from "../../lib/local/runtime.ts";
import { parseInput } from "../../lib/domain/validation.ts";
import type { CliIo } from "../io.ts";

const LocalOptionsSchema = z.object({
  duration: z.coerce.number().positive("must be a positive number of seconds").optional(),
  dataDir: z.string().min(1),
  keepData: z.boolean().default(false),
});

/** `simsnap local`: the whole stack on this machine (what `npm start` runs). */
export function registerLocalCommand(program: Command, io: CliIo): void {
  program
    .command("local")
    .description("run the whole simsnap stack locally on embedded servers (no AWS account needed)")
    .option("--duration <seconds>", "stop after this many seconds and print a JSON summary")
    .option("--data-dir <dir>", "where local data lives", ".simsnap")
    .option("--keep-data", "keep the data of the previous run instead of starting fresh")
    .action(async (raw: unknown) => {
      const options = parseInput(LocalOptionsSchema, raw, "options");
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const summary = await runLocal({
          config: LocalConfigSchema.parse({}),
          dataDir: options.dataDir,
          durationSeconds: options.duration,
          keepData: options.keepData,
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
