import { NotFoundError } from "../../domain/errors.ts";
import { newId } from "../../domain/ids.ts";
import { isJobFinished, type Job } from "../../domain/job.ts";
import { pruneRunFor, type PruneRequest } from "../../domain/prune-request.ts";
import type { RetentionPlan } from "../../domain/retention.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import { prune, pruneJobFor, type PruneDeps } from "./prune.ts";

/** What a person asks of retention. */
export interface PruneOrder {
  /** One simulation, or every simulation of the catalog. */
  simulation?: string;
  /** Return the plan and change nothing. */
  dryRun: boolean;
  /** Allow removing more than the configured share of a simulation's checkpoints. */
  force: boolean;
  /** The caller's key: the same key is the same run, so a retried request prunes once. */
  idempotencyKey?: string;
}

/** A dry run's answer: the plan of each simulation, with reasons. */
export interface PrunePlanned {
  dryRun: true;
  plans: RetentionPlan[];
}

/** A real run's answer: the run and its jobs (one per simulation), to poll. */
export interface PruneStarted {
  dryRun: false;
  runId: string;
  jobs: Job[];
}

/** What requesting a prune needs: prune's ports for the dry run, the queue for the real one. */
export interface RequestPruneDeps extends PruneDeps {
  pruneRequests: MessageQueue<PruneRequest>;
}

/**
 * A manual retention run. A dry run applies the policy right away and returns the plans, changing
 * nothing. A real run may delete thousands of files, longer than an HTTP request may take, so it
 * records the RUNNING prune job of each simulation (ids derived from the run, which derives from
 * the idempotency key) and queues the run for the prune function, which carries those very jobs
 * on; the caller polls them. A simulation the catalog has never seen is a 404.
 */
export async function requestPrune(
  order: PruneOrder,
  deps: RequestPruneDeps,
): Promise<PrunePlanned | PruneStarted> {
  const known = await deps.checkpoints.listSimulations();
  if (order.simulation !== undefined && !known.includes(order.simulation)) {
    throw new NotFoundError(`Simulation ${order.simulation} has no checkpoints in the catalog`);
  }
  const request: PruneRequest = {
    source: "manual",
    requestId: order.idempotencyKey ?? newId(),
    ...(order.simulation === undefined ? {} : { simulation: order.simulation }),
    dryRun: order.dryRun,
    force: order.force,
  };
  const run = pruneRunFor(request, 1);
  if (order.dryRun) {
    const results = await prune(run, deps);
    return { dryRun: true, plans: results.map((result) => result.plan) };
  }

  const now = deps.clock.now();
  const jobs: Job[] = [];
  for (const simulation of run.simulations ?? known) {
    const fresh = pruneJobFor(run.runId, simulation, now);
    await deps.jobs.create(fresh);
    jobs.push((await deps.jobs.get(fresh.id)) ?? fresh);
  }
  if (jobs.some((job) => !isJobFinished(job))) {
    await deps.pruneRequests.send(request, { delaySeconds: 0 });
  }
  return { dryRun: false, runId: run.runId, jobs };
}
