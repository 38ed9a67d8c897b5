import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConcurrentModificationError, ProviderError } from "../../domain/errors.ts";
import {
  checkpointCompleted,
  checkpointDeleted,
  checkpointFailed,
  type DomainEvent,
} from "../../domain/events.ts";
import {
  heldCheckpointId,
  matchFinalCheckpoint,
  mirrorCheckpoint,
  type Attribution,
  type MirrorStep,
} from "../../domain/platform-checkpoint.ts";
import { SimulationNameSchema } from "../../domain/names.ts";
import { parseInput } from "../../domain/validation.ts";
import { isThrowawayName } from "../../domain/verification.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher } from "../../ports/messaging.ts";
import type {
  PlatformCheckpoint,
  PlatformCheckpoints,
  ProviderDirectory,
  SimulationProvider,
} from "../../ports/simulation-provider.ts";
import { loadSimulationCheckpoints } from "../catalog/list-checkpoints.ts";

/** What mirroring one simulation's platform checkpoints needs. */
export interface SyncPlatformDeps {
  /** The simulation's provider; it must hold checkpoints itself (`checkpoints` set). */
  provider: Pick<SimulationProvider, "name" | "checkpoints">;
  checkpoints: CheckpointStore;
  /** Open stop jobs tell which new checkpoint one of simsnap's stops asked for. */
  jobs: Pick<JobStore, "listOpen">;
  events: EventPublisher;
  clock: Clock;
}

/** What one sync of one simulation did, by catalog id. */
export interface SyncPlatformResult {
  simulation: string;
  provider: string;
  /** The platform's checkpoints of the simulation as listed (oldest first), for callers that decide on them too. */
  listed: PlatformCheckpoint[];
  created: string[];
  completed: string[];
  deleted: string[];
  failed: string[];
  /** Records whose name or favorite was taken from the platform (or that a stop adopted). */
  updated: string[];
  /** Checkpoints whose name or favorite was PATCHed to the platform. */
  pushed: string[];
  /** Checkpoints that could not be mirrored this time (the next sync tries again). */
  errors: { id: string; platformId: string; message: string }[];
}

const ATTEMPTS = 3;

const isNotFound = (error: unknown): boolean =>
  error instanceof ProviderError && error.code === "ResourceNotFoundException";

/** The provider's checkpoint API, or a clear error for a provider that holds none itself. */
export function heldCheckpointsOf(
  provider: Pick<SimulationProvider, "name" | "checkpoints">,
): PlatformCheckpoints {
  if (!provider.checkpoints) {
    throw new ProviderError(
      "UnsupportedOperation",
      `Provider ${provider.name} keeps no checkpoints itself (checkpointStorage is not "platform")`,
      { status: 400, retryable: false },
    );
  }
  return provider.checkpoints;
}

/**
 * The checkpoints open stop jobs of ours asked the platform for, by catalog id: a job bound to
 * one already, or the one checkpoint created after its stop call. A checkpoint two jobs would
 * claim belongs to neither (never guessed).
 */
async function stopAttributions(
  simulation: string,
  listed: readonly PlatformCheckpoint[],
  deps: SyncPlatformDeps,
): Promise<Map<string, Attribution>> {
  const claims = new Map<string, Attribution[]>();
  for (const job of await deps.jobs.listOpen(simulation, "stop")) {
    const call = job.stop?.call;
    if (!job.stop?.checkpointOnStop || !call || job.provider !== deps.provider.name) continue;
    let id = job.checkpointId;
    if (!id) {
      const match = matchFinalCheckpoint(listed, call);
      if (match.kind === "one") id = heldCheckpointId(deps.provider.name, match.checkpoint.id);
    }
    if (id) {
      const attribution = { jobId: job.id, description: job.stop.reason };
      claims.set(id, [...(claims.get(id) ?? []), attribution]);
    }
  }
  const attributions = new Map<string, Attribution>();
  for (const [id, jobs] of claims) {
    if (jobs.length === 1 && jobs[0]) attributions.set(id, jobs[0]);
  }
  return attributions;
}

/**
 * The catalog mirror of one simulation whose provider holds its checkpoints (NVIDIA Air): lists
 * them on the platform and makes the catalog agree, by `mirrorCheckpoint`'s rule. New ones are
 * cataloged (trigger `shutdown` when a stop of ours asked for it, else `discovered`); PENDING
 * ones complete once the platform says COMPLETE; a checkpoint the platform deleted (or, missing
 * from the listing, no longer knows) becomes DELETED with the reason; names and favorites go the
 * way of the newer `modified` (see `reconcileFields`), PATCHing the platform when simsnap's is
 * newer. Events are published as the other flows publish them (`Checkpoint Completed`,
 * `Checkpoint Deleted`, `Checkpoint Failed`). Idempotent: records have deterministic ids, every
 * write is conditional and re-decided after a lost race, and a second run finds nothing to do.
 * The platform is listed before the open jobs are read, so a checkpoint listed here was produced
 * after any stop call whose job this sync sees without one. A simulation the platform no longer
 * knows lists nothing: each record still PENDING or COMPLETE is then asked for by id. The name
 * comes from the platform's listing, whose rule may be looser than simsnap's (an Air simulation
 * may be called `team/lab`): such a name is refused before anything is written, naming the rule,
 * since a record under it could never be read back. A restore test's throwaway clone is never
 * mirrored: the checkpoint Air copied onto it is the tested checkpoint again, and the clone is
 * deleted minutes later; cataloged, it would make the throwaway a simulation with checkpoints.
 */
