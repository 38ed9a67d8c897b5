import type { Checkpoint } from "../../domain/checkpoint.ts";
import { isJobFinished, startJob, type Job } from "../../domain/job.ts";
import { selectorMatchesName, selectorMatchesProvider } from "../../domain/selector.ts";
import {
  chooseCheckpoints,
  freeSlots,
  isThrowawayName,
  throwawayName,
  verdictDeadline,
  verificationJobId,
  type ChosenCheckpoint,
  type VerificationStep,
  type VerificationTick,
} from "../../domain/verification.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, MessageQueue } from "../../ports/messaging.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";
import type { Slot, SlotStore } from "../../ports/slots.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";

/** What planning a run of restore tests needs: the catalog, the providers' capabilities, the queue. */
export interface PlanVerificationsDeps {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  providers: ProviderDirectory;
  steps: MessageQueue<VerificationStep>;
  clock: Clock;
  /** The cost guard's slots: each started test claims one, so overlapping runs cannot exceed it. */
  slots: SlotStore;
}

/** The pool of the restore tests' cost-guard slots. */
export const VERIFICATION_SLOTS = "verify";

/**
 * How long a slot claimed for a job that does not exist (yet) stays taken: the claim comes before
 * the job is created, so a planner that claimed and died leaves a slot free again after this.
 */
const CLAIM_GRACE_MS = 60_000;

/** One checkpoint a run chose, and what became of it. */
export interface PlannedVerification {
  checkpointId: string;
  simulation: string;
  reason: ChosenCheckpoint["reason"];
  /**
   * `started`: a job and its throwaway; `existing`: this slot's job already existed (a repeated
   * tick); `deferred`: the cost guard had no room (the next run tries again); `busy`: a test of
   * it is still running.
   */
  outcome: "started" | "existing" | "deferred" | "busy";
  jobId?: string;
  throwaway?: string;
}

/** A simulation whose checkpoints cannot be tested, and why. */
export interface SkippedVerification {
  simulation: string;
  provider: string;
  reason: string;
}

/** What one run planned. */
export interface PlanVerificationsResult {
  planned: PlannedVerification[];
  skipped: SkippedVerification[];
  /** Open verification jobs when the run began: what the cost guard counted. */
  open: number;
}

/** Every open verification job, across simulations (the sweeper's `openJobs` index). */
async function openVerifications(jobs: JobStore): Promise<Job[]> {
  const open: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await jobs.listAllOpen({ limit: 100, cursor });
    open.push(...page.items.filter((job) => job.kind === "verify"));
    cursor = page.nextCursor;
  } while (cursor);
  return open;
}

/** Why a provider's checkpoints cannot be tested, or undefined when they can. */
function providerRefusal(providers: ProviderDirectory, name: string): string | undefined {
  let capabilities;
  try {
    capabilities = providers.byName(name).capabilities;
  } catch {
    return `provider ${name} is not configured for restore tests here`;
  }
  if (!capabilities.restoreInto.newSimulation) {
    return `${name} cannot restore a checkpoint into a new simulation`;
  }
  if (!capabilities.restoreTest) {
    return `${name} cannot host a restore test: simsnap could not delete the throwaway simulation afterwards`;
  }
  return undefined;
}

/**
 * One run of the restore-test schedule: picks the checkpoints of the selected simulations
 * (`chooseCheckpoints`: newest per simulation, favorites, a sample) whose provider can host a
 * test (branching on `restoreTest`, never on a name; the others are reported skipped with the
 * reason), and starts a `verify` job for as many as the cost guard admits: at most
 * `maxConcurrent` open verification jobs (each one a throwaway simulation, or its cleanup), the
 * others deferred to the next run. A checkpoint under test is not tested twice at once. Job ids
 * derive from the checkpoint and the slot, so a repeated tick starts nothing twice (it sends the
 * first step again while the job has not moved, in case the first tick died right after the
 * create); throwaway simulations never come from the selection (their names are reserved).
 * Counting open jobs is not enough when two runs overlap (both count before either creates), so
 * each new job first claims one of `maxConcurrent` slots by compare-and-swap (`claimSlot`): two
 * runs at once never start more throwaways than there are slots.
 */
