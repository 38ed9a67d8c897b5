import { describe, expect, it } from "vitest";
import type { Checkpoint, S3Location } from "../../../../lib/domain/checkpoint.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import type { DeleteManyResult } from "../../../../lib/ports/object-store.ts";
import { prune } from "../../../../lib/usecases/retention/prune.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../../../support/files-world.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
} from "../../../support/memory.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const at = (i: number) => new Date(T0 + i * HOUR).toISOString();

/** A files store that dies at its `crashAt`-th DeleteObjects request, after S3 carried it out. */
class CrashingStore extends MemoryObjectStore {
  calls = 0;
  crashAt = Number.POSITIVE_INFINITY;
  override async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    const result = await super.deleteMany(bucket, keys);
    if (++this.calls === this.crashAt) throw new Error("process killed");
    return result;
  }
}

/** A catalog whose next write of a DELETED record is lost with the process. */
class CrashingCatalog extends MemoryCheckpointStore {
  crashOnDeleted = false;
  override async save(next: Checkpoint): Promise<void> {
    if (this.crashOnDeleted && next.state === "DELETED") {
      this.crashOnDeleted = false;
      throw new Error("process killed");
    }
    return super.save(next);
  }
}

async function keysUnder(store: MemoryObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(FILES_BUCKET, prefix)) keys.push(object.key);
  return keys;
}

/**
 * A Hugging Face run: COMPLETE checkpoints at steps 100…(n×100) (`files` objects each, one per
 * hour, eval_loss given by `loss`), and a half-written PENDING one before and after them.
 */
async function world(
  options: { steps?: number; files?: (i: number) => number; loss?: (i: number) => number } = {},
  retention: unknown = { default: { keepLast: 1 }, maxRemoveFraction: 1 },
) {
  const fileObjects = new CrashingStore();
  const deps = {
    checkpoints: new CrashingCatalog(),
    jobs: new MemoryJobStore(),
    objects: new MemoryObjectStore(),
    fileObjects,
    events: new MemoryEventPublisher(),
    clock: new ManualClock(new Date(T0 + 100 * HOUR)),
    retention: RetentionConfigSchema.parse(retention),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: filesProviders(),
    files: fileOwnership() as ReturnType<typeof fileOwnership> | undefined,
  };
  const steps = options.steps ?? 3;
  const ids: string[] = [];
  for (let i = 1; i <= steps; i++) {
    const key = await writeHfCheckpoint(fileObjects, {
      step: i * 100,
      files: options.files?.(i) ?? 3,
    });
    const record = filesRecord(key, {
      id: `s${i * 100}`,
      createdAt: at(i),
      step: i * 100,
      metrics: { eval_loss: options.loss?.(i) ?? 1 / i },
    });
    await deps.checkpoints.create(record);
    ids.push(record.id);
  }
  for (const [id, step, hour] of [
    ["pending-old", 50, 0],
    ["pending-new", 9900, steps + 1],
  ] as const) {
    const key = `runs/exp7/checkpoint-${step}/`;
    await fileObjects.put({ bucket: FILES_BUCKET, key: `${key}model.safetensors` }, "half");
    await deps.checkpoints.create(
      filesRecord(key, { id, createdAt: at(hour), step, state: "PENDING", completedAt: undefined }),
    );
  }
  return { deps, ids, fileObjects };
}

const run = (runId = "schedule/daily/2026-11-05T03:00:00.000Z", extra = {}) => ({
  runId,
  dryRun: false,
  force: false,
  ...extra,
});

const stateOf = async (deps: Awaited<ReturnType<typeof world>>["deps"], id: string) =>
  (await deps.checkpoints.get(id))?.state;

