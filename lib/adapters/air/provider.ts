import * as z from "zod";
import { ProviderError } from "../../domain/errors.ts";
import { nameWithSuffix, SIMULATION_NAME_MAX } from "../../domain/names.ts";
import { parseInput } from "../../domain/validation.ts";
import { isThrowawayName, THROWAWAY_PREFIX } from "../../domain/verification.ts";
import type {
  PlatformCheckpoint,
  PlatformCheckpointChanges,
  PlatformCheckpoints,
  ProviderCapabilities,
  SimulationDetails,
  SimulationProvider,
  SimulationStatus,
  SimulationSummary,
  SnapshotDestination,
  StartSimulationInput,
} from "../../ports/simulation-provider.ts";
import type { AirCheckpoint, AirClient, AirSimulation } from "./client.ts";
import { lazySchema } from "../../domain/lazy-schema.ts";

/** The provider's name in checkpoint records and configuration. */
export const AIR = "air";

/**
 * NVIDIA Air checkpoints only while shutting down (`create_checkpoint`), keeps them itself
 * behind its API (no bytes to archive), restores by starting the same simulation from one or by
 * cloning it, and has no tags. It hosts restore tests: the clone is a new simulation the adapter
 * may delete (only a throwaway, see `deleteSimulation`). The evidence is `started`: a clone's run
 * names the checkpoint it started from (`started_from`), but that is the clone's own copy, and
 * nothing documented links the copy back to the checkpoint it was copied from.
 */
export const AIR_CAPABILITIES: ProviderCapabilities = {
  snapshotWhileRunning: false,
  checkpointOnStop: true,
  checkpointStorage: "platform",
  archivable: false,
  restoreInto: { newSimulation: true, sameSimulation: true, prefix: false },
  tags: false,
  restoreTest: { evidence: "started" },
};

/** Air clones only a simulation at rest (the reference: "must be in the INACTIVE or CLONING state"). */
const CLONEABLE_STATES: ReadonlySet<string> = new Set(["INACTIVE", "CLONING"]);

/**
 * Air's simulation states in the port's vocabulary, so use cases written for SimSpace Weaver's
 * statuses decide the same way; SAVING and the purge states are STOPPING, being on the way to
 * INACTIVE. A state not listed (CLONING, REBUILDING, a new one) is UNKNOWN, which no use case
 * acts on.
 */
const STATUS_BY_STATE: ReadonlyMap<string, SimulationStatus> = new Map([
  ["REQUESTING", "STARTING"],
  ["PROVISIONING", "STARTING"],
  ["PREPARE_BOOT", "STARTING"],
  ["BOOTING", "STARTING"],
  ["ACTIVE", "STARTED"],
  ["PREPARE_SHUTDOWN", "STOPPING"],
  ["SHUTTING_DOWN", "STOPPING"],
  ["SAVING", "STOPPING"],
  ["PREPARE_PURGE", "STOPPING"],
  ["PURGING", "STOPPING"],
  ["INACTIVE", "STOPPED"],
  ["INVALID", "FAILED"],
  ["DELETING", "DELETING"],
]);

/** An Air simulation state as the port's `SimulationStatus`. */
export const toSimulationStatus = (state: string): SimulationStatus =>
  STATUS_BY_STATE.get(state) ?? "UNKNOWN";

/**
 * Air's own limit on simulation and checkpoint names: free text of 1 to 128 characters, counted
 * as Python counts them (code points: an emoji is one). Every name simsnap's `SimulationNameSchema`
 * admits, Air admits too, so the provider has no `simulationNameRefusal`; an Air name simsnap's
 * rule refuses (one with a `/`, say) is listed, but nothing can be asked of it by name.
 */
const AirNameSchema = lazySchema(() =>
  z
    .string()
    .min(1)
    .refine((name) => [...name].length <= 128, "must be at most 128 characters"),
);

const ChangesSchema = lazySchema(() =>
  z.strictObject({
    name: AirNameSchema.optional(),
    favorite: z.boolean().optional(),
  }),
);

const RestoreTargetSchema = lazySchema(() =>
  z.strictObject({
    simulation: AirNameSchema,
    into: z.enum(["same", "new"]),
    name: AirNameSchema.optional(),
  }),
);

const IdSchema = lazySchema(() => z.string().min(1));

const unsupported = (operation: string, why: string): ProviderError =>
  new ProviderError("UnsupportedOperation", `NVIDIA Air cannot ${operation}: ${why}`, {
    status: 400,
    retryable: false,
  });

const toSummary = (simulation: AirSimulation): SimulationSummary => {
  const summary: SimulationSummary = {
    name: simulation.name,
    status: toSimulationStatus(simulation.state),
    providerStatus: simulation.state,
  };
  if (simulation.created !== undefined) summary.creationTime = simulation.created;
  return summary;
};

