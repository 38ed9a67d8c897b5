import { describe, expect, it } from "vitest";
import {
  RetentionConfigSchema,
  type RetentionConfigInput,
} from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { pruneArchives } from "../../../../lib/usecases/retention/prune-archives.ts";
import { prune, pruneJobId } from "../../../../lib/usecases/retention/prune.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";
import { checkpoint as makeCheckpoint } from "../../../support/checkpoint-factory.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
} from "../../../support/memory.ts";
import { MemoryRetentionBaseStore } from "../../../support/memory-retention-bases.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const SIM = "sim-a";
/** The simulation `completedCheckpoint` (archive-world) records. */
const ARCHIVED = "ocean-currents";

/** A catalog of one simulation whose checkpoints complete a minute after they are taken. */
function world(retention: RetentionConfigInput) {
  const clock = new ManualClock(new Date(T0));
  const deps = {
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    objects: new MemoryObjectStore(),
    events: new MemoryEventPublisher(),
    clock,
    retention: RetentionConfigSchema.parse(retention),
    bases: new MemoryRetentionBaseStore(),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: directoryOf([]),
  };
  let taken = 0;
  const take = async (at: number) => {
    const key = snapshotKey("simsnap", SIM, new Date(at));
    await deps.checkpoints.create(
      makeCheckpoint({
        id: `c${String(taken++).padStart(4, "0")}`,
        simulation: SIM,
        createdAt: new Date(at).toISOString(),
        completedAt: new Date(at + MINUTE).toISOString(),
        location: { bucket: "snapshots", key },
      }),
    );
    await deps.objects.put({ bucket: "snapshots", key }, "zip");
  };
  let runs = 0;
  /** A run at `at`: first a dry run, which must plan exactly what the real run then does. */
  const run = async (at: number, force = false) => {
    clock.set(new Date(at));
    const runId = `run-${++runs}`;
    const [dry] = await prune({ runId, dryRun: true, force }, deps);
    const [real] = await prune({ runId, dryRun: false, force }, deps);
    expect(real?.plan).toEqual(dry?.plan);
    return real!;
  };
  const complete = async () =>
    (await deps.checkpoints.listBySimulation(SIM, { limit: 1000 })).items.filter(
      (c) => c.state === "COMPLETE",
    );
  return { deps, take, run, complete };
}

/** `count` hourly checkpoints, each pruned once it completed. */
async function steady(policy: RetentionConfigInput, count: number) {
  const w = world(policy);
  let at = T0;
  for (let i = 0; i < count; i++, at += HOUR) {
    await w.take(at);
    expect((await w.run(at + 2 * MINUTE)).outcome).toBe("pruned");
  }
  return { ...w, at };
}

describe("prune's share guard", () => {
  it("prunes two completions of one debounce window without force (3 of 5, keepLast 2)", async () => {
    const w = await steady({ default: { keepLast: 2 } }, 4);
    for (const offset of [0, 20, 40]) await w.take(w.at + offset * MINUTE);

    const result = await w.run(w.at + 45 * MINUTE);

    expect(result.plan.refused).toBeNull();
    expect(result).toMatchObject({ outcome: "pruned" });
    expect(result.removed).toHaveLength(3);
    expect(await w.complete()).toHaveLength(2);
    expect(await w.deps.bases.get("checkpoints", SIM)).toMatchObject({
      runId: "run-5",
      at: new Date(w.at + 45 * MINUTE).toISOString(),
      newest: new Date(w.at + 40 * MINUTE).toISOString(),
      policy: { keepLast: 2 },
    });
  });

  it("refuses a policy change that would remove a large share, in the dry run and the real run", async () => {
    const w = await steady({ default: { keepLast: 10 } }, 12);
    const before = await w.deps.bases.get("checkpoints", SIM);
    w.deps.retention = RetentionConfigSchema.parse({ default: { keepLast: 2 } });
    await w.take(w.at);

    const result = await w.run(w.at + 2 * MINUTE);

    expect(result.outcome).toBe("refused");
    expect(result.plan.refused).toMatch(
      /would remove 9 of 11 COMPLETE checkpoints of sim-a, 8 of them \(73%\) neither approved/,
    );
    expect(await w.complete()).toHaveLength(11);
    expect(await w.deps.jobs.get(pruneJobId("run-13", SIM))).toMatchObject({
      status: "FAILED",
      error: { code: "PlanRefused" },
    });
    // A refused plan approved nothing: the base stays the last approved run's.
    expect(await w.deps.bases.get("checkpoints", SIM)).toEqual(before);

    expect((await w.run(w.at + 3 * MINUTE, true)).outcome).toBe("pruned");
    expect(await w.complete()).toHaveLength(2);
  });

  it("refuses the first run on a large existing catalog, and records a base that approves nothing", async () => {
    const w = world({ default: { keepLast: 2 } });
    for (let i = 0; i < 20; i++) await w.take(T0 + i * HOUR);

    const result = await w.run(T0 + 20 * HOUR);

    expect(result.plan.refused).toBe(
      "the policy would remove 18 of 20 COMPLETE checkpoints of sim-a (90%), more than the " +
        "allowed 50%; force the run to allow it",
    );
    const seen = await w.deps.bases.get("checkpoints", SIM);
    expect(seen).toMatchObject({ runId: "run-1", newest: new Date(T0 + 19 * HOUR).toISOString() });
    expect(seen?.policy).toBeUndefined();
    await w.take(T0 + 20 * HOUR);
    expect((await w.run(T0 + 20 * HOUR + 2 * MINUTE)).plan.refused).toMatch(
      /18 of them \(86%\) not pushed out by the 1 newer checkpoints since its refused first run/,
    );
    expect(await w.deps.bases.get("checkpoints", SIM)).toEqual(seen);
  });

  it("records the base before removing anything: a run that dies part-way leaves it approved", async () => {
    const w = await steady({ default: { keepLast: 2 } }, 4);
    for (const offset of [0, 20, 40]) await w.take(w.at + offset * MINUTE);
    const deleteMany = w.deps.objects.deleteMany.bind(w.deps.objects);
    w.deps.objects.deleteMany = () => Promise.reject(new Error("the invocation timed out"));
    w.deps.clock.set(new Date(w.at + 45 * MINUTE));
    await expect(prune({ runId: "dies", dryRun: false, force: false }, w.deps)).rejects.toThrow(
      "timed out",
    );
    expect(await w.complete()).toHaveLength(5);
    expect((await w.deps.bases.get("checkpoints", SIM))?.runId).toBe("dies");

    w.deps.objects.deleteMany = deleteMany;
    for (const offset of [60, 80]) await w.take(w.at + offset * MINUTE);
    const next = await w.run(w.at + 85 * MINUTE);
    expect(next.plan.refused).toBeNull();
    expect(next.removed).toHaveLength(5);
  });

  it("reads the base only for a plan that removes more than the share without it", async () => {
    const w = world({ default: { keepLast: 2 } });
    const get = w.deps.bases.get.bind(w.deps.bases);
    let reads = 0;
    w.deps.bases.get = (scope, simulation) => {
      reads++;
      return get(scope, simulation);
    };
    let at = T0;
    for (let i = 0; i < 4; i++, at += HOUR) {
      await w.take(at);
      await w.run(at + 2 * MINUTE);
    }
    expect(reads).toBe(0);
    for (const offset of [0, 20, 40]) await w.take(at + offset * MINUTE);
    expect((await w.run(at + 45 * MINUTE)).plan.refused).toBeNull();
    expect(reads).toBe(2); // the dry run's and the real run's
  });

  it("lets a backlog after an outage through without force", async () => {
    const w = await steady({ default: { keepLast: 2, keepDaily: 2 } }, 30);
    for (let i = 0; i < 36; i++) await w.take(w.at + i * HOUR);

    const result = await w.run(w.at + 36 * HOUR);

    expect(result.plan.refused).toBeNull();
    expect(result.removed.length).toBeGreaterThan(30);
  });
});