export async function syncPlatformCheckpoints(
  simulation: string,
  deps: SyncPlatformDeps,
): Promise<SyncPlatformResult> {
  const provider = deps.provider.name;
  parseInput(
    SimulationNameSchema,
    simulation,
    `simulation name ${JSON.stringify(simulation)} on ${provider} (rename it there for simsnap to manage it)`,
  );
  const held = heldCheckpointsOf(deps.provider);
  const result: SyncPlatformResult = {
    simulation,
    provider,
    listed: [],
    created: [],
    completed: [],
    deleted: [],
    failed: [],
    updated: [],
    pushed: [],
    errors: [],
  };
  if (isThrowawayName(simulation)) return result;
  let listed: PlatformCheckpoint[];
  try {
    listed = await held.list(simulation);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    listed = [];
  }
  const attributions = await stopAttributions(simulation, listed, deps);
  const records = new Map(
    (await loadSimulationCheckpoints(deps.checkpoints, simulation))
      .filter((c) => c.provider === provider && c.platformId !== undefined)
      .map((c) => [c.id, c]),
  );
  result.listed = listed;
  const mirror = async (id: string, platformId: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      result.errors.push({
        id,
        platformId,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };
  for (const checkpoint of listed) {
    const id = heldCheckpointId(provider, checkpoint.id);
    const known = records.get(id);
    records.delete(id);
    await mirror(id, checkpoint.id, () =>
      mirrorOne(id, known, checkpoint, attributions.get(id), simulation, held, deps, result),
    );
  }
  for (const record of records.values()) {
    if (record.state !== "PENDING" && record.state !== "COMPLETE") continue;
    const platformId = record.platformId as string;
    await mirror(record.id, platformId, async () =>
      mirrorOne(
        record.id,
        record,
        await held.get(platformId),
        undefined,
        simulation,
        held,
        deps,
        result,
      ),
    );
  }
  return result;
}

/** Applies the mirror rule to one checkpoint, re-reading and deciding again after a lost race. */
async function mirrorOne(
  id: string,
  known: Checkpoint | undefined,
  checkpoint: PlatformCheckpoint | undefined,
  attribution: Attribution | undefined,
  simulation: string,
  held: PlatformCheckpoints,
  deps: SyncPlatformDeps,
  result: SyncPlatformResult,
): Promise<void> {
  let existing = known;
  for (let attempt = 1; ; attempt++) {
    const step = mirrorCheckpoint(existing, checkpoint, {
      provider: deps.provider.name,
      simulation,
      now: deps.clock.now(),
      attribution,
    });
    try {
      await apply(step, existing, held, deps, result);
      return;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= ATTEMPTS) throw error;
      existing = await deps.checkpoints.get(id);
    }
  }
}

async function apply(
  step: MirrorStep,
  existing: Checkpoint | undefined,
  held: PlatformCheckpoints,
  deps: SyncPlatformDeps,
  result: SyncPlatformResult,
): Promise<void> {
  switch (step.action) {
    case "none":
      return;
    case "create": {
      if (!(await deps.checkpoints.create(step.record))) {
        throw new ConcurrentModificationError(`Checkpoint ${step.record.id} was created meanwhile`);
      }
      result.created.push(step.record.id);
      if (step.record.state === "COMPLETE") {
        result.completed.push(step.record.id);
        await deps.events.publish([checkpointCompleted(step.record)]);
      }
      return;
    }
    case "save": {
      await deps.checkpoints.save(step.record);
      const event = transitionEvent(existing, step.record, result);
      if (event) await deps.events.publish([event]);
      if (step.push) await push(step.record, step.push, held, result);
      return;
    }
    case "push":
      if (existing) await push(existing, step.push, held, result);
      return;
  }
}

/** The event of a record's transition, and where the result counts it. */
function transitionEvent(
  before: Checkpoint | undefined,
  after: Checkpoint,
  result: SyncPlatformResult,
): DomainEvent | undefined {
  if (before?.state === after.state) {
    result.updated.push(after.id);
    return undefined;
  }
  switch (after.state) {
    case "COMPLETE":
      result.completed.push(after.id);
      return checkpointCompleted(after);
    case "DELETED":
      result.deleted.push(after.id);
      return checkpointDeleted(after);
    case "FAILED":
      result.failed.push(after.id);
      return checkpointFailed(after);
    case "PENDING":
      return undefined;
  }
}

async function push(
  record: Checkpoint,
  changes: { name?: string; favorite?: boolean },
  held: PlatformCheckpoints,
  result: SyncPlatformResult,
): Promise<void> {
  await held.update(record.platformId as string, changes);
  result.pushed.push(record.id);
}

/** What mirroring every platform's checkpoints needs. */
export interface SyncAllDeps extends Omit<SyncPlatformDeps, "provider"> {
  providers: Pick<ProviderDirectory, "all">;
}

/** One simulation's sync, or why it could not be done. */
export type SyncAllResult =
  SyncPlatformResult | { simulation: string; provider: string; error: string };

/**
 * The scheduled mirror: every simulation of every provider that holds its checkpoints, each
 * synced on its own so one failure does not stop the others. It reaches the simulations the
 * platforms list now (restore tests' throwaways aside); a simulation deleted on its platform is
 * reconciled by a sync that names it.
 */
export async function syncAllPlatformCheckpoints(deps: SyncAllDeps): Promise<SyncAllResult[]> {
  const results: SyncAllResult[] = [];
  for (const provider of deps.providers.all()) {
    if (provider.capabilities.checkpointStorage !== "platform") continue;
    const simulations = (await provider.listSimulations())
      .map((s) => s.name)
      .filter((name) => !isThrowawayName(name))
      .sort();
    for (const simulation of simulations) {
      try {
        results.push(await syncPlatformCheckpoints(simulation, { ...deps, provider }));
      } catch (error) {
        results.push({
          simulation,
          provider: provider.name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return results;
}