const toPlatformCheckpoint = (
  checkpoint: AirCheckpoint,
  simulation: string,
): PlatformCheckpoint => ({
  id: checkpoint.id,
  simulation,
  run: checkpoint.run,
  state: checkpoint.state,
  name: checkpoint.name,
  favorite: checkpoint.favorite,
  created: checkpoint.created,
  modified: checkpoint.modified,
});

const isNotFound = (error: unknown): boolean =>
  error instanceof ProviderError && error.code === "ResourceNotFoundException";

/**
 * The clone's name when the caller gives none: the source's (spaces and all, as Air names go) and
 * the checkpoint's, within simsnap's name rule (anything it forbids, such as `/` or a control
 * character, becomes `-`), so the same restore asked twice finds its first clone's name taken.
 */
export function cloneName(simulation: string, checkpointId: string): string {
  const suffix = checkpointId.replace(/[^a-zA-Z0-9]/g, "").slice(0, 8);
  const stem = simulation.replace(/[/\p{Cc}\p{Cs}\u2028\u2029]/gu, "-").trimStart();
  return nameWithSuffix(stem, `-${suffix}`, SIMULATION_NAME_MAX);
}

/**
 * simsnap names simulations; Air identifies them by uuid and lets several share a name. A name
 * matching none is not found, one matching several is refused rather than guessed.
 */
async function findSimulation(client: AirClient, name: string): Promise<AirSimulation> {
  const checked = parseInput(AirNameSchema, name, "NVIDIA Air simulation name");
  // The server's `name` filter is exact, but the match is checked here too, so a server that
  // filters loosely (or not at all) can never make simsnap act on another simulation.
  const matches = (await client.listSimulations({ name: checked })).filter(
    (simulation) => simulation.name === checked,
  );
  const [only, ...others] = matches;
  if (only === undefined) {
    throw new ProviderError(
      "ResourceNotFoundException",
      `No NVIDIA Air simulation visible to this token is named ${checked}`,
      { status: 404 },
    );
  }
  if (others.length > 0) {
    throw new ProviderError(
      "AmbiguousSimulationName",
      `${matches.length} NVIDIA Air simulations are named ${checked} (ids ${matches.map((s) => s.id).join(", ")}); simsnap identifies simulations by name, so rename all but one in Air`,
      { status: 409, retryable: false },
    );
  }
  return only;
}

/**
 * Air's checkpoints as `PlatformCheckpoints`. Air's checkpoint names its run, not its
 * simulation, so reading one by id follows run → simulation to report the simulation's name.
 */
class AirCheckpoints implements PlatformCheckpoints {
  constructor(private readonly client: AirClient) {}

  async list(simulation: string): Promise<PlatformCheckpoint[]> {
    const found = await findSimulation(this.client, simulation);
    // Oldest first keeps offset paging stable: Air never removes a checkpoint row (a deleted one
    // stays, DELETED), and a new one lands after the last page.
    const checkpoints = await this.client.listCheckpoints({
      simulation: found.id,
      ordering: "created",
    });
    const byId = new Map<string, PlatformCheckpoint>();
    for (const checkpoint of checkpoints) {
      if (!byId.has(checkpoint.id)) {
        byId.set(checkpoint.id, toPlatformCheckpoint(checkpoint, found.name));
      }
    }
    return [...byId.values()].sort((a, b) => a.created.getTime() - b.created.getTime());
  }

