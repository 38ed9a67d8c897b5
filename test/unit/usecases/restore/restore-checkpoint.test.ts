import { describe, expect, it } from "vitest";
import { markCheckpointDeleted, type Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import {
  ConfigError,
  ConflictError,
  NotFoundError,
  ProviderError,
  ValidationError,
} from "../../../../lib/domain/errors.ts";
import type { RestoreStep } from "../../../../lib/domain/restore.ts";
import {
  directoryOf,
  type SimulationDetails,
  type StartSimulationInput,
} from "../../../../lib/ports/simulation-provider.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import {
  advanceRestore,
  restoreCheckpoint,
  type RestoreDeps,
} from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";

/** A provider that, like SimSpace Weaver, starts simulations asynchronously and dedupes tokens. */
class StartingProvider extends FakeProvider {
  readonly starts: StartSimulationInput[] = [];
  /** Statuses a new simulation goes through, one per describe call, the last one sticking. */
  startSequence: SimulationDetails["status"][] = ["STARTING", "STARTED"];
  startError?: string;
  /** The platform's own name rule, when a test gives it one (`simulationNameRefusal`). */
  nameRule?: (name: string) => string | undefined;
  private readonly tokens = new Map<string, string>();

  simulationNameRefusal(name: string): string | undefined {
    return this.nameRule?.(name);
  }

  override async startSimulation(input: StartSimulationInput) {
    this.starts.push(input);
    if (this.tokens.get(input.name) === input.clientToken) return { executionId: "exec-1" };
    if (this.statuses.has(input.name)) {
      throw new ProviderError("ValidationException", `${input.name} already exists`, {
        status: 400,
      });
    }
    this.tokens.set(input.name, input.clientToken ?? "");
    this.statuses.set(input.name, this.startSequence[0] ?? "STARTED");
    return { arn: `arn:sim/${input.name}`, executionId: "exec-1" };
  }

  override async describeSimulation(name: string): Promise<SimulationDetails> {
    const details = await super.describeSimulation(name);
    if (this.tokens.has(name) && this.startSequence.length > 1) {
      this.startSequence.shift();
      this.statuses.set(name, this.startSequence[0] ?? "STARTED");
    }
    return { ...details, startError: this.startError };
  }
}

function restoreWorld(options: { checksums?: boolean } = {}) {
  const base = archiveWorld(options);
  const provider = new StartingProvider({ "ocean-currents": "STARTED" });
  const restoreSteps = new MemoryQueue<RestoreStep>();
  const restore: RestoreDeps["restore"] = {
    roleArn: "arn:aws:iam::123456789012:role/sim",
    snapshotBucket: "snapshots",
    snapshotPrefix: "simsnap",
    archiveBucket: "archive",
    checksumAlgorithm: "CRC64NVME",
    deadlineSeconds: 3600,
    firstCheckSeconds: 10,
    maxCheckSeconds: 60,
    thaw: { days: 1, tier: "Standard" },
  };
  return { ...base, provider, providers: directoryOf([provider]), restoreSteps, restore };
}
type World = ReturnType<typeof restoreWorld>;

/**
 * Runs queued steps in order (at most `limit`), letting time pass up to each one's due time;
 * returns the index of the next unprocessed step.
 */
async function drain(world: World, from = 0, limit = 50): Promise<number> {
  let next = from;
  while (next < world.restoreSteps.sent.length && next < from + limit) {
    const { message } = world.restoreSteps.sent[next++] as { message: RestoreStep };
    if (new Date(message.dueAt) > world.clock.now()) world.clock.set(message.dueAt);
    await advanceRestore(message, world);
  }
  return next;
}

const request = { checkpointId: "c-1", clientToken: "token-1" };

async function archivedAndPruned(world: World, storageClass?: string): Promise<Checkpoint> {
  const checkpoint = await completedCheckpoint(world);
  await archiveCheckpoint({ checkpointId: checkpoint.id }, world);
  const archived = (await world.checkpoints.get(checkpoint.id)) as Checkpoint;
  await world.storage.deleteMany("snapshots", [checkpoint.location?.key ?? ""]);
  await world.checkpoints.save(markCheckpointDeleted(archived, world.clock.now()));
  if (storageClass && archived.archive) world.storage.transition(archived.archive, storageClass);
  return archived;
}

