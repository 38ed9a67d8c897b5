import * as z from "zod";
import { CheckpointSchema, CheckpointStateSchema, type Checkpoint } from "../domain/checkpoint.ts";
import { FreshnessSchema } from "../domain/freshness.ts";
import { JobSchema, type Job } from "../domain/job.ts";
import { RestoreProgressSchema } from "../domain/restore.ts";
import { VerificationProgressSchema } from "../domain/verification.ts";
import { SIMULATION_STATUSES } from "../ports/simulation-provider.ts";
import { lazySchema } from "../domain/lazy-schema.ts";

/**
 * A job as the API shows it: what a client polls for (status, times, error, stats), without the
 * bookkeeping that makes the snapshot steps idempotent (claims, check counters, destinations),
 * which may change shape without notice. A schema, not only a type, so the OpenAPI document
 * describes exactly what `jobView` sends.
 */
export const JobViewSchema = lazySchema(() =>
  JobSchema.pick({
    id: true,
    kind: true,
    simulation: true,
    checkpointId: true,
    status: true,
    startTime: true,
    endTime: true,
    aborted: true,
    error: true,
    stats: true,
    attempts: true,
    nextCheckAt: true,
    steps: true,
  }).extend({
    /**
     * A restore job's target simulation and how far it got; for a set of files restored under a
     * prefix, the prefix and, once done, its `s3://` URI.
     */
    restore: RestoreProgressSchema.pick({
      target: true,
      phase: true,
      from: true,
      prefix: true,
      uri: true,
    }).optional(),
    /**
     * A restore test's throwaway simulation, how far it got, and its verdict once decided (the
     * job then still stops and deletes the throwaway before it ends); `abandoned` says why a
     * verdict was not recorded (its checkpoint was deleted during the test).
     */
    verify: VerificationProgressSchema.pick({
      target: true,
      phase: true,
      verdict: true,
      abandoned: true,
    }).optional(),
  }),
);
/** A job as the API shows it. */
export type JobView = z.output<typeof JobViewSchema>;

/** A checkpoint as the API shows it: the catalog record itself, `version` included (for `If-Match`). */
export const CheckpointViewSchema = CheckpointSchema;
/** A checkpoint as the API shows it. */
export type CheckpointView = Checkpoint;

/** One page of a listing; `nextCursor` is absent on the last page. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().min(1).optional() });

/** What `GET /simulations` says about one simulation (see `listSimulations`). */
export const SimulationOverviewSchema = lazySchema(() =>
  z.object({
    name: z.string(),
    status: z.enum(SIMULATION_STATUSES),
    provider: z.string(),
    lastCheckpointAt: z.iso.datetime({ offset: true }).optional(),
    checkpoints: z.record(CheckpointStateSchema, z.number().int().nonnegative()),
    freshness: FreshnessSchema.optional(),
  }),
);

/** What a prune dry run plans for one simulation (see `RetentionPlan`). */
export const RetentionPlanViewSchema = lazySchema(() =>
  z.object({
    simulation: z.string(),
    keep: z.array(z.object({ id: z.string(), reasons: z.array(z.string()) })),
    remove: z.array(z.object({ id: z.string() })),
    refused: z.string().nullable(),
  }),
);

/** `POST /prune` with `dryRun` (the default): the plans, nothing changed. */
export const PrunePlannedViewSchema = lazySchema(() =>
  z.object({
    dryRun: z.literal(true),
    plans: z.array(RetentionPlanViewSchema),
  }),
);

/** `POST /prune` with `dryRun: false`: the run and one job per simulation to poll. */
export const PruneStartedViewSchema = lazySchema(() =>
  z.object({
    dryRun: z.literal(false),
    runId: z.string(),
    jobs: z.array(JobViewSchema),
  }),
);

/** The API's view of a job; absent fields stay absent rather than `null`. */
export function jobView(job: Job): JobView {
  const view: JobView = {
    id: job.id,
    kind: job.kind,
    simulation: job.simulation,
    status: job.status,
    startTime: job.startTime,
    aborted: job.aborted,
    stats: job.stats,
    attempts: job.attempts,
  };
  if (job.checkpointId !== undefined) view.checkpointId = job.checkpointId;
  if (job.endTime !== undefined) view.endTime = job.endTime;
  if (job.error !== undefined) view.error = job.error;
  if (job.nextCheckAt !== undefined) view.nextCheckAt = job.nextCheckAt;
  if (job.steps !== undefined) view.steps = job.steps;
  if (job.restore !== undefined) {
    const { target, phase, from, prefix, uri } = job.restore;
    view.restore = {
      target,
      phase,
      ...(from === undefined ? {} : { from }),
      ...(prefix === undefined ? {} : { prefix }),
      ...(uri === undefined ? {} : { uri }),
    };
  }
  if (job.verify !== undefined) {
    const { target, phase, verdict, abandoned } = job.verify;
    view.verify = {
      target,
      phase,
      ...(verdict === undefined ? {} : { verdict }),
      ...(abandoned === undefined ? {} : { abandoned }),
    };
  }
  return view;
}

/** The ETag of a checkpoint's representation: its version, which every write increments. */
export const checkpointEtag = (checkpoint: Pick<Checkpoint, "version">): string =>
  `"${checkpoint.version}"`;
