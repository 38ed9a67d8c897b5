import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import {
  CheckpointSchema,
  CheckpointStateSchema,
  VerificationStatusSchema,
} from "../../lib/domain/checkpoint.ts";
import { isTimeZone } from "../../lib/domain/duration.ts";
import { ValidationError } from "../../lib/domain/errors.ts";
import { SimulationNameSchema } from "../../lib/domain/names.ts";
import {
  planRetention,
  RetentionPolicySchema,
  type RetentionPlan,
} from "../../lib/domain/retention.ts";
import { formatTimeIn } from "../api-command.ts";
import type { CliIo } from "../io.ts";
import { forPeople, inCliTerms } from "../people.ts";

const CheckpointRecordSchema = z.object({
  id: z.string().min(1, "must not be empty"),
  name: z.string().optional(),
  simulation: SimulationNameSchema,
  createdAt: z.iso.datetime({
    offset: true,
    error: "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
  }),
  state: CheckpointStateSchema,
  favorite: z.boolean().default(false),
  tags: z.array(z.string()).default([]),
  step: CheckpointSchema.shape.step,
  metrics: CheckpointSchema.shape.metrics,
  // keepVerified reads the latest restore test's status; a record from the API carries it whole.
  verification: z.looseObject({ status: VerificationStatusSchema }).optional(),
});
type CheckpointRecord = z.output<typeof CheckpointRecordSchema>;

const CheckpointFileSchema = z.array(CheckpointRecordSchema, {
  error: "must be a JSON array of checkpoint records",
});

const PlanOptionsSchema = z.object({
  checkpoints: z.string().min(1),
  policy: z.string().min(1),
  now: z.iso
    .datetime({
      offset: true,
      error: "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
    })
    .optional(),
  timeZone: z
    .string()
    .refine(isTimeZone, "must be an IANA time zone name such as UTC or Europe/Berlin")
    .optional(),
  maxRemoveFraction: z.coerce
    .number({ error: "must be a number between 0 and 1" })
    .min(0, "must be between 0 and 1")
    .max(1, "must be between 0 and 1")
    .optional(),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

/**
 * Where a problem is, as a person would look for it: `checkpoints[3].createdAt` in a file,
 * `--time-zone` among the options.
 */
function where(label: string, path: readonly PropertyKey[]): string {
  if (label === "options" && path.length > 0) {
    return `--${String(path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  }
  return path.reduce<string>(
    (at, key) => (typeof key === "number" ? `${at}[${key}]` : `${at}.${String(key)}`),
    label,
  );
}

function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  label: string,
  file?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: where(label, issue.path),
    message: forPeople(issue.message),
  }));
  const source = file === undefined ? "" : ` in ${file}`;
  const summary = details.map((d) => `${d.path}: ${d.message}`).join("; ");
  throw new ValidationError(`invalid ${label}${source}: ${summary}`, details, {
    cause: result.error,
  });
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ValidationError(
      `cannot read the ${what} file ${file}: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(
      `the ${what} file ${file} is not valid JSON: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
}

/** Left-aligned columns two spaces apart, indented like restic's tables. */
function table(rows: readonly string[][]): string[] {
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: readonly string[]): string =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join("  ");
  return rows.map((row) => `  ${line(row)}`.trimEnd());
}

/**
 * Each plan, its checkpoints with their time (in the policy's zone, which decides the days and
 * weeks the rules count, with the offset shown) and name beside the id and reasons.
 */
function printPlans(
  plans: readonly RetentionPlan[],
  records: readonly CheckpointRecord[],
  timeZone: string,
  io: CliIo,
): void {
  if (plans.length === 0) {
    io.out("no checkpoints");
    return;
  }
  const byId = new Map(records.map((r) => [r.id, r]));
  const when = (id: string): string => {
    const createdAt = byId.get(id)?.createdAt;
    return createdAt === undefined ? "-" : formatTimeIn(createdAt, timeZone);
  };
  const name = (id: string): string => byId.get(id)?.name ?? "-";
  const created = `CREATED (${timeZone})`;
  plans.forEach((plan, i) => {
    if (i > 0) io.out("");
    io.out(`simulation ${plan.simulation}: keep ${plan.keep.length}, remove ${plan.remove.length}`);
    if (plan.keep.length > 0) {
      io.out(`keep ${plan.keep.length} checkpoints:`);
      const rows = plan.keep.map((k) => [k.id, when(k.id), name(k.id), k.reasons.join(", ")]);
      for (const line of table([["ID", created, "NAME", "REASONS"], ...rows])) io.out(line);
    }
    if (plan.remove.length > 0) {
      io.out(`remove ${plan.remove.length} checkpoints:`);
      const rows = plan.remove.map((r) => [r.id, when(r.id), name(r.id)]);
      for (const line of table([["ID", created, "NAME"], ...rows])) io.out(line);
    }
    if (plan.refused !== null) io.out(`REFUSED: ${inCliTerms(plan.refused)}`);
  });
}

/**
 * `simsnap retention plan`: shows what a retention policy would keep and remove, and why, from
 * files alone, so a policy can be tried on a catalog export before it prunes anything. Invalid
 * input throws a `ValidationError`, which the program turns into a message and exit code 2.
 */
export function registerRetentionCommands(program: Command, io: CliIo): void {
  const retention = program
    .command("retention")
    .description(
      "retention policies (restic forget semantics, plus best-by-metric and step rules)",
    );
  retention
    .command("plan")
    .description(
      "print which checkpoints a policy keeps (with reasons) and removes; changes nothing",
    )
    .requiredOption(
      "--checkpoints <file>",
      "JSON array of checkpoint records (id, simulation, createdAt, state, favorite, tags, step, metrics, verification)",
    )
    .requiredOption(
      "--policy <file>",
      "JSON retention policy (keepLast, keepDaily, keepWithin, keepTags, keepBest, keepEveryNSteps, keepSteps, keepVerified, timeZone, …)",
    )
    .option("--now <iso>", "evaluate as of this instant instead of the current time")
    .option("--time-zone <tz>", "IANA time zone for period boundaries, overriding the policy's")
    .option(
      "--max-remove-fraction <share>",
      "largest share of COMPLETE checkpoints a run may remove",
      "0.5",
    )
    .option("--force", "allow removing more than --max-remove-fraction")
    .option("--json", "print the plans as JSON")
    .action(async (raw: unknown) => {
      const options = parseWith(PlanOptionsSchema, raw, "options");
      const records = parseWith(
        CheckpointFileSchema,
        await readJson(options.checkpoints, "checkpoints"),
        "checkpoints",
        options.checkpoints,
      );
      const policyJson = await readJson(options.policy, "policy");
      const withZone =
        options.timeZone !== undefined &&
        typeof policyJson === "object" &&
        policyJson !== null &&
        !Array.isArray(policyJson)
          ? { ...policyJson, timeZone: options.timeZone }
          : policyJson;
      const policy = parseWith(RetentionPolicySchema, withZone, "policy", options.policy);
      const plans = planRetention(records, policy, {
        now: options.now === undefined ? new Date() : new Date(options.now),
        force: options.force,
        maxRemoveFraction: options.maxRemoveFraction,
      });
      if (options.json) io.out(JSON.stringify({ plans }));
      else printPlans(plans, records, policy.timeZone, io);
    });
}
