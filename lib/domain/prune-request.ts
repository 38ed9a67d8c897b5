import * as z from "zod";
import { SimulationNameSchema } from "./names.ts";

/**
 * One retention run. `runId` names the trigger (a schedule slot, a debounce window, a manual
 * request): the prune job of each simulation derives its id from it, so a trigger delivered
 * twice runs once.
 */
export interface PruneRun {
  runId: string;
  /** Simulations to prune; all simulations in the catalog when absent. */
  simulations?: string[];
  dryRun: boolean;
  force: boolean;
}

/** The daily schedule's input, which invokes the prune function's schedule entry directly. */
export const ScheduledPruneRequestSchema = z.object({
  source: z.literal("schedule"),
  schedule: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
});
/** The daily schedule's input. */
export type ScheduledPruneRequest = z.infer<typeof ScheduledPruneRequestSchema>;

/**
 * What starts a retention run: the daily schedule (`ScheduledPruneRequestSchema`), a
 * `Checkpoint Completed` event (delivered after the queue's debounce delay), or a person (the
 * API's `POST /prune`, through the queue).
 */
export const PruneRequestSchema = z.union([
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
]);
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
  }
}
