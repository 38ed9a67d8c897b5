import type { Command } from "commander";
import { z } from "zod";
import { SimulationNameSchema } from "../../lib/domain/names.ts";
import { MaximumDurationSchema, RestoreTargetSchema } from "../../lib/domain/restore.ts";
import { ApiOptionsSchema, clientFor, parseCommandInput, withApiOptions } from "../api-command.ts";
import { resolveCheckpoint } from "../ids.ts";
import type { CliIo } from "../io.ts";
import { followJob } from "../job-progress.ts";
import { WaitOptionsSchema, withWaitOptions } from "./jobs.ts";

const RestoreInputSchema = ApiOptionsSchema.extend(WaitOptionsSchema.shape).extend({
  id: z.string().min(1, "must not be empty").max(128),
  simulationName: SimulationNameSchema.optional(),
  maximumDuration: MaximumDurationSchema.optional(),
  description: z.string().max(500, "must be at most 500 characters").optional(),
  targetPrefix: RestoreTargetSchema.shape.prefix.optional(),
  wait: z.boolean().default(false),
});

/**
 * `simsnap restore <id>`: start a new simulation from a checkpoint (from its archive if pruned),
 * or, for a checkpoint of files another tool wrote, copy it from its archive under
 * `--target-prefix` (the finished job shows the `s3://` URI to resume from).
 */
export function registerRestoreCommand(program: Command, io: CliIo): void {
  withWaitOptions(
    withApiOptions(
      program
        .command("restore <id>")
        .description("start a new simulation from a checkpoint")
        .option("--simulation-name <name>", "name of the new simulation (default derived)")
        .option("--maximum-duration <duration>", "how long it may run, e.g. 12h or 14d")
        .option("--description <text>", "description of the new simulation")
        .option(
          "--target-prefix <prefix>",
          "files checkpoints: the prefix (inside a source) its archived files are copied under",
        )
        .option("--wait", "wait until the new simulation is running, showing progress"),
    ),
  ).action(async (id: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(RestoreInputSchema, { ...raw, id }, ["id"]);
    const client = clientFor(options);
    const { id: full } = await resolveCheckpoint(client, options.id);
    const job = await client.checkpoints.restore(full, {
      simulationName: options.simulationName,
      maximumDuration: options.maximumDuration,
      description: options.description,
      ...(options.targetPrefix === undefined ? {} : { target: { prefix: options.targetPrefix } }),
    });
    await followJob(job, options, io);
  });
}