describe("restoreCheckpoint", () => {
  it("starts a new simulation from the hot file and succeeds once it is STARTED", async () => {
    const world = restoreWorld();
    const checkpoint = await completedCheckpoint(world);

    const result = await restoreCheckpoint({ ...request, maximumDuration: "2h" }, world);
    await drain(world);

    expect(result).toMatchObject({
      outcome: "started",
      simulationName: expect.stringMatching(/^ocean-currents-r261123-100010-[0-9a-f]{4}$/),
      job: { kind: "restore", status: "RUNNING", checkpointId: "c-1" },
    });
    expect(world.provider.starts).toEqual([
      expect.objectContaining({
        name: result.simulationName,
        roleArn: world.restore.roleArn,
        snapshot: checkpoint.location,
        maximumDuration: "2h",
        clientToken: result.job.id,
      }),
    ]);
    expect(await world.jobs.get(result.job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { phase: "waiting", from: "hot", snapshot: checkpoint.location },
    });
    expect(world.storage.copies).toEqual([]);
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Restore Requested",
      "Checkpoint Restored",
    ]);
  });

  it("copies the archive back and restores from it when the hot file was pruned", async () => {
    const world = restoreWorld({ checksums: false });
    const checkpoint = await archivedAndPruned(world);

    const result = await restoreCheckpoint({ ...request, simulationName: "replay" }, world);
    await drain(world);

    const copyBack = {
      bucket: "snapshots",
      key: "simsnap/restore/c-1/ocean-currents-261123-1000-10.zip",
    };
    expect(world.storage.copies.at(-1)).toMatchObject({
      source: checkpoint.archive && {
        bucket: checkpoint.archive.bucket,
        key: checkpoint.archive.key,
      },
      destination: copyBack,
    });
    expect(world.storage.bytes(copyBack)).toEqual(
      world.storage.bytes({ bucket: "archive", key: checkpoint.archive?.key ?? "" }),
    );
    expect(world.provider.starts).toEqual([
      expect.objectContaining({ name: "replay", snapshot: copyBack }),
    ]);
    expect(await world.jobs.get(result.job.id)).toMatchObject({
      status: "SUCCEEDED",
      restore: { from: "archive", snapshot: copyBack },
    });
  });

  it("thaws a cold archive first and waits for S3 before copying it back", async () => {
    const world = restoreWorld();
    const checkpoint = await archivedAndPruned(world, "DEEP_ARCHIVE");
    const archive = { bucket: "archive", key: checkpoint.archive?.key ?? "" };

    const result = await restoreCheckpoint(request, world);
    const done = await drain(world, 0, 1);

    expect(world.storage.restoreRequests).toEqual([
      { location: archive, days: 1, tier: "Standard" },
    ]);
    expect(await world.jobs.get(result.job.id)).toMatchObject({
      status: "RUNNING",
      restore: { phase: "thawing", thawRequestedAt: expect.any(String) },
    });
    expect(world.provider.starts).toEqual([]);
    expect(world.restoreSteps.sent.at(-1)?.delaySeconds).toBe(10);

    // Still thawing at the next check: no second request, a longer wait.
    world.storage.restoreRequests.length = 0;
    await drain(world, done, 1);
    expect(world.storage.restoreRequests).toEqual([]);
    expect(world.restoreSteps.sent.at(-1)?.delaySeconds).toBe(20);

    world.storage.finishThaw(archive);
    await drain(world, done + 1);
    expect(world.provider.starts).toHaveLength(1);
    // Waiting for the simulation to start backs off from the first delay again.
    expect(world.restoreSteps.sent[3]?.delaySeconds).toBe(10);
    expect(await world.jobs.get(result.job.id)).toMatchObject({ status: "SUCCEEDED" });
  });

  it("rejects a DELETED checkpoint that was never archived, precisely", async () => {
    const world = restoreWorld();
    const checkpoint = await completedCheckpoint(world);
    await world.checkpoints.save(markCheckpointDeleted(checkpoint, world.clock.now()));

    const failure = restoreCheckpoint(request, world);

    await expect(failure).rejects.toBeInstanceOf(ConflictError);
    await expect(failure).rejects.toThrow(
      "Checkpoint c-1 was deleted from the snapshot bucket and was never archived: there is no copy to restore it from",
    );
    expect(world.restoreSteps.sent).toEqual([]);
    expect((await world.jobs.listBySimulation("ocean-currents")).items).toEqual([]);
  });

  it("rejects what cannot be restored before creating a job", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world, { id: "pending", state: "PENDING", location: undefined });
    await completedCheckpoint(world, { id: "lost" });
    await world.storage.deleteMany("snapshots", [
      (await world.checkpoints.get("lost"))?.location?.key ?? "",
    ]);
    await completedCheckpoint(world, { id: "c-1", createdAt: "2026-11-23T11:00:00.000Z" });

    await expect(restoreCheckpoint({ ...request, checkpointId: "nope" }, world)).rejects.toThrow(
      NotFoundError,
    );
    await expect(restoreCheckpoint({ ...request, checkpointId: "pending" }, world)).rejects.toThrow(
      /is PENDING/,
    );
    await expect(restoreCheckpoint({ ...request, checkpointId: "lost" }, world)).rejects.toThrow(
      /is missing and the checkpoint was never archived/,
    );
    await expect(
      restoreCheckpoint({ ...request, simulationName: "ocean-currents" }, world),
    ).rejects.toThrow(/A simulation named ocean-currents already exists/);
    await expect(
      restoreCheckpoint({ ...request, maximumDuration: "3w" }, world),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      restoreCheckpoint(request, { ...world, restore: { ...world.restore, roleArn: undefined } }),
    ).rejects.toThrow(ConfigError);
    expect(world.restoreSteps.sent).toEqual([]);
  });

  it("refuses at once a simulationName simsnap allows but the provider's platform does not", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    // As SimSpace Weaver's provider declares it: letters, digits, _ . - only.
    world.provider.nameRule = (name) =>
      /^[a-zA-Z0-9_.-]{1,64}$/.test(name) ? undefined : "must match ^[a-zA-Z0-9_.-]+$";

    const refused = await restoreCheckpoint(
      { ...request, simulationName: "My Replay" },
      world,
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).details).toEqual([
      { path: "simulationName", message: "must match ^[a-zA-Z0-9_.-]+$" },
    ]);
    expect(world.restoreSteps.sent).toEqual([]);
    expect(world.provider.starts).toEqual([]);

    const accepted = await restoreCheckpoint({ ...request, simulationName: "my-replay" }, world);
    expect(accepted).toMatchObject({ outcome: "started", simulationName: "my-replay" });
  });

  it("returns the same job for a repeated request and starts one simulation", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);

    const first = await restoreCheckpoint(request, world);
    const second = await restoreCheckpoint(request, world);
    await drain(world);
    const third = await restoreCheckpoint(request, world);

    expect(second).toMatchObject({ outcome: "existing", job: { id: first.job.id } });
    expect(third).toMatchObject({ outcome: "existing", job: { status: "SUCCEEDED" } });
    expect(world.provider.starts).toHaveLength(1);
    await expect(
      restoreCheckpoint({ ...request, simulationName: "other-name" }, world),
    ).rejects.toThrow(/already used .* with other parameters/);
  });

  it("does nothing for a duplicate or stale step", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    const { job } = await restoreCheckpoint(request, world);
    const first = world.restoreSteps.sent[0]?.message as RestoreStep;

    await advanceRestore(first, world);
    const after = await world.jobs.get(job.id);
    const duplicate = await advanceRestore(first, world);

    expect(duplicate).toEqual({ outcome: "stale" });
    expect(await world.jobs.get(job.id)).toEqual(after);
    expect(world.provider.starts).toHaveLength(1);
  });

  it("fails the job with the simulation's start error when it does not start", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    world.provider.startSequence = ["STARTING", "FAILED"];
    world.provider.startError = "Could not load snapshot";

    const { job } = await restoreCheckpoint(request, world);
    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: {
        code: "SimulationFailedToStart",
        message: expect.stringMatching(/is FAILED: Could not load snapshot$/),
      },
    });
    expect(world.events.events.map((e) => e.detailType)).toContain("Restore Failed");
  });

  it("fails the job with the provider's message when StartSimulation is refused", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    const { job, simulationName } = await restoreCheckpoint(request, world);
    world.provider.statuses.set(simulationName, "STOPPED");

    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: { code: "ValidationException", message: `${simulationName} already exists` },
    });
  });

  it("tries StartSimulation again after a ConflictException, with the same client token", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    const start = world.provider.startSimulation.bind(world.provider);
    let conflicts = 2;
    world.provider.startSimulation = async (input: StartSimulationInput) => {
      if (conflicts-- > 0) {
        world.provider.starts.push(input);
        throw new ProviderError("ConflictException", "busy", { status: 409 });
      }
      return start(input);
    };

    const { job } = await restoreCheckpoint(request, world);
    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({ status: "SUCCEEDED" });
    expect(world.provider.starts.map((s) => s.clientToken)).toEqual([job.id, job.id, job.id]);
  });

  it("fails the job when StartSimulation keeps answering ConflictException", async () => {
    const world = restoreWorld();
    await completedCheckpoint(world);
    world.provider.startSimulation = async () => {
      throw new ProviderError("ConflictException", "busy", { status: 409 });
    };

    const { job } = await restoreCheckpoint(request, world);
    await drain(world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: { code: "ConflictException", message: "busy (gave up after 4 attempts)" },
    });
  });

  it("fails a restore still waiting at its deadline", async () => {
    const world = restoreWorld();
    await archivedAndPruned(world, "GLACIER");
    const { job } = await restoreCheckpoint(request, world);
    await drain(world, 0, 1);
    const last = world.restoreSteps.sent.at(-1)?.message as RestoreStep;

    world.clock.advance(3600_000);
    await advanceRestore(last, world);

    expect(await world.jobs.get(job.id)).toMatchObject({
      status: "FAILED",
      error: { code: "DeadlineExceeded" },
    });
  });
});