export async function planVerifications(
  tick: VerificationTick,
  deps: PlanVerificationsDeps,
): Promise<PlanVerificationsResult> {
  const skipped: SkippedVerification[] = [];
  const bySimulation = new Map<string, Checkpoint[]>();
  const refusals = new Map<string, string | undefined>();
  for (const simulation of await deps.checkpoints.listSimulations()) {
    if (isThrowawayName(simulation) || !selectorMatchesName(tick.selector, simulation)) continue;
    const checkpoints = (await loadSimulationCheckpoints(deps.checkpoints, simulation)).filter(
      (c) => selectorMatchesProvider(tick.selector, c.provider),
    );
    const testable: Checkpoint[] = [];
    for (const checkpoint of checkpoints) {
      if (!refusals.has(checkpoint.provider)) {
        refusals.set(checkpoint.provider, providerRefusal(deps.providers, checkpoint.provider));
      }
      const refusal = refusals.get(checkpoint.provider);
      if (refusal === undefined) testable.push(checkpoint);
      else if (!skipped.some((s) => s.simulation === simulation)) {
        skipped.push({ simulation, provider: checkpoint.provider, reason: refusal });
      }
    }
    if (testable.length > 0) bySimulation.set(simulation, testable);
  }

  const chosen = chooseCheckpoints(bySimulation, tick.checkpoints, tick.scheduledTime);
  const open = await openVerifications(deps.jobs);
  const busy = new Set(open.map((job) => job.checkpointId));
  let slots = freeSlots(tick.maxConcurrent, open.length);
  const planned: PlannedVerification[] = [];
  for (const { checkpoint, reason } of chosen) {
    const jobId = verificationJobId(checkpoint.id, tick.scheduledTime);
    const base = { checkpointId: checkpoint.id, simulation: checkpoint.simulation, reason };
    const existing = await deps.jobs.get(jobId);
    if (existing) {
      await resendFirstStep(existing, deps);
      planned.push({ ...base, outcome: "existing", jobId, throwaway: existing.verify?.target });
      continue;
    }
    if (busy.has(checkpoint.id)) {
      planned.push({ ...base, outcome: "busy" });
      continue;
    }
    if (slots === 0 || (await claimSlot(jobId, tick.maxConcurrent, open, deps)) === undefined) {
      slots = 0;
      planned.push({ ...base, outcome: "deferred" });
      continue;
    }
    const job = await openJob(checkpoint, jobId, tick, deps);
    slots -= 1;
    planned.push({ ...base, outcome: "started", jobId, throwaway: job.verify?.target });
  }
  return { planned, skipped, open: open.length };
}

/**
 * A slot of the cost guard for job `jobId`, claimed by compare-and-swap: one the job holds
 * already (a repeated run), else a free one, which is a slot never claimed or one whose holder is
 * done: its job finished, or, claimed over a minute ago, was never created. A claim another run
 * made first is lost without harm, and the next slot is tried. Undefined when all are taken.
 */
async function claimSlot(
  jobId: string,
  count: number,
  open: readonly Job[],
  deps: PlanVerificationsDeps,
): Promise<number | undefined> {
  const openIds = new Set(open.map((job) => job.id));
  const now = deps.clock.now();
  const held = (slots: readonly Slot[]) => slots.find((slot) => slot.holder === jobId)?.index;
  let slots = await deps.slots.read(VERIFICATION_SLOTS, count);
  const mine = held(slots);
  if (mine !== undefined) return mine;
  for (const slot of slots) {
    if (!(await isFree(slot, openIds, now, deps))) continue;
    const at = now.toISOString();
    if (await deps.slots.claim(VERIFICATION_SLOTS, slot.index, slot.holder, jobId, at)) {
      return slot.index;
    }
    // Another run got there first; if it was for this very job, the job has its slot.
    slots = await deps.slots.read(VERIFICATION_SLOTS, count);
    const raced = held(slots);
    if (raced !== undefined) return raced;
  }
  return undefined;
}

/** True when a slot's holder no longer needs it (see `claimSlot`). */
async function isFree(
  slot: Slot,
  openIds: ReadonlySet<string>,
  now: Date,
  deps: PlanVerificationsDeps,
): Promise<boolean> {
  if (slot.holder === undefined) return true;
  if (openIds.has(slot.holder)) return false;
  const job = await deps.jobs.get(slot.holder);
  if (job) return isJobFinished(job);
  return (
    slot.claimedAt === undefined || now.getTime() - Date.parse(slot.claimedAt) > CLAIM_GRACE_MS
  );
}

async function openJob(
  checkpoint: Checkpoint,
  jobId: string,
  tick: VerificationTick,
  deps: PlanVerificationsDeps,
): Promise<Job> {
  const now = deps.clock.now();
  const job = startJob(
    {
      id: jobId,
      kind: "verify",
      simulation: checkpoint.simulation,
      provider: checkpoint.provider,
      checkpointId: checkpoint.id,
      nextCheckAt: now.toISOString(),
      deadline: verdictDeadline(now, tick.maximumDuration),
      verify: {
        target: throwawayName(jobId),
        phase: "starting",
        maximumDuration: tick.maximumDuration,
        snapshot: checkpoint.location,
      },
    },
    now,
  );
  if (!(await deps.jobs.create(job))) {
    const raced = await deps.jobs.get(jobId);
    if (raced) {
      await resendFirstStep(raced, deps);
      return raced;
    }
  }
  await deps.steps.send({ jobId, step: 0, dueAt: job.nextCheckAt ?? job.startTime });
  return job;
}

/** A job that has not moved since it was created gets its first step again (dropped if stale). */
async function resendFirstStep(job: Job, deps: PlanVerificationsDeps): Promise<void> {
  if (isJobFinished(job) || job.checks !== 0 || job.verify?.phase !== "starting") return;
  if (job.verify.startClaimedAt) return;
  await deps.steps.send({ jobId: job.id, step: 0, dueAt: job.nextCheckAt ?? job.startTime });
}
