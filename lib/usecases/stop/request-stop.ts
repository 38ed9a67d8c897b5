import { NotFoundError } from "../../domain/errors.ts";
import { deterministicId } from "../../domain/ids.ts";
import { stopDeadline, type SnapshotDeadlineTiming } from "../../domain/job-deadline.ts";
import { isJobFinished, type Job, startJob } from "../../domain/job.ts";
import type { JobStep } from "../../domain/job.ts";
import type { SnapshotRequest, StopRequestedEvent } from "../../domain/messages.ts";
import { canCycle, STOP_STEPS, type StopRequest } from "../../domain/stop.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import type {
  ProviderCapabilities,
  SimulationProvider,
  SimulationStatus,
} from "../../ports/simulation-provider.ts";
import { locateSimulation } from "../catalog/locate-simulation.ts";
import { proceedCheckpointOnStop, type StopCallPorts } from "./checkpoint-on-stop.ts";
import { refuseStop, stopAndFinish, STOPPED_OR_ENDING } from "./stop-job.ts";
import { snapshotIdsFor } from "../snapshot/take-snapshot.ts";

/**
 * What requestStop needs: the stop job's ports, the queue a SimSpace Weaver-style final snapshot
 * is asked on, and the status-checks queue the re-checks of a checkpoint-on-stop platform go to.
 */
export interface RequestStopDeps extends StopCallPorts {
  requests: MessageQueue<SnapshotRequest>;
  /**
   * The snapshot settings the stop's deadline derives from (its final snapshot's, plus a margin),
   * and the status checks' backoff the re-checks of a checkpoint-on-stop platform follow.
   */
  timing: SnapshotDeadlineTiming & StopCallPorts["timing"];
}

/**
 * What a request led to: `requested` (the final snapshot was asked for; the stop follows when it
 * ends), `stopped` (no snapshot was wanted or possible, and the stop is done), `failed` (the job
 * failed at once, e.g. no such simulation), `duplicate` (this request was seen before; its job
 * is returned), `already-stopping` (another stop of the simulation is running; its job is
 * returned), `restart-pending` (a cycle of a simulation a restore is still starting, such as the
 * previous cycle's restart: nothing is recorded or stopped; that restore job is returned). `jobId`
 * is the job to poll.
 */
export interface RequestStopResult {
  outcome:
    "requested" | "stopped" | "failed" | "duplicate" | "already-stopping" | "restart-pending";
  jobId: string;
  checkpointId?: string;
  status: Job["status"];
}

/**
 * How a stop of a simulation no provider knows ends: `fail-job` (the default) records a FAILED
 * job, the only answer an event's sender can read later; `not-found` throws `NotFoundError`
 * before anything is recorded, as a snapshot of it does, for a caller that is waiting (the API).
 */
export interface StopRequestOptions {
  unknownSimulation?: "fail-job" | "not-found";
}

/**
 * The stop request a `Simulation Stop Requested` event makes; without a `requestId` in its detail,
 * the event's own id identifies it, which EventBridge keeps across redeliveries.
 */
export const stopRequestFromEvent = ({ id, detail }: StopRequestedEvent): StopRequest => ({
  requestId: detail.requestId ?? id,
  simulation: detail.simulation,
  snapshot: detail.snapshot,
  force: detail.force,
  reason: detail.reason,
  ...(detail.then ? { then: detail.then } : {}),
});

/** The stop job's id for a request id: the same request always addresses the same job. */
export const stopJobId = (requestId: string): string => deterministicId("stop", requestId);

/** The snapshot request id of a stop job's final snapshot. */
export const finalSnapshotRequestId = (jobId: string): string => `stop/${jobId}`;

const result = (outcome: RequestStopResult["outcome"], job: Job): RequestStopResult => ({
  outcome,
  jobId: job.id,
  checkpointId: job.checkpointId,
  status: job.status,
});

/**
 * The open restore job starting `request.simulation` itself (a cycle's restart, or a restore
 * into the same simulation), if any. A cycle that stopped it now would stop a start that has not
 * been confirmed yet: the restore would then find it STOPPED and report a failure to start, and
 * the cycle would checkpoint a run that barely began. Cycles are a rhythm (a tick due while the
 * previous cycle still restarts is skipped), so the cycle waits for the next tick instead.
 */
async function openRestoreInto(
  request: StopRequest,
  deps: Pick<RequestStopDeps, "jobs">,
): Promise<Job | undefined> {
  const restores = await deps.jobs.listOpen(request.simulation, "restore");
  return restores.find((job) => job.restore?.target === request.simulation);
}

/**
 * The request for a stop job's final snapshot, rebuilt from the job alone: the same job always
 * asks for the same snapshot, so request-stop and the sweeper can (re)send it at any time.
 */
