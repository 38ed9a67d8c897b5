import type { Command } from "commander";
import { z } from "zod";
import { SimulationNameSchema } from "../../lib/domain/names.ts";
import {
  ApiOptionsSchema,
  clientFor,
  formatTime,
  parseCommandInput,
  table,
  withApiOptions,
} from "../api-command.ts";
import type { CliIo } from "../io.ts";
import { followJob } from "../job-progress.ts";
import { WaitOptionsSchema, withWaitOptions } from "./jobs.ts";

const SnapshotInputSchema = ApiOptionsSchema.extend(WaitOptionsSchema.shape).extend({
  simulation: SimulationNameSchema,
  name: z.string().trim().min(1, "must not be empty").max(256).optional(),
  description: z.string().max(1024).optional(),
  tag: z.array(z.string().trim().min(1, "must not be empty").max(128)).optional(),
  wait: z.boolean().default(false),
  stop: z.boolean().default(false),
});

const StopInputSchema = ApiOptionsSchema.extend(WaitOptionsSchema.shape).extend({
  simulation: SimulationNameSchema,
  snapshot: z.boolean().default(true),
  force: z.boolean().default(false),
  reason: z.string().max(1024).optional(),
  wait: z.boolean().default(false),
});

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(",").filter((part) => part !== ""),
];

/**
 * `simsnap snapshot <simulation>` and `simsnap simulations`: take a snapshot now (and, with
 * `--wait`, watch it until the file is in S3), and see every simulation with its checkpoints.
 */
export function registerSnapshotCommands(program: Command, io: CliIo): void {
  withWaitOptions(
    withApiOptions(
      program
        .command("snapshot <simulation>")
        .description("take a snapshot of a running simulation now")
        .option("--name <name>", "name of the checkpoint")
        .option("--description <text>", "description of the checkpoint")
        .option("--tag <tag>", "tag the checkpoint (repeatable)", collect)
        .option("--stop", "stop the simulation once the snapshot is complete")
        .option("--wait", "wait until the snapshot (and the stop) is done, showing progress"),
    ),
  ).action(async (simulation: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(SnapshotInputSchema, { ...raw, simulation }, ["simulation"]);
    const client = clientFor(options);
    const job = await client.simulations.snapshot(options.simulation, {
      name: options.name,
      description: options.description,
      tags: options.tag,
      ...(options.stop ? { stop: true } : {}),
    });
    await followJob(job, options, io);
  });

  withWaitOptions(
    withApiOptions(
      program
        .command("stop <simulation>")
        .description("stop a simulation, after a final snapshot unless --no-snapshot")
        .option("--no-snapshot", "stop at once, without a final snapshot")
        .option("--force", "stop even if the final snapshot fails")
        .option("--reason <text>", "why, recorded on the job and the final snapshot")
        .option("--wait", "wait until the simulation is stopped, showing progress"),
    ),
  ).action(async (simulation: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(StopInputSchema, { ...raw, simulation }, ["simulation"]);
    const job = await clientFor(options).simulations.stop(options.simulation, {
      snapshot: options.snapshot,
      force: options.force,
      reason: options.reason,
    });
    await followJob(job, options, io);
  });

  withApiOptions(
    program
      .command("simulations")
      .description("list simulations with their status and checkpoint counts"),
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseCommandInput(ApiOptionsSchema, raw);
    const simulations = await clientFor(options).simulations.list();
    if (options.json) {
      io.out(JSON.stringify(simulations));
      return;
    }
    if (simulations.length === 0) {
      io.out("no simulations");
      return;
    }
    const header = [
      "NAME",
      "STATUS",
      "LAST CHECKPOINT",
      "COMPLETE",
      "PENDING",
      "FAILED",
      "DELETED",
    ];
    const rows = simulations.map((s) => [
      s.name,
      s.status,
      formatTime(s.lastCheckpointAt),
      String(s.checkpoints.COMPLETE),
      String(s.checkpoints.PENDING),
      String(s.checkpoints.FAILED),
      String(s.checkpoints.DELETED),
    ]);
    for (const line of table(header, rows)) io.out(line);
  });
}
