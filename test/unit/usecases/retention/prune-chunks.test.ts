import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import {
  pruneRunFor,
  PruneRequestSchema,
  type PruneRequest,
  type PruneRun,
} from "../../../../lib/domain/prune-request.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { loadSimulationCheckpoints } from "../../../../lib/usecases/catalog/list-checkpoints.ts";
import {
  prune,
  pruneJobId,
  type PruneDeps,
  type PruneSimulationResult,
} from "../../../../lib/usecases/retention/prune.ts";
import { checkpoint as makeCheckpoint } from "../../../support/checkpoint-factory.ts";
import { MemoryArchiveStore } from "../../../support/memory-archive.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
  MemoryQueue,
} from "../../../support/memory.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");
const RUN: PruneRun = { runId: "schedule/daily/x", dryRun: false, force: false };

/** A catalog store that counts, per checkpoint, the saves that made it DELETED. */
class CountingStore extends MemoryCheckpointStore {
  readonly deletions = new Map<string, number>();
  /** Throws (as a process killed there would stop) once this many more saves went through. */
  crashAfter: number | undefined;

  override async save(next: Checkpoint): Promise<void> {
    if (this.crashAfter !== undefined && this.crashAfter-- <= 0) throw new Error("killed");
    await super.save(next);
    if (next.state === "DELETED") {
      this.deletions.set(next.id, (this.deletions.get(next.id) ?? 0) + 1);
    }
  }
}

