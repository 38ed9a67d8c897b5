import * as z from "zod";
import type { ErrorInfo } from "./checkpoint.ts";
import type { JobStep } from "./job.ts";
import { SimulationNameSchema } from "./names.ts";

/**
 * What a stop job was asked for. Kept on the job because the decision after the final snapshot
 * (stop, or refuse and leave the simulation running) is taken later, by another function.
 */
export const StopOptionsSchema = z.object({
  requestId: z.string().min(1),
  snapshot: z.boolean(),
  force: z.boolean(),
  reason: z.string().optional(),
});
/** What a stop job was asked for. */
export type StopOptions = z.infer<typeof StopOptionsSchema>;

/** The steps of a stop job, in the order they run. */
export const STOP_STEPS = {
  finalSnapshot: "final-snapshot",
  stopSimulation: "stop-simulation",
} as const;

/**
 * The job's steps with `step` recorded: an existing step of that name is replaced where it stands,
 * a new one is appended, so replaying a step (a duplicate delivery) never lists it twice.
 */
export function recordStep(steps: readonly JobStep[] | undefined, step: JobStep): JobStep[] {
  const list = [...(steps ?? [])];
  const at = list.findIndex((s) => s.name === step.name);
  if (at >= 0) list[at] = step;
  else list.push(step);
  return list;
}

/** What happens once the final snapshot ended: stop the simulation, or report why not. */
export type FinalSnapshotVerdict =
  { stop: true; forced: boolean; message: string } | { stop: false; error: ErrorInfo; why: string };

/**
 * The rule of a stop with a final snapshot: a COMPLETE snapshot lets the stop go ahead; a failed
 * one stops the simulation only when the request said `force`, and otherwise leaves it running
 * with the snapshot's own error in the reason, so nothing is lost without a checkpoint.
 */
export function finalSnapshotVerdict(
  snapshot: { state: "COMPLETE"; key?: string } | { state: "FAILED"; error?: ErrorInfo },
  force: boolean,
): FinalSnapshotVerdict {
  if (snapshot.state === "COMPLETE") {
    return { stop: true, forced: false, message: `checkpoint written to ${snapshot.key ?? "S3"}` };
  }
  const why = snapshot.error
    ? `${snapshot.error.code}: ${snapshot.error.message}`
    : "no reason given";
  if (force) {
    return {
      stop: true,
      forced: true,
      message: `final snapshot failed (${why}); stopping anyway (force)`,
    };
  }
  return {
    stop: false,
    why,
    error: {
      code: "FinalSnapshotFailed",
      message:
        `The final snapshot failed (${why}), so the simulation was not stopped. ` +
        "Ask again, or ask with force to stop it without a snapshot.",
    },
  };
}

/**
 * A request to stop one simulation, from the API or from a `Simulation Stop Requested` event.
 * `requestId` is its natural key: the stop job's id derives from it, so a request delivered or
 * sent twice is one stop.
 */
export const StopRequestSchema = z.object({
  requestId: z.string().min(1).max(256),
  simulation: SimulationNameSchema,
  snapshot: z.boolean().default(true),
  force: z.boolean().default(false),
  reason: z.string().max(1024, "must be at most 1024 characters").optional(),
});
/** A validated stop request. */
export type StopRequest = z.output<typeof StopRequestSchema>;