export const finalSnapshotRequest = (job: Job): SnapshotRequest => ({
  requestId: finalSnapshotRequestId(job.id),
  simulation: job.simulation,
  trigger: "shutdown",
  name: `${job.simulation} final snapshot before stop`,
  description: job.stop?.reason ?? "",
  requestedAt: job.startTime,
});

/**
 * Carries a RUNNING stop job forward from where it stands: while its final snapshot runs, the
 * snapshot request is (re)sent — take-snapshot turns repeats into one snapshot — and the stop
 * follows from the snapshot's completion event; without a final snapshot, it stops at once.
 */
async function proceed(job: Job, deps: RequestStopDeps): Promise<Job> {
  // Refused when it was recorded: a crash before the refusal was saved must not become a stop.
  if (job.stop?.refusal) return refuseStop(job, job.stop.refusal, deps);
  if (job.stop?.checkpointOnStop) return proceedCheckpointOnStop(job, deps);
  const snapshotStep = job.steps?.find((s) => s.name === STOP_STEPS.finalSnapshot);
  if (snapshotStep?.status === "RUNNING") {
    await deps.requests.send(finalSnapshotRequest(job));
    return job;
  }
  return stopAndFinish(job, { outcome: "SKIPPED", forced: false }, deps);
}

/**
 * How the final checkpoint of a stop is taken, from the provider's capabilities; `cycle-refused`:
 * not at all, since the stop is a cycle its provider cannot do (`cycleRefusal`).
 */
type FinalCheckpoint = "snapshot" | "on-stop" | "none" | "impossible" | "cycle-refused";

function finalCheckpoint(
  request: StopRequest,
  running: boolean,
  capabilities: ProviderCapabilities | undefined,
): FinalCheckpoint {
  if (!request.snapshot || !running || !capabilities) return "none";
  if (capabilities.checkpointOnStop) return "on-stop";
  return capabilities.snapshotWhileRunning ? "snapshot" : "impossible";
}

/**
 * Why a cycle of a running simulation is refused before anything is stopped, or undefined: it
 * restarts only from the checkpoint its stop saves, so it needs that checkpoint and a platform
 * that can do both. A simulation already stopped (asleep) is left as it is, never woken.
 */
function cycleRefusal(
  request: StopRequest,
  status: SimulationStatus,
  provider: SimulationProvider | undefined,
): string | undefined {
  if (request.then !== "restart" || STOPPED_OR_ENDING.has(status)) return undefined;
  if (!request.snapshot) {
    return `A cycle starts ${request.simulation} again from the checkpoint its stop saves, so it cannot stop without one (snapshot=false); it was not stopped`;
  }
  if (canCycle(provider?.capabilities)) return undefined;
  return `Provider ${provider?.name} cannot start ${request.simulation} again from the checkpoint its stop saves (that needs checkpointOnStop and restoreInto.sameSimulation), so it was not stopped`;
}

/**
 * Why a new stop is refused before anything is stopped, or undefined: no such simulation, a cycle
 * its platform cannot do (`cycleRefusal`), or a running simulation of which no checkpoint can be
 * taken, unless the request says `force`. Decided before the job is recorded and recorded with it.
 */
function stopRefusal(
  request: StopRequest,
  context: {
    status: SimulationStatus;
    provider: SimulationProvider | undefined;
    cycleRefused: string | undefined;
    mode: FinalCheckpoint;
  },
): { code: string; message: string } | undefined {
  if (context.status === "DELETED") {
    return {
      code: "ResourceNotFoundException",
      message: `Simulation ${request.simulation} does not exist (or was deleted)`,
    };
  }
  if (context.cycleRefused) return { code: "CycleUnsupported", message: context.cycleRefused };
  if (context.mode === "impossible" && !request.force) {
    return {
      code: "CheckpointUnsupported",
      message: `Provider ${context.provider?.name} can take no checkpoint of the running simulation ${request.simulation}, so it was not stopped; ask with snapshot=false, or with force, to stop it without one`,
    };
  }
  return undefined;
}

/** The first step of a new stop job, as its final checkpoint is taken. */
function firstStep(
  mode: FinalCheckpoint,
  request: StopRequest,
  context: { now: string; status: string; provider?: string },
): JobStep {
  const { now } = context;
  switch (mode) {
    case "on-stop":
      return { name: STOP_STEPS.stopSimulation, status: "RUNNING", startedAt: now };
    case "snapshot":
      return { name: STOP_STEPS.finalSnapshot, status: "RUNNING", startedAt: now };
    case "cycle-refused":
      return {
        name: STOP_STEPS.finalSnapshot,
        status: "SKIPPED",
        startedAt: now,
        endedAt: now,
        message: "not taken: this cycle was refused (see the job's error), nothing was stopped",
      };
    case "impossible":
      return {
        name: STOP_STEPS.finalSnapshot,
        status: "SKIPPED",
        startedAt: now,
        endedAt: now,
        message: `provider ${context.provider} can take no checkpoint of a running simulation; stopping without one (force)`,
      };
    case "none":
      return {
        name: STOP_STEPS.finalSnapshot,
        status: "SKIPPED",
        startedAt: now,
        endedAt: now,
        message: request.snapshot
          ? `simulation is ${context.status}; no snapshot can be taken`
          : "not requested",
      };
  }
}