/** Archived checkpoints of one simulation, one an hour, archived a minute after each was taken. */
async function archives(policy: RetentionConfigInput) {
  const w = { ...archiveWorld(), bases: new MemoryRetentionBaseStore() };
  const config = RetentionConfigSchema.parse(policy);
  let taken = 0;
  const take = async (at: number) => {
    const id = `a-${taken++}`;
    await completedCheckpoint(w, { id, createdAt: new Date(at).toISOString() });
    w.clock.set(new Date(at + MINUTE));
    await archiveCheckpoint({ checkpointId: id }, w);
  };
  let runs = 0;
  const run = async (
    at: number,
    options: { force?: boolean; policy?: RetentionConfigInput } = {},
  ) => {
    w.clock.set(new Date(at));
    const deps = {
      ...w,
      archiveRetention: options.policy ? RetentionConfigSchema.parse(options.policy) : config,
    };
    const force = options.force ?? false;
    const runId = `archive-run-${++runs}`;
    const [dry] = await pruneArchives({ dryRun: true, force, runId }, deps);
    const [real] = await pruneArchives({ dryRun: false, force, runId }, deps);
    expect(real?.plan).toEqual(dry?.plan);
    return real!;
  };
  return { w, take, run };
}

describe("prune-archives' share guard", () => {
  it("prunes archives of two completions in one window without force", async () => {
    const { w, take, run } = await archives({ default: { keepLast: 2 } });
    let at = Date.parse("2026-11-23T00:00:00.000Z");
    for (let i = 0; i < 4; i++, at += HOUR) {
      await take(at);
      expect((await run(at + 2 * MINUTE)).outcome).toBe("pruned");
    }
    for (const offset of [0, 20, 40]) await take(at + offset * MINUTE);

    const result = await run(at + 45 * MINUTE);

    expect(result.plan.refused).toBeNull();
    expect(result.removed).toHaveLength(3);
    expect((await w.bases.get("archives", ARCHIVED))?.runId).toBe("archive-run-5");
    expect(await w.bases.get("checkpoints", ARCHIVED)).toBeUndefined();
  });

  it("refuses a policy change and a first run that remove a large share", async () => {
    const { take, run } = await archives({ default: { keepLast: 10 } });
    let at = Date.parse("2026-11-23T00:00:00.000Z");
    for (let i = 0; i < 12; i++, at += HOUR) await take(at);

    expect((await run(at)).outcome).toBe("pruned"); // 2 of 12
    await take(at);
    const changed = await run(at + 2 * MINUTE, { policy: { default: { keepLast: 2 } } });
    expect(changed.outcome).toBe("refused");
    expect(changed.plan.refused).toMatch(/9 of 11 COMPLETE .* 8 of them \(73%\) neither approved/);
    expect(changed.removed).toEqual([]);

    const fresh = await archives({ default: { keepLast: 2 } });
    for (let i = 0; i < 12; i++) await fresh.take(at + i * HOUR);
    const refused = await fresh.run(at + 12 * HOUR);
    expect(refused.plan.refused).toMatch(/remove 10 of 12 COMPLETE checkpoints .* \(83%\)/);
    const seen = await fresh.w.bases.get("archives", ARCHIVED);
    expect(seen?.runId).toBe("archive-run-1");
    expect(seen?.policy).toBeUndefined();
  });
});