async function world(counts: Record<string, number>, removals: number) {
  const checkpoints = new CountingStore();
  const objects = new MemoryObjectStore();
  const queue = new MemoryQueue<PruneRequest>();
  const total = Math.max(...Object.values(counts));
  const deps: PruneDeps = {
    checkpoints,
    jobs: new MemoryJobStore(),
    objects,
    events: new MemoryEventPublisher(),
    clock: new ManualClock(new Date(T0 + total * HOUR)),
    retention: RetentionConfigSchema.parse({ default: { keepLast: 10 }, maxRemoveFraction: 1 }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: directoryOf([]),
    continuation: queue,
    budget: { removals, seconds: 600 },
  };
  for (const [simulation, count] of Object.entries(counts)) {
    for (let i = 0; i < count; i++) {
      const time = new Date(T0 + i * HOUR);
      const location = { bucket: "snapshots", key: snapshotKey("simsnap", simulation, time) };
      await checkpoints.create(
        makeCheckpoint({
          id: `${simulation}-${String(i).padStart(4, "0")}`,
          simulation,
          createdAt: time.toISOString(),
          location,
          size: 100,
        }),
      );
      await objects.put(location, "zip");
    }
  }
  return { deps, checkpoints, objects, queue, events: deps.events as MemoryEventPublisher };
}

type World = Awaited<ReturnType<typeof world>>;

/** Takes the one continuation message sent since the last call, as the queue would deliver it. */
function nextRun(w: World): PruneRun | undefined {
  const sent = w.queue.sent.splice(0);
  expect(sent.length).toBeLessThanOrEqual(1);
  if (sent.length === 0) return undefined;
  expect(sent[0]!.delaySeconds).toBe(0);
  return pruneRunFor(PruneRequestSchema.parse(sent[0]!.message), 60);
}

/** Runs a prune and every continuation it sends, as the prune function would, one by one. */
async function runToTheEnd(w: World, run: PruneRun = RUN) {
  const invocations: PruneSimulationResult[][] = [];
  for (let next: PruneRun | undefined = run; next; next = nextRun(w)) {
    invocations.push(await prune(next, w.deps));
    expect(invocations.length).toBeLessThan(50);
  }
  return invocations;
}

/** Every DELETED checkpoint's file is gone, every COMPLETE one's is there. */
async function expectConsistent(w: World, simulation: string) {
  const counts: Record<string, number> = {};
  for (const checkpoint of await loadSimulationCheckpoints(w.checkpoints, simulation)) {
    counts[checkpoint.state] = (counts[checkpoint.state] ?? 0) + 1;
    const file = await w.objects.head(checkpoint.location!);
    expect(file === undefined, `${checkpoint.id} is ${checkpoint.state}`).toBe(
      checkpoint.state === "DELETED",
    );
  }
  return counts;
}

const report = (w: World, result: PruneSimulationResult) =>
  JSON.parse(w.objects.text(result.report!)!) as { removed: string[]; remove: unknown[] };

describe("prune in chunks", () => {
  it("hands a prune larger than its budget over in chunks until the backlog is done, each checkpoint deleted once", async () => {
    const w = await world({ "sim-a": 2510 }, 1000);

    const invocations = await runToTheEnd(w);

    expect(invocations.map((results) => results.map((r) => [r.outcome, r.removed.length]))).toEqual(
      [[["continued", 1000]], [["continued", 1000]], [["pruned", 500]]],
    );
    expect(w.objects.deleteCalls.map((keys) => keys.length)).toEqual([1000, 1000, 500]);
    expect(await expectConsistent(w, "sim-a")).toEqual({ COMPLETE: 10, DELETED: 2500 });
    expect(w.checkpoints.deletions.size).toBe(2500);
    expect([...w.checkpoints.deletions.values()].every((n) => n === 1)).toBe(true);
    // One job, one report and one event for the whole run.
    expect(await w.deps.jobs.get(pruneJobId(RUN.runId, "sim-a"))).toMatchObject({
      status: "SUCCEEDED",
      stats: { objects: 2500, bytes: 250_000 },
    });
    const last = invocations.at(-1)![0]!;
    expect(last.report).toEqual(invocations[0]![0]!.report);
    expect(report(w, last).removed).toHaveLength(2500);
    expect(new Set(report(w, last).removed).size).toBe(2500);
    expect(w.events.events).toHaveLength(1);
    expect(w.events.events[0]!.detail).toMatchObject({ removedCount: 2500, failedCount: 0 });
  });

  it("reads the batches it removes 100 to a catalog request, not one by one", async () => {
    const w = await world({ "sim-a": 1010 }, 5000);
    w.deps.continuation = undefined;
    const before = { get: w.checkpoints.getRequests, many: w.checkpoints.getManyRequests };

    const [result] = await prune(RUN, w.deps);

    expect(result!.removed).toHaveLength(1000);
    expect(w.checkpoints.getRequests - before.get).toBe(0);
    // The batch is read when it is taken up and again right before its DeleteObjects.
    expect(w.checkpoints.getManyRequests - before.many).toBe(20);
  });

  it("moves files to the trash after reading them 100 to a request, with one purgeAfter for the whole run", async () => {
    const w = await world({ "sim-a": 260 }, 200);
    const store = new MemoryArchiveStore({ clock: w.deps.clock, checksums: false });
    for (const checkpoint of await loadSimulationCheckpoints(w.checkpoints, "sim-a")) {
      await store.put(checkpoint.location!, "zip");
    }
    w.deps.objects = store;
    w.deps.trash = { days: 7, store };
    const started = w.deps.clock.now();
    const [first] = await prune(RUN, w.deps);
    expect(first).toMatchObject({ outcome: "continued" });
    (w.deps.clock as ManualClock).advance(HOUR);

    const [last] = await prune(nextRun(w)!, w.deps);

    expect(last).toMatchObject({ outcome: "pruned" });
    expect(first!.trashed.length + last!.trashed.length).toBe(250);
    expect(w.checkpoints.getRequests).toBe(0);
    // Each batch (200, then 50) is read when taken up and again before its moves, 100 a request.
    expect(w.checkpoints.getManyRequests).toBe(2 + 2 + 1 + 1);
    const purgeAfter = new Date(started.getTime() + 7 * 24 * HOUR).toISOString();
    const deleted = (await loadSimulationCheckpoints(w.checkpoints, "sim-a")).filter(
      (c) => c.state === "DELETED",
    );
    expect(deleted).toHaveLength(250);
    expect(new Set(deleted.map((c) => c.purgeAfter))).toEqual(new Set([purgeAfter]));
    expect(w.events.events[0]!.detail).toMatchObject({ trashedCount: 250, purgeAfter });
  });

  it("carries out the plan of its first invocation, not a new one", async () => {
    const w = await world({ "sim-a": 30 }, 10);
    const [first] = await prune(RUN, w.deps);
    expect(first).toMatchObject({ outcome: "continued" });
    // A policy that would keep everything now, and a favorite set since the plan was made.
    w.deps.retention = RetentionConfigSchema.parse({ default: { keepLast: 1000 } });
    const favorite = (await w.checkpoints.get("sim-a-0005"))!;
    await w.checkpoints.save({ ...favorite, favorite: true, version: favorite.version + 1 });

    const rest = await runToTheEnd(w, nextRun(w));

    expect(rest.flat().map((r) => r.outcome)).toEqual(["pruned"]);
    expect(await expectConsistent(w, "sim-a")).toEqual({ COMPLETE: 11, DELETED: 19 });
    expect((await w.checkpoints.get("sim-a-0005"))!.state).toBe("COMPLETE");
    expect(rest[0]![0]!.plan.remove).toEqual(first!.plan.remove);
  });

  it("survives a crash in the middle of a chunk: the message comes again, nothing is deleted twice, the run finishes", async () => {
    const w = await world({ "sim-a": 2510 }, 1000);
    const idOf = new Map(
      (await loadSimulationCheckpoints(w.checkpoints, "sim-a")).map((c) => [c.location!.key, c.id]),
    );
    const [first] = await prune(RUN, w.deps);
    expect(first!.outcome).toBe("continued");
    const continuation = nextRun(w)!;

    // The second invocation dies after 300 of its 1,000 catalog writes: its files are deleted,
    // 700 of its records still say COMPLETE, and its message is neither deleted nor answered.
    w.checkpoints.crashAfter = 300;
    await expect(prune(continuation, w.deps)).rejects.toThrow("killed");
    w.checkpoints.crashAfter = undefined;
    expect(w.queue.sent).toEqual([]);
    const deletedBefore = new Set(w.checkpoints.deletions.keys());
    expect(deletedBefore.size).toBe(1300);
    const keysBefore = w.objects.deleteCalls.flat();

    // SQS delivers the same message again.
    const rest = await runToTheEnd(w, continuation);

    expect(rest.flat().map((r) => r.outcome)).toEqual(["continued", "pruned"]);
    expect(await expectConsistent(w, "sim-a")).toEqual({ COMPLETE: 10, DELETED: 2500 });
    expect([...w.checkpoints.deletions.values()].every((n) => n === 1)).toBe(true);
    // Only the 700 files whose records the crash left COMPLETE are asked for again (S3 counts
    // the delete of a missing key as done); no file of a DELETED record is.
    const again = w.objects.deleteCalls.flat().slice(keysBefore.length);
    const repeated = again.filter((key) => keysBefore.includes(key));
    expect(repeated).toHaveLength(700);
    expect(repeated.filter((key) => deletedBefore.has(idOf.get(key)!))).toEqual([]);
    expect(await w.deps.jobs.get(pruneJobId(RUN.runId, "sim-a"))).toMatchObject({
      status: "SUCCEEDED",
    });
  });

  it("lets only one of two copies of a continuation carry the job on", async () => {
    const w = await world({ "sim-a": 2510 }, 1000);
    await prune(RUN, w.deps);
    const continuation = nextRun(w)!;

    const copies = await Promise.all([prune(continuation, w.deps), prune(continuation, w.deps)]);

    expect(copies.map(([r]) => r!.outcome).sort()).toEqual(["continued", "duplicate"]);
    expect(w.queue.sent).toHaveLength(1);
    await runToTheEnd(w, nextRun(w));
    expect(await expectConsistent(w, "sim-a")).toEqual({ COMPLETE: 10, DELETED: 2500 });
    expect([...w.checkpoints.deletions.values()].every((n) => n === 1)).toBe(true);
    // A copy delivered after the run ended finds its job finished.
    const [late] = await prune(continuation, w.deps);
    expect(late!.outcome).toBe("duplicate");
    expect(w.queue.sent).toEqual([]);
  });

  it("hands over between simulations too, and resumes at the one it stopped in", async () => {
    const w = await world({ "sim-a": 25, "sim-b": 25, "sim-c": 25 }, 20);

    const invocations = await runToTheEnd(w);

    expect(invocations.map((results) => results.map((r) => [r.simulation, r.outcome]))).toEqual([
      [
        ["sim-a", "pruned"],
        ["sim-b", "continued"],
      ],
      [
        ["sim-b", "pruned"],
        ["sim-c", "continued"],
      ],
      [["sim-c", "pruned"]],
    ]);
    for (const simulation of ["sim-a", "sim-b", "sim-c"]) {
      expect(await expectConsistent(w, simulation)).toEqual({ COMPLETE: 10, DELETED: 15 });
    }
  });

  it("stops starting simulations once its time is up, and says where to resume", async () => {
    const w = await world({ "sim-a": 12, "sim-b": 12, "sim-c": 12 }, 1000);
    const clock = w.deps.clock as ManualClock;
    const objects = w.objects;
    const deleteMany = objects.deleteMany.bind(objects);
    objects.deleteMany = async (bucket, keys) => {
      clock.advance(400_000);
      return deleteMany(bucket, keys);
    };

    const results = await prune(RUN, w.deps);

    expect(results.map((r) => [r.simulation, r.outcome])).toEqual([
      ["sim-a", "pruned"],
      ["sim-b", "pruned"],
    ]);
    expect(w.queue.sent.map((s) => s.message)).toEqual([
      { source: "continue", runId: RUN.runId, from: "sim-c", force: false },
    ]);
  });

  it("refuses to continue from a report that is gone, rather than guess a plan", async () => {
    const w = await world({ "sim-a": 30 }, 10);
    const [first] = await prune(RUN, w.deps);
    await w.objects.deleteMany(first!.report!.bucket, [first!.report!.key]);

    await expect(prune(nextRun(w)!, w.deps)).rejects.toThrow(
      /cannot continue: its report .* is missing/,
    );
    expect(await expectConsistent(w, "sim-a")).toEqual({ COMPLETE: 20, DELETED: 10 });
  });

  it("never hands a dry run over, nor a run without a queue to hand over to", async () => {
    const w = await world({ "sim-a": 30, "sim-b": 30 }, 5);
    const dry = await prune({ ...RUN, runId: "manual/dry", dryRun: true }, w.deps);
    expect(dry.map((r) => r.outcome)).toEqual(["planned", "planned"]);
    w.deps.continuation = undefined;
    const whole = await prune(RUN, w.deps);
    expect(whole.map((r) => [r.outcome, r.removed.length])).toEqual([
      ["pruned", 20],
      ["pruned", 20],
    ]);
    expect(w.queue.sent).toEqual([]);
  });
});

describe("the continuation message", () => {
  it("is read back as the same run, resumed at its simulation", () => {
    const message = PruneRequestSchema.parse({
      source: "continue",
      runId: "manual/r1",
      simulations: ["sim-a"],
      from: "sim-a",
      force: true,
    });
    expect(pruneRunFor(message, 60)).toEqual({
      runId: "manual/r1",
      simulations: ["sim-a"],
      from: "sim-a",
      dryRun: false,
      force: true,
    });
    expect(
      PruneRequestSchema.safeParse({ source: "continue", runId: "r", force: false }).success,
    ).toBe(false);
  });
});