/**
 * Asks for a simulation to be stopped, by default after a final snapshot, the way its provider
 * can take one (the simulation's provider is found by asking each configured one, and recorded
 * on the job). SimSpace Weaver-style (`snapshotWhileRunning`): records a RUNNING `stop` job whose
 * steps show the final snapshot and then StopSimulation, and sends the snapshot request (trigger
 * `shutdown`); finish-stop takes over when that snapshot's `Checkpoint Completed` or `Checkpoint
 * Failed` event arrives. A platform that saves a checkpoint while stopping (`checkpointOnStop`,
 * NVIDIA Air): the job makes that stop call and re-checks the platform until the new checkpoint
 * is COMPLETE (`proceedCheckpointOnStop`, `checkCheckpointOnStop`). A provider that can take no
 * checkpoint of a running simulation is refused unless the request says `force`. A cycle (`then:
 * "restart"`) is such a stop, then a restore job from its checkpoint (`checkCheckpointOnStop`),
 * refused on a platform that cannot do both. This is the use case the HTTP API calls
 * (`POST …/stop`) and the one behind `Simulation Stop Requested` events;
 * both poll the returned job. A simulation that is already stopped, or a request with `snapshot:
 * false`, is stopped (or left stopped) at once; an unknown simulation fails the job, or with
 * `unknownSimulation: "not-found"` is a `NotFoundError`. A cycle of a simulation a restore is
 * still starting is left to the next tick (`openRestoreInto`). A refusal (`stopRefusal`) is
 * recorded with the job in its one conditional create and carried out by `proceed`, so a delivery
 * after a crash between the two writes fails the job rather than stopping the simulation.
 */
export async function requestStop(
  request: StopRequest,
  deps: RequestStopDeps,
  options: StopRequestOptions = {},
): Promise<RequestStopResult> {
  const id = stopJobId(request.requestId);
  const seen = await deps.jobs.get(id);
  if (seen) {
    return result("duplicate", isJobFinished(seen) ? seen : await proceed(seen, deps));
  }
  const running = (await deps.jobs.listOpen(request.simulation, "stop"))[0];
  // A stop refused when it was recorded, left RUNNING by a crash, blocks no other request.
  if (running?.stop?.refusal) await refuseStop(running, running.stop.refusal, deps);
  else if (running) return result("already-stopping", running);
  const restarting = request.then === "restart" && (await openRestoreInto(request, deps));
  if (restarting) return result("restart-pending", restarting);

  const startedAt = deps.clock.now();
  const now = startedAt.toISOString();
  const located = await locateSimulation(request.simulation, deps.providers);
  if (!located && options.unknownSimulation === "not-found") {
    throw new NotFoundError(`Simulation ${request.simulation} does not exist`);
  }
  const status = located?.details.status ?? "DELETED";
  const provider = located?.provider;
  const cycleRefused = cycleRefusal(request, status, provider);
  const mode = cycleRefused
    ? "cycle-refused"
    : finalCheckpoint(request, !STOPPED_OR_ENDING.has(status), provider?.capabilities);
  const refusal = stopRefusal(request, { status, provider, cycleRefused, mode });
  const job = startJob(
    {
      id,
      kind: "stop",
      simulation: request.simulation,
      ...(provider ? { provider: provider.name } : {}),
      deadline: stopDeadline(startedAt, deps.timing),
      checkpointId:
        mode === "snapshot" ? snapshotIdsFor(finalSnapshotRequestId(id)).checkpointId : undefined,
      stop: {
        requestId: request.requestId,
        snapshot: request.snapshot,
        force: request.force,
        reason: request.reason,
        ...(mode === "on-stop" ? { checkpointOnStop: true } : {}),
        ...(request.then ? { then: request.then } : {}),
        ...(refusal ? { refusal } : {}),
      },
      steps: [firstStep(mode, request, { now, status, provider: provider?.name })],
    },
    startedAt,
  );
  if (!(await deps.jobs.create(job))) {
    const raced = await deps.jobs.get(id);
    if (!raced) throw new Error(`Stop job ${id} could neither be created nor read`);
    return result("duplicate", isJobFinished(raced) ? raced : await proceed(raced, deps));
  }
  const next = await proceed(job, deps);
  if (!isJobFinished(next)) return result("requested", next);
  return result(next.status === "SUCCEEDED" ? "stopped" : "failed", next);
}
