import { ConflictError, NotFoundError } from "../../domain/errors.ts";
import { snapshotRequested } from "../../domain/events.ts";
import { newId } from "../../domain/ids.ts";
import type { SnapshotDeadlineTiming } from "../../domain/job-deadline.ts";
import { isJobFinished, type Job } from "../../domain/job.ts";
import type { SnapshotRequest } from "../../domain/messages.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../ports/messaging.ts";
import {
  RUNNING_STATUSES,
  type ProviderDirectory,
  type SnapshotDestination,
} from "../../ports/simulation-provider.ts";
import { locateSimulation, type LocatedSimulation } from "../catalog/locate-simulation.ts";
import { snapshotIdsFor, snapshotRecordsFor } from "./take-snapshot.ts";

/** What a person asks for when snapshotting now. */
export interface SnapshotOrder {
  simulation: string;
  name?: string;
  description?: string;
  tags?: string[];
  /**
   * The caller's key for this request (the API's `Idempotency-Key`): the same key always yields
   * the same checkpoint and job, so a retried request never takes a second snapshot.
   */
  idempotencyKey?: string;
}

/** What requesting a snapshot needs. */
export interface RequestSnapshotDeps {
  /** Where the simulation is looked up; only a provider that snapshots running ones takes it. */
  providers: Pick<ProviderDirectory, "all">;
  checkpoints: CheckpointStore;
  jobs: JobStore;
  events: EventPublisher;
  clock: Clock;
  destination: SnapshotDestination;
  requests: MessageQueue<SnapshotRequest>;
  /** The snapshot settings the job's deadline derives from, as take-snapshot would set it. */
  timing: SnapshotDeadlineTiming;
}

/** The request id of a manual snapshot: the simulation and the caller's idempotency key. */
export const manualRequestId = (simulation: string, idempotencyKey: string): string =>
  `manual/${simulation}/${idempotencyKey}`;

/**
 * The simulation and its provider, which must be able to snapshot it while it runs: a provider
 * that checkpoints only while stopping (NVIDIA Air) is pointed at the stop with a snapshot.
 */
async function snapshottable(
  providers: RequestSnapshotDeps["providers"],
  simulation: string,
): Promise<LocatedSimulation> {
  const located = await locateSimulation(simulation, providers);
  if (!located) throw new NotFoundError(`Simulation ${simulation} does not exist`);
  if (!located.provider.capabilities.snapshotWhileRunning) {
    throw new ConflictError(
      `Simulation ${simulation} runs on ${located.provider.name}, which takes a checkpoint only while stopping: ask for a stop with a snapshot (POST /simulations/${simulation}/stop) instead`,
    );
  }
  return located;
}

/**
 * A manual snapshot, answered at once with its job: the PENDING checkpoint and RUNNING job are
 * recorded here, with the ids take-snapshot derives from the same request, and the request goes to
 * the snapshot queue, where take-snapshot picks up these very records and calls CreateSnapshot.
 * A repeat with the same idempotency key returns the same job (and re-sends the request while the
 * job runs, in case the first attempt stopped before sending). A simulation that does not exist is
 * a 404, one that is not running (or whose provider cannot snapshot it running) a 409, both before
 * anything is recorded.
 */
export async function requestSnapshot(
  order: SnapshotOrder,
  deps: RequestSnapshotDeps,
): Promise<Job> {
  const requestId = manualRequestId(order.simulation, order.idempotencyKey ?? newId());
  const { jobId } = snapshotIdsFor(requestId);

  let job = await deps.jobs.get(jobId);
  if (!job) {
    const { provider, details } = await snapshottable(deps.providers, order.simulation);
    if (!RUNNING_STATUSES.has(details.status)) {
      throw new ConflictError(
        `Simulation ${order.simulation} is ${details.status}; only a STARTED simulation can take a snapshot`,
      );
    }
    const now = deps.clock.now();
    const request = requestFor(order, requestId, now.toISOString());
    const records = snapshotRecordsFor(request, {
      provider: provider.name,
      destination: deps.destination,
      now,
      run: details.executionId,
      timing: deps.timing,
    });
    await deps.checkpoints.create(records.checkpoint);
    if (await deps.jobs.create(records.job)) {
      await deps.events.publish([snapshotRequested(records.checkpoint, records.job)]);
    }
    job = (await deps.jobs.get(jobId)) ?? records.job;
  }
  if (!isJobFinished(job)) {
    await deps.requests.send(requestFor(order, requestId, job.startTime));
  }
  return job;
}

function requestFor(order: SnapshotOrder, requestId: string, requestedAt: string): SnapshotRequest {
  return {
    requestId,
    simulation: order.simulation,
    trigger: "manual",
    requestedAt,
    ...(order.name === undefined ? {} : { name: order.name }),
    ...(order.description === undefined ? {} : { description: order.description }),
    ...(order.tags === undefined ? {} : { tags: order.tags }),
  };
}
