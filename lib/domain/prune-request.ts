import * as z from "zod";
import { SimulationNameSchema } from "./names.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * One retention run. `runId` names the trigger (a schedule slot, a debounce window, a manual
 * request): the prune job of each simulation derives its id from it, so a trigger delivered
 * twice runs once.
 */
export interface PruneRun {
  runId: string;
  /** Simulations to prune; all simulations in the catalog when absent. */
  simulations?: string[];
  /**
   * Where a run continued by another invocation resumes: at this simulation (its job holds how
   * far it got), skipping the ones before it, which are done. Absent on a run's first invocation.
   */
  from?: string;
  dryRun: boolean;
  force: boolean;
}

/**
 * How far a prune job that continues over several invocations got, saved on its job record when
 * an invocation hands over: the first `done` entries of its plan's removals are handled, and
 * `report` is the key of its report (in the reports bucket), written just before, which holds
 * the plan and what was done so far. A continuation carries out that very plan instead of making
 * a new one, which could differ, or be refused once part of it is done.
 */
export const PruneProgressSchema = lazySchema(() =>
  z.object({
    done: z.number().int().nonnegative(),
    report: z.string().min(1).max(1024),
  }),
);

/**
 * The message a prune invocation sends itself when its budget is spent before its run is done:
 * the same run (so the same job ids), resumed at `from`.
 */
const ContinuedPruneRequestSchema = lazySchema(() =>
  z.object({
    source: z.literal("continue"),
    runId: z.string().min(1).max(512),
    simulations: z.array(SimulationNameSchema).max(1000).optional(),
    from: SimulationNameSchema,
    force: z.boolean(),
  }),
);

/** The daily schedule's input, which invokes the prune function's schedule entry directly. */
export const ScheduledPruneRequestSchema = lazySchema(() =>
  z.object({
    source: z.literal("schedule"),
    schedule: z.string().min(1),
    scheduledTime: z.iso.datetime({ offset: true }),
  }),
);
/** The daily schedule's input. */
export type ScheduledPruneRequest = z.infer<typeof ScheduledPruneRequestSchema>;

/**
 * What starts a retention run: the daily schedule (`ScheduledPruneRequestSchema`), a
 * `Checkpoint Completed` event (delivered after the queue's debounce delay), or a person (the
 * API's `POST /prune`, through the queue); or what continues one
 * (`ContinuedPruneRequestSchema`).
 */
export const PruneRequestSchema = lazySchema(() =>
  z.union([
    ScheduledPruneRequestSchema,
    z.object({
      source: z.literal("simsnap"),
      "detail-type": z.literal("Checkpoint Completed"),
      time: z.iso.datetime({ offset: true }),
      detail: z.object({ checkpoint: z.object({ simulation: SimulationNameSchema }) }),
    }),
    z.object({
      source: z.literal("manual"),
      requestId: z.string().min(1).max(256),
      simulation: SimulationNameSchema.optional(),
      dryRun: z.boolean().default(true),
      force: z.boolean().default(false),
    }),
    ContinuedPruneRequestSchema,
  ]),
);
/** What starts a retention run. */
export type PruneRequest = z.infer<typeof PruneRequestSchema>;

/**
 * The run a request stands for. Completions of one simulation within the same debounce window
 * share a run id, so a burst of completions (and any duplicate of them) prunes once per window.
 */
export function pruneRunFor(request: PruneRequest, debounceSeconds: number): PruneRun {
  switch (request.source) {
    case "schedule":
      return {
        runId: `schedule/${request.schedule}/${new Date(request.scheduledTime).toISOString()}`,
        dryRun: false,
        force: false,
      };
    case "simsnap": {
      const simulation = request.detail.checkpoint.simulation;
      const window = Math.floor(new Date(request.time).getTime() / (debounceSeconds * 1000));
      return {
        runId: `completion/${simulation}/${window}`,
        simulations: [simulation],
        dryRun: false,
        force: false,
      };
    }
    case "manual":
      return {
        runId: `manual/${request.requestId}`,
        simulations: request.simulation ? [request.simulation] : undefined,
        dryRun: request.dryRun,
        force: request.force,
      };
    case "continue":
      return {
        runId: request.runId,
        ...(request.simulations === undefined ? {} : { simulations: request.simulations }),
        from: request.from,
        dryRun: false,
        force: request.force,
      };
  }
}
