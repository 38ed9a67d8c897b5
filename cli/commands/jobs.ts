import type { Command } from "commander";
import { z } from "zod";
import type { Job } from "../../packages/client/src/types.ts";
import { JobKindSchema, JobStatusSchema } from "../../lib/domain/job.ts";
import { SimulationNameSchema } from "../../lib/domain/names.ts";
import {
  ApiOptionsSchema,
  clientFor,
  formatTime,
  parseCommandInput,
  table,
  withApiOptions,
} from "../api-command.ts";
import { resolveJob } from "../ids.ts";
import type { CliIo } from "../io.ts";
import { describeJob, reportFinished, waitWithProgress } from "../job-progress.ts";

const IdInputSchema = ApiOptionsSchema.extend({
  id: z.string().min(1, "must not be empty").max(128),
});

/** `--timeout` and `--interval` of every command that waits for a job. */
export const WaitOptionsSchema = z.object({
  timeout: z.coerce
    .number({ error: "must be a number of seconds" })
    .positive("must be a positive number of seconds")
    .default(600),
  interval: z.coerce
    .number({ error: "must be a number of seconds" })
    .min(0.1, "must be at least 0.1 seconds")
    .default(2),
});

const WaitInputSchema = IdInputSchema.extend(WaitOptionsSchema.shape);

const ListInputSchema = ApiOptionsSchema.extend({
  simulation: SimulationNameSchema.optional(),
  kind: z.array(JobKindSchema).optional(),
  status: z.array(JobStatusSchema).optional(),
  limit: z.coerce
    .number({ error: "must be a whole number of jobs" })
    .int("must be a whole number of jobs")
    .positive("must be at least 1")
    .default(20),
});

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(",").filter((part) => part !== ""),
];

/** Adds `--timeout` and `--interval` to a command that can wait for a job. */
export function withWaitOptions(command: Command): Command {
  return command
    .option("--timeout <seconds>", "give up waiting after this long (exit code 1)", "600")
    .option("--interval <seconds>", "time between polls", "2");
}

const rowOf = (job: Job): string[] => [
  job.id,
  job.kind,
  job.simulation,
  job.status,
  formatTime(job.startTime),
  formatTime(job.endTime),
  job.error ? `${job.error.code}: ${job.error.message}` : "",
];

/** `simsnap jobs list|show|wait`: follow the long-running actions simsnap tracks as jobs. */
export function registerJobCommands(program: Command, io: CliIo): void {
  const jobs = program.command("jobs").description("follow snapshot, stop, restore and prune jobs");

  withApiOptions(
    jobs
      .command("list")
      .description("list jobs, newest first")
      .option("--simulation <name>", "only this simulation's")
      .option("--kind <kind>", "snapshot|stop|restore|prune|archive (repeatable)", collect)
      .option("--status <status>", "RUNNING|SUCCEEDED|FAILED|ABORTED (repeatable)", collect)
      .option("--limit <n>", "show at most this many", "20"),
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseCommandInput(ListInputSchema, raw);
    const found: Job[] = [];
    const query = {
      simulation: options.simulation,
      kind: options.kind,
      status: options.status,
      limit: Math.min(options.limit, 1000),
    };
    for await (const job of clientFor(options).jobs.list(query)) {
      found.push(job);
      if (found.length >= options.limit) break;
    }
    if (options.json) io.out(JSON.stringify(found));
    else if (found.length === 0) io.out("no jobs match");
    else {
      const header = ["ID", "KIND", "SIMULATION", "STATUS", "STARTED", "ENDED", "ERROR"];
      for (const line of table(header, found.map(rowOf))) io.out(line);
    }
  });

  withApiOptions(jobs.command("show <id>").description("show one job")).action(
    async (id: string, raw: Record<string, unknown>) => {
      const options = parseCommandInput(IdInputSchema, { ...raw, id }, ["id"]);
      const job = await resolveJob(clientFor(options), options.id);
      if (options.json) io.out(JSON.stringify(job));
      else for (const line of describeJob(job)) io.out(line);
    },
  );

  withWaitOptions(
    withApiOptions(
      jobs
        .command("wait <id>")
        .description("wait until a job finishes; exit code 0 only if it SUCCEEDED"),
    ),
  ).action(async (id: string, raw: Record<string, unknown>) => {
    const options = parseCommandInput(WaitInputSchema, { ...raw, id }, ["id"]);
    const client = clientFor(options);
    const { id: full } = await resolveJob(client, options.id);
    const job = await waitWithProgress(
      client,
      full,
      { timeoutSeconds: options.timeout, intervalSeconds: options.interval },
      io,
    );
    reportFinished(job, options.json, io);
  });
}