  async get(id: string): Promise<PlatformCheckpoint | undefined> {
    let checkpoint: AirCheckpoint;
    try {
      checkpoint = await this.client.getCheckpoint(parseInput(IdSchema, id, "checkpoint id"));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return this.withSimulation(checkpoint);
  }

  async update(id: string, changes: PlatformCheckpointChanges): Promise<PlatformCheckpoint> {
    const patch = parseInput(ChangesSchema, changes, "checkpoint changes");
    const updated = await this.client.updateCheckpoint(
      parseInput(IdSchema, id, "checkpoint id"),
      patch,
    );
    return this.withSimulation(updated);
  }

  async delete(id: string): Promise<void> {
    await this.client.deleteCheckpoint(parseInput(IdSchema, id, "checkpoint id"));
  }

  async restore(
    id: string,
    target: { simulation: string; into: "same" | "new"; name?: string },
  ): Promise<string> {
    const checkpoint = parseInput(IdSchema, id, "checkpoint id");
    const { simulation, into, name } = parseInput(RestoreTargetSchema, target, "restore target");
    const source = await findSimulation(this.client, simulation);
    if (into === "same") {
      await this.client.startSimulation(source.id, checkpoint);
      return source.name;
    }
    if (!CLONEABLE_STATES.has(source.state)) {
      // Not a bad request but a state that passes: a use case waits it out (or gives up) as it
      // does for any busy platform, instead of blaming the checkpoint.
      throw new ProviderError(
        "ConflictException",
        `NVIDIA Air clones only an INACTIVE simulation; ${source.name} is ${source.state}: restore into a new simulation once it is stopped`,
        { status: 409, retryable: false },
      );
    }
    const cloneAs = name ?? cloneName(source.name, checkpoint);
    const taken = (await this.client.listSimulations({ name: cloneAs })).some(
      (existing) => existing.name === cloneAs,
    );
    if (taken) {
      throw new ProviderError(
        "SimulationNameTaken",
        `An NVIDIA Air simulation named ${cloneAs} already exists (an earlier restore of checkpoint ${checkpoint}?): restore under another name`,
        { status: 409, retryable: false },
      );
    }
    const clone = await this.client.cloneSimulation({
      simulation: source.id,
      checkpoint,
      name: cloneAs,
      attemptStart: true,
    });
    return clone.name === "" ? cloneAs : clone.name;
  }

  private async withSimulation(checkpoint: AirCheckpoint): Promise<PlatformCheckpoint> {
    const run = await this.client.getRun(checkpoint.run);
    const simulation = await this.client.getSimulation(run.simulation);
    return toPlatformCheckpoint(checkpoint, simulation.name);
  }
}

/**
 * The `SimulationProvider` port on NVIDIA Air (v3 API). Simulations are addressed by name as
 * everywhere in simsnap and resolved to Air's uuid on each call (Air lets people rename them, so
 * a cached id could act on the wrong one). Operations Air lacks fail with `UnsupportedOperation`,
 * as `capabilities` announce.
 */
export class AirProvider implements SimulationProvider {
  readonly name = AIR;
  readonly capabilities = AIR_CAPABILITIES;
  readonly checkpoints: PlatformCheckpoints;

  constructor(private readonly client: AirClient) {
    this.checkpoints = new AirCheckpoints(client);
  }

  async listSimulations(): Promise<SimulationSummary[]> {
    return (await this.client.listSimulations()).map(toSummary);
  }

  async describeSimulation(name: string): Promise<SimulationDetails> {
    return toSummary(await findSimulation(this.client, name));
  }

  /** Air's shutdown with `create_checkpoint: true`: ACTIVE → … → SAVING → INACTIVE. */
  async stopWithCheckpoint(name: string): Promise<void> {
    const simulation = await findSimulation(this.client, name);
    await this.client.shutdownSimulation(simulation.id, true);
  }

  /** Air's shutdown without a checkpoint (a purge): what the simulation ran since is lost. */
  async stopSimulation(name: string): Promise<void> {
    const simulation = await findSimulation(this.client, name);
    await this.client.shutdownSimulation(simulation.id, false);
  }

  /**
   * Starts an existing, stopped Air simulation from its most recent checkpoint. Air has no
   * schema or snapshot files to start from: a restore goes through `checkpoints.restore`.
   */
  async startSimulation(
    input: StartSimulationInput,
  ): Promise<{ arn?: string; executionId?: string }> {
    if (input.schema !== undefined || input.snapshot !== undefined) {
      throw unsupported(
        "start a simulation from an S3 schema or snapshot",
        "its checkpoints live in Air; restore one with checkpoints.restore",
      );
    }
    const simulation = await findSimulation(this.client, input.name);
    await this.client.startSimulation(simulation.id);
    return {};
  }

  async createSnapshot(_name: string, _destination: SnapshotDestination): Promise<void> {
    throw unsupported(
      "snapshot a running simulation",
      "it saves a checkpoint only while shutting down (stopWithCheckpoint)",
    );
  }

  async listTags(_arn: string): Promise<Record<string, string>> {
    throw unsupported("list tags", "its simulations have no tags");
  }

  /**
   * Deletes a restore test's throwaway clone, and no other simulation: an Air simulation's
   * checkpoints go with it, and Air has no tags to prove whose it is. The proof is the name
   * (`simsnap-verify-<16 hex>`, reserved: schedules and restore tests never pick one) together
   * with the verification job's claim, which the use case checks before it calls this (it saw
   * the name free, saved the claim, then cloned under it). Air's DELETE answers at once; the
   * simulation is DELETING for a few minutes, then gone.
   */
  async deleteSimulation(name: string): Promise<void> {
    if (!isThrowawayName(name)) {
      throw unsupported(
        `delete simulation ${name} through simsnap`,
        `its checkpoints would go with it; simsnap deletes only the throwaway clones of its restore tests (${THROWAWAY_PREFIX}<16 hex>). Delete it in Air if that is meant`,
      );
    }
    const simulation = await findSimulation(this.client, name);
    await this.client.deleteSimulation(simulation.id);
  }
}
