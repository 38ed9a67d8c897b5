import * as z from "zod";
import type { ErrorInfo } from "./checkpoint.ts";
import type { JobStep } from "./job.ts";
import { SimulationNameSchema } from "./names.ts";
import { lazySchema } from "./lazy-schema.ts";

const IsoDate = z.iso.datetime({ offset: true });

/**
 * The stop call of a platform that saves the final checkpoint while stopping (NVIDIA Air's
 * shutdown with `create_checkpoint`). The platform names no checkpoint in its answer, so the
 * job keeps what identifies it later: the newest checkpoint the simulation had before the call
 * (in the platform's own clock, so clock skew cannot move a checkpoint across the line).
 */
export const StopCallSchema = lazySchema(() =>
  z.object({
    /** Saved just before the call, so that a crash during the call still leaves it. */
    calledAt: IsoDate,
    /** `created` of the simulation's newest platform checkpoint before the call; absent: none. */
    newestBefore: IsoDate.optional(),
    /** When the platform accepted the call (or the simulation was found stopping after it). */
    acceptedAt: IsoDate.optional(),
  }),
);
/** The stop call of a checkpoint-on-stop platform. */
export type StopCall = z.infer<typeof StopCallSchema>;

/**
 * What a stop job was asked for. Kept on the job because the decision after the final snapshot
 * (stop, or refuse and leave the simulation running) is taken later, by another function.
 */
export const StopOptionsSchema = lazySchema(() =>
  z.object({
    requestId: z.string().min(1),
    snapshot: z.boolean(),
    force: z.boolean(),
    reason: z.string().optional(),
    /**
     * The platform saves the final checkpoint itself while stopping (capability
     * `checkpointOnStop`): the job makes that one call and then re-checks the platform, instead
     * of a snapshot followed by StopSimulation. Absent on SimSpace Weaver stops and older records.
     */
    checkpointOnStop: z.boolean().optional(),
    /** The stop call of a `checkpointOnStop` stop, once it was made. */
    call: StopCallSchema.optional(),
    /**
     * `restart`: a cycle. Once the checkpoint this stop saved is COMPLETE, the simulation is
     * started again from exactly that checkpoint, by a restore job (`restartJobId`); never from
     * another one, so a stop whose checkpoint failed leaves the simulation stopped.
     */
    then: z.literal("restart").optional(),
    /** The restore job that starts a cycled simulation again, once it was requested. */
    restartJobId: z.string().min(1).optional(),
    /**
     * Why the stop is refused, when that was decided before the job was recorded (no such
     * simulation, a cycle its platform cannot do, no checkpoint possible without `force`): written
     * in the job's one conditional create, so that a delivery finding the job RUNNING after a crash
     * finishes the refusal instead of going on to stop the simulation.
     */
    refusal: z.object({ code: z.string().min(1), message: z.string().min(1) }).optional(),
  }),
);
/** What a stop job was asked for. */
export type StopOptions = z.infer<typeof StopOptionsSchema>;

/**
 * The steps of a stop job, in the order they run. A checkpoint-on-stop platform runs them the
 * other way round: `stop-simulation` is its stop call that saves a checkpoint, `final-snapshot`
 * the wait until the platform says that checkpoint is COMPLETE.
 */
export const STOP_STEPS = {
  finalSnapshot: "final-snapshot",
  stopSimulation: "stop-simulation",
  /** A cycle's last step: the restore job that starts the simulation again was requested. */
  restart: "restart-simulation",
} as const;

/**
 * A cycle (stop with a checkpoint, then start from it) needs a platform whose stop saves the
 * checkpoint (`checkpointOnStop`) and that starts the same simulation from it
 * (`restoreInto.sameSimulation`): plan-snapshots and request-stop decide on this one rule.
 */
export const canCycle = (
  capabilities: { checkpointOnStop: boolean; restoreInto: { sameSimulation: boolean } } | undefined,
): boolean => capabilities?.checkpointOnStop === true && capabilities.restoreInto.sameSimulation;

/**
 * The reason a stop failed, as a cycle (`then: "restart"`) reports it: the simulation is not
 * started again, since a cycle restarts it only from the checkpoint it saved itself; starting
 * it from an older one would silently lose everything since, so it stays as the stop left it.
 */
export function cycleStopError(
  options: Pick<StopOptions, "then"> | undefined,
  error: ErrorInfo,
): ErrorInfo {
  if (options?.then !== "restart") return error;
  return {
    ...error,
    message: `${error.message}. The simulation was not started again: a cycle restarts it only from the checkpoint it saved itself, never from an older one`,
  };
}

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

/**
 * The job's steps with every step still RUNNING ended as FAILED with `message`, for a stop that
 * fails while waiting: whoever polls the job sees which step it stopped at, and why.
 */
export function closeRunningSteps(
  steps: readonly JobStep[] | undefined,
  endedAt: string,
  message: string,
): JobStep[] | undefined {
  return steps?.map((step) =>
    step.status === "RUNNING" ? { ...step, status: "FAILED", endedAt, message } : step,
  );
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
export const StopRequestSchema = lazySchema(() =>
  z.object({
    requestId: z.string().min(1).max(256),
    simulation: SimulationNameSchema,
    snapshot: z.boolean().default(true),
    force: z.boolean().default(false),
    reason: z.string().max(1024, "must be at most 1024 characters").optional(),
    /** A cycle: start the simulation again from the checkpoint the stop saved (see `StopOptions`). */
    then: z.literal("restart").optional(),
  }),
);
/** A validated stop request. */
export type StopRequest = z.output<typeof StopRequestSchema>;
