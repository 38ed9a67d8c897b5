import type { Command } from "commander";
import { z } from "zod";
import type { SimsnapClient } from "../../packages/client/src/client.ts";
import type { Checkpoint, Job, PrunePlan } from "../../packages/client/src/types.ts";
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
import { inCliTerms } from "../people.ts";
import { waitWithProgress } from "../job-progress.ts";
import { WaitOptionsSchema, withWaitOptions } from "./jobs.ts";

const PruneInputSchema = ApiOptionsSchema.extend(WaitOptionsSchema.shape).extend({
  simulation: SimulationNameSchema.optional(),
  dryRun: z.boolean().default(false),
  force: z.boolean().default(false),
  wait: z.boolean().default(false),
});

/**
 * The plans' checkpoints as the catalog has them: a plan names only ids, and a person deciding
 * whether to let it run needs each one's time and name beside its reasons.
 */
async function checkpointsOf(
  client: SimsnapClient,
  plans: readonly PrunePlan[],
): Promise<Map<string, Checkpoint>> {
  const known = new Map<string, Checkpoint>();
  for (const plan of plans) {
    for await (const checkpoint of client.checkpoints.list({
      simulation: plan.simulation,
      limit: 1000,
    })) {
      known.set(checkpoint.id, checkpoint);
    }
  }
  return known;
}

function printPlans(
  plans: readonly PrunePlan[],
  known: ReadonlyMap<string, Checkpoint>,
  io: CliIo,
): void {
  if (plans.length === 0) io.out("no simulations with checkpoints");
  const row = (action: string, id: string, reasons: string): string[] => [
    action,
    id,
    formatTime(known.get(id)?.createdAt),
    known.get(id)?.name ?? "-",
    reasons,
  ];
  for (const [i, plan] of plans.entries()) {
    if (i > 0) io.out("");
    io.out(`simulation ${plan.simulation}: keep ${plan.keep.length}, remove ${plan.remove.length}`);
    const rows = [
      ...plan.keep.map((k) => row("keep", k.id, k.reasons.join(", "))),
      ...plan.remove.map((r) => row("remove", r.id, "")),
    ];
    const header = ["", "ID", "CREATED", "NAME", "REASONS"];
    if (rows.length > 0) for (const line of table(header, rows)) io.out(`  ${line}`);
    if (plan.refused !== null) io.out(`REFUSED: ${inCliTerms(plan.refused)}`);
  }
}

function printJobs(jobs: readonly Job[], io: CliIo): void {
  const rows = jobs.map((job) => [
    job.simulation,
    job.id,
    job.status,
    String(job.stats.objects),
    job.error ? `${job.error.code}: ${job.error.message}` : "",
  ]);
  for (const line of table(["SIMULATION", "JOB", "STATUS", "REMOVED", "ERROR"], rows)) io.out(line);
}

/**
 * `simsnap prune`: apply the retention policy now. `--dry-run` prints what would be kept (and
 * why) and removed, changing nothing; without it the run starts, one job per simulation, and
 * `--wait` follows the jobs to the end (exit code 1 if any failed).
 */
export function registerPruneCommand(program: Command, io: CliIo): void {
  withWaitOptions(
    withApiOptions(
      program
        .command("prune")
        .description("apply the retention policy now (favorites are always kept)")
        .option("--dry-run", "only show what would be kept and removed")
        .option("--simulation <name>", "only this simulation")
        .option("--force", "allow removing more than the configured share of checkpoints")
        .option("--wait", "wait until every prune job is finished"),
    ),
  ).action(async (raw: Record<string, unknown>) => {
    const options = parseCommandInput(PruneInputSchema, raw);
    const client = clientFor(options);
    const result = await client.prune({
      simulation: options.simulation,
      dryRun: options.dryRun,
      force: options.force,
    });
    if (result.dryRun) {
      if (options.json) io.out(JSON.stringify(result));
      else printPlans(result.plans, await checkpointsOf(client, result.plans), io);
      return;
    }
    const jobs = options.wait
      ? await Promise.all(
          result.jobs.map((job) =>
            waitWithProgress(
              client,
              job.id,
              { timeoutSeconds: options.timeout, intervalSeconds: options.interval },
              io,
            ),
          ),
        )
      : result.jobs;
    if (options.json) io.out(JSON.stringify({ ...result, jobs }));
    else printJobs(jobs, io);
    const failed = jobs.filter((job) => job.status !== "SUCCEEDED" && job.status !== "RUNNING");
    if (failed.length > 0) {
      throw new Error(`${failed.length} of ${jobs.length} prune jobs did not succeed`);
    }
  });
}