describe("prune of files checkpoints (sets of objects)", () => {
  it("deletes every object of a 5,000-object checkpoint, marker first then 5 batches of 1,000, and only then marks it DELETED", async () => {
    const { deps, fileObjects } = await world({ steps: 2, files: (i) => (i === 1 ? 5000 : 3) });

    const [result] = await prune(run(), deps);

    expect(result).toMatchObject({ simulation: "exp7", outcome: "pruned", removed: ["s100"] });
    expect(fileObjects.deleteCalls.map((keys) => keys.length)).toEqual([
      1, 1000, 1000, 1000, 1000, 999,
    ]);
    expect(fileObjects.deleteCalls[0]).toEqual(["runs/exp7/checkpoint-100/trainer_state.json"]);
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-100/")).toEqual([]);
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-200/")).toHaveLength(3);
    expect(await stateOf(deps, "s100")).toBe("DELETED");
    expect(await stateOf(deps, "s200")).toBe("COMPLETE");
    // The snapshot bucket is not touched: only the plan report is written there.
    expect(deps.objects.deleteCalls).toEqual([]);
  });

  it("never counts, plans or removes a PENDING checkpoint, however old", async () => {
    const { deps, fileObjects } = await world({ steps: 3 });

    const [result] = await prune(run(), deps);

    const planned = [
      ...result!.plan.keep.map((k) => k.id),
      ...result!.plan.remove.map((r) => r.id),
    ];
    expect(planned.sort()).toEqual(["s100", "s200", "s300"]);
    expect(result!.removed.sort()).toEqual(["s100", "s200"]);
    expect(await stateOf(deps, "pending-old")).toBe("PENDING");
    expect(await stateOf(deps, "pending-new")).toBe("PENDING");
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-50/")).toHaveLength(1);
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-9900/")).toHaveLength(1);
    expect(fileObjects.deleteCalls.flat().some((key) => key.includes("checkpoint-50/"))).toBe(
      false,
    );
  });

  it("shows keepBest, keepEveryNSteps and keepSteps reasons in the result, the report and a dry run", async () => {
    const losses = [0, 0.5, 0.9, 0.2, 0.8, 0.3, 0.7];
    const retention = {
      default: {
        keepLast: 1,
        keepBest: { metric: "eval_loss", mode: "min", count: 2 },
        keepEveryNSteps: 400,
        keepSteps: [200],
      },
      maxRemoveFraction: 1,
    };
    const { deps } = await world({ steps: 6, loss: (i) => losses[i] ?? 1 }, retention);

    const [planned] = await prune(run("manual/dry", { dryRun: true }), deps);
    const [result] = await prune(run(), deps);

    const reasons = Object.fromEntries(result!.plan.keep.map((k) => [k.id, k.reasons]));
    expect(reasons).toEqual({
      s600: ["last snapshot"],
      s500: ["best eval_loss (0.3, 2 of 2)"],
      s400: ["every 400 steps"],
      s300: ["best eval_loss (0.2, 1 of 2)"],
      s200: ["step 200"],
    });
    expect(planned!.plan).toEqual(result!.plan);
    expect(result!.removed).toEqual(["s100"]);
    const report = JSON.parse(deps.objects.text(result!.report!)!) as { keep: unknown };
    expect(report.keep).toEqual(result!.plan.keep);
  });

  it("applies a retention override naming the files provider to a run of files checkpoints", async () => {
    const retention = {
      default: { keepLast: 3 },
      overrides: [{ match: "*", provider: "files", policy: { keepLast: 1 } }],
      maxRemoveFraction: 1,
    };
    const { deps } = await world({ steps: 3 }, retention);

    const [result] = await prune(run(), deps);

    expect(result!.removed.sort()).toEqual(["s100", "s200"]);
  });

  it("leaves a checkpoint S3 will not fully delete COMPLETE and reports it; the next run finishes it", async () => {
    const { deps, fileObjects } = await world({ steps: 2 });
    const stuck = "runs/exp7/checkpoint-100/model.safetensors";
    fileObjects.failingDeletes.add(stuck);

    const [first] = await prune(run(), deps);

    expect(first).toMatchObject({ outcome: "partial", removed: [] });
    expect(first!.failed).toEqual([
      {
        id: "s100",
        key: "runs/exp7/checkpoint-100/",
        code: "AccessDenied",
        message: expect.stringContaining(
          "1 objects remain under s3://training/runs/exp7/checkpoint-100/",
        ),
      },
    ]);
    expect(await stateOf(deps, "s100")).toBe("COMPLETE");
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-100/")).toEqual([stuck]);
    expect((await deps.jobs.get(first!.jobId!))?.error?.code).toBe("FilesNotDeleted");

    fileObjects.failingDeletes.clear();
    const [second] = await prune(run("schedule/daily/2026-11-06T03:00:00.000Z"), deps);
    expect(second).toMatchObject({ outcome: "pruned", removed: ["s100"] });
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-100/")).toEqual([]);
  });

  it("after a crash half-way through the batches, the next prune deletes the rest, then marks DELETED", async () => {
    const { deps, fileObjects } = await world({ steps: 2, files: (i) => (i === 1 ? 3000 : 3) });
    fileObjects.crashAt = 3; // the marker, one batch, then the process dies after the second

    await expect(prune(run(), deps)).rejects.toThrow("process killed");
    const left = await keysUnder(fileObjects, "runs/exp7/checkpoint-100/");
    expect(left).toHaveLength(999);
    expect(left).not.toContain("runs/exp7/checkpoint-100/trainer_state.json");
    expect(await stateOf(deps, "s100")).toBe("COMPLETE");

    // The same message, delivered again: the run's job is still RUNNING, so it carries on.
    const [again] = await prune(run(), deps);
    expect(again).toMatchObject({ outcome: "pruned", removed: ["s100"] });
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-100/")).toEqual([]);
    expect(await stateOf(deps, "s100")).toBe("DELETED");
  });

  it("after a crash between the deletes and the DELETED write, the next prune only marks it", async () => {
    const { deps, fileObjects } = await world({ steps: 2 });
    deps.checkpoints.crashOnDeleted = true;

    await expect(prune(run(), deps)).rejects.toThrow("process killed");
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-100/")).toEqual([]);
    expect(await stateOf(deps, "s100")).toBe("COMPLETE");
    const requests = fileObjects.deleteCalls.length;

    const [again] = await prune(run(), deps);
    expect(again).toMatchObject({ outcome: "pruned", removed: ["s100"] });
    expect(await stateOf(deps, "s100")).toBe("DELETED");
    expect(fileObjects.deleteCalls).toHaveLength(requests);
  });

  it("skips files checkpoints when no files sources are configured, and a record naming more than one checkpoint", async () => {
    const { deps, fileObjects } = await world({ steps: 2 });
    const whole: S3Location = { bucket: FILES_BUCKET, key: "runs/exp7/" };
    await deps.checkpoints.create(filesRecord(whole.key, { id: "run", createdAt: at(0) }));

    const [withSources] = await prune(run(), deps);
    expect(withSources!.skipped).toEqual([
      { id: "run", key: "runs/exp7/", reason: expect.stringContaining("whole checkpoints only") },
    ]);

    const unconfigured = await world({ steps: 2 });
    unconfigured.deps.files = undefined;
    const [without] = await prune(run(), unconfigured.deps);
    expect(without!.skipped.map((s) => s.id).sort()).toEqual(["s100", "s200"]);
    expect(without!.skipped[0]!.reason).toContain("no files sources are configured");
    expect(unconfigured.fileObjects.deleteCalls).toEqual([]);
    expect(await keysUnder(fileObjects, "runs/exp7/checkpoint-200/")).toHaveLength(3);
  });
});
