import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../../lib/domain/checkpoint.ts";
import { pruneRunFor, PruneRequestSchema } from "../../../../lib/domain/prune-request.ts";
import { RetentionConfigSchema } from "../../../../lib/domain/retention.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import { prune, pruneJobId } from "../../../../lib/usecases/retention/prune.ts";
import type { Page } from "../../../../lib/ports/catalog.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
} from "../../../support/memory.ts";
import { checkpoint as makeCheckpoint } from "../../../support/checkpoint-factory.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");

async function world(count: number, retention: unknown = { default: { keepLast: 3 } }) {
  const deps = {
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    objects: new MemoryObjectStore(),
    events: new MemoryEventPublisher(),
    clock: new ManualClock(new Date(T0 + count * HOUR)),
    retention: RetentionConfigSchema.parse(retention),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: directoryOf([]),
  };
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const time = new Date(T0 + i * HOUR);
    const key = snapshotKey("simsnap", "sim-a", time);
    const checkpoint = makeCheckpoint({
      id: `c${String(i).padStart(4, "0")}`,
      name: `n${i}`,
      createdAt: time.toISOString(),
      location: { bucket: "snapshots", key },
      size: 100,
    });
    await deps.checkpoints.create(checkpoint);
    await deps.objects.put({ bucket: "snapshots", key }, "zip");
    ids.push(checkpoint.id);
  }
  return { deps, ids };
}

const run = (runId = "schedule/daily/2026-11-02T03:00:00.000Z", extra = {}) => ({
  runId,
  dryRun: false,
  force: false,
  ...extra,
});

async function states(deps: Awaited<ReturnType<typeof world>>["deps"]) {
  const all: Checkpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.checkpoints.listBySimulation("sim-a", { limit: 1000, cursor });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return Object.fromEntries(all.map((c) => [c.id, c.state]));
}

describe("prune", () => {
  it("removes what the policy does not keep: files first, then DELETED records, with a report and an event", async () => {
    const { deps, ids } = await world(5);
    const favorite = (await deps.checkpoints.get("c0000"))!;
    await deps.checkpoints.save({ ...favorite, favorite: true, version: 2 });

    const [result] = await prune(run(), deps);

    expect(result).toMatchObject({
      simulation: "sim-a",
      outcome: "pruned",
      removed: ["c0001"],
      failed: [],
    });
    expect(await states(deps)).toEqual({
      c0000: "COMPLETE",
      c0001: "DELETED",
      c0002: "COMPLETE",
      c0003: "COMPLETE",
      c0004: "COMPLETE",
    });
    expect(
      await deps.objects.head({
        bucket: "snapshots",
        key: snapshotKey("simsnap", "sim-a", new Date(T0 + HOUR)),
      }),
    ).toBeUndefined();
    expect(
      await deps.objects.head({
        bucket: "snapshots",
        key: snapshotKey("simsnap", "sim-a", new Date(T0)),
      }),
    ).toBeDefined();
    expect(await deps.jobs.get(pruneJobId(run().runId, "sim-a"))).toMatchObject({
      kind: "prune",
      status: "SUCCEEDED",
      stats: { objects: 1, bytes: 100 },
    });
    const report = JSON.parse(deps.objects.text(result!.report!)!);
    expect(result!.report!.key).toMatch(/^simsnap\/reports\/prune\/sim-a\/.+\.json$/);
    expect(report.keep).toEqual([
      { id: "c0004", reasons: ["last snapshot"] },
      { id: "c0003", reasons: ["last snapshot"] },
      { id: "c0002", reasons: ["last snapshot"] },
      { id: "c0000", reasons: ["favorite"] },
    ]);
    expect(report.removed).toEqual(["c0001"]);
    expect(deps.events.events).toEqual([
      {
        detailType: "Checkpoints Pruned",
        detail: expect.objectContaining({
          simulation: "sim-a",
          removed: ["c0001"],
          removedCount: 1,
          failedCount: 0,
          report: result!.report,
        }),
      },
    ]);
    expect(ids).toHaveLength(5);
  });

  it("returns the same plan on a dry run and changes nothing", async () => {
    const { deps } = await world(6);
    const [dry] = await prune(run("manual/x", { dryRun: true }), deps);
    const [real] = await prune(run(), deps);

    expect(dry!.outcome).toBe("planned");
    expect(dry!.plan).toEqual(real!.plan);
    expect(deps.objects.deleteCalls).toHaveLength(1);
    expect(await deps.jobs.get(pruneJobId("manual/x", "sim-a"))).toBeUndefined();
  });

  it("deletes 2,500 files in batches of at most 1,000 keys", async () => {
    const { deps } = await world(2500, { default: { keepLast: 100 }, maxRemoveFraction: 1 });
    const [result] = await prune(run(), deps);

    expect(deps.objects.deleteCalls.map((keys) => keys.length)).toEqual([1000, 1000, 400]);
    expect(result!.removed).toHaveLength(2400);
    expect(Object.values(await states(deps)).filter((s) => s === "DELETED")).toHaveLength(2400);
  });

  it("retries failed keys once, never marks their checkpoints DELETED, and converges on a later run", async () => {
    const { deps } = await world(6);
    const stuck = snapshotKey("simsnap", "sim-a", new Date(T0 + HOUR));
    deps.objects.failingDeletes.add(stuck);

    const [first] = await prune(run("r1"), deps);

    expect(deps.objects.deleteCalls).toEqual([expect.any(Array), [stuck]]);
    expect(first).toMatchObject({
      outcome: "partial",
      failed: [{ id: "c0001", key: stuck, code: "AccessDenied" }],
    });
    expect((await states(deps)).c0001).toBe("COMPLETE");
    expect(await deps.jobs.get(pruneJobId("r1", "sim-a"))).toMatchObject({
      status: "FAILED",
      error: { code: "FilesNotDeleted" },
    });

    deps.objects.failingDeletes.clear();
    const [second] = await prune(run("r2"), deps);
    expect(second).toMatchObject({ outcome: "pruned", removed: ["c0001"] });
    expect(Object.values(await states(deps))).toEqual([
      "DELETED",
      "DELETED",
      "DELETED",
      "COMPLETE",
      "COMPLETE",
      "COMPLETE",
    ]);
  });

  it("runs once when its trigger arrives twice", async () => {
    const { deps } = await world(5);
    await prune(run(), deps);
    const [again] = await prune(run(), deps);
    expect(again!.outcome).toBe("duplicate");
    expect(deps.objects.deleteCalls).toHaveLength(1);
    expect(deps.events.events).toHaveLength(1);
  });

  it.each([
    [
      "removing more than the allowed share",
      { default: { keepLast: 1 } },
      /more than the allowed 50%/,
    ],
    [
      "removing every checkpoint",
      { default: { keepTags: [["never"]] } },
      /would remove all 4 COMPLETE checkpoints/,
    ],
  ])(
    "refuses %s: nothing removed, the job fails with the reason",
    async (_name, retention, reason) => {
      const { deps } = await world(4, retention);
      const [result] = await prune(run(), deps);

      expect(result!.outcome).toBe("refused");
      expect(deps.objects.deleteCalls).toEqual([]);
      expect(Object.values(await states(deps))).toEqual([
        "COMPLETE",
        "COMPLETE",
        "COMPLETE",
        "COMPLETE",
      ]);
      expect((await deps.jobs.get(pruneJobId(run().runId, "sim-a")))?.error?.message).toMatch(
        reason,
      );
      expect(JSON.parse(deps.objects.text(result!.report!)!).refused).toMatch(reason);
    },
  );

  it("spares a checkpoint marked favorite after the plan was made", async () => {
    const { deps } = await world(5);
    const stale: Page<Checkpoint> = await deps.checkpoints.listBySimulation("sim-a", {
      limit: 1000,
    });
    const late = (await deps.checkpoints.get("c0001"))!;
    await deps.checkpoints.save({ ...late, favorite: true, version: 2 });
    deps.checkpoints.listBySimulation = async () => stale;

    const [result] = await prune(run(), deps);

    expect(result!.plan.remove).toEqual([{ id: "c0001" }, { id: "c0000" }]);
    expect(result!.removed).toEqual(["c0000"]);
    expect((await states(deps)).c0001).toBe("COMPLETE");
    expect(deps.objects.deleteCalls).toEqual([[snapshotKey("simsnap", "sim-a", new Date(T0))]]);
  });

  it("keeps a checkpoint in the hot bucket until it is archived, when archiving is on", async () => {
    const { deps } = await world(5);
    deps.archiveFirst = true;
    const archived = (await deps.checkpoints.get("c0000"))!;
    await deps.checkpoints.save({
      ...archived,
      version: 2,
      archive: {
        bucket: "archive",
        key: "sim-a/2026/11/x.zip",
        storageClass: "STANDARD_IA",
        archivedAt: archived.createdAt,
      },
    });

    const [result] = await prune(run(), deps);

    expect(result!.plan.remove).toEqual([{ id: "c0001" }, { id: "c0000" }]);
    expect(result).toMatchObject({
      outcome: "pruned",
      removed: ["c0000"],
      awaitingArchive: ["c0001"],
    });
    expect((await states(deps)).c0001).toBe("COMPLETE");
    expect(JSON.parse(deps.objects.text(result!.report!)!).awaitingArchive).toEqual(["c0001"]);
  });

  it("prunes every simulation in the catalog when none is named", async () => {
    const { deps } = await world(4);
    await deps.checkpoints.create({
      ...(await deps.checkpoints.get("c0000"))!,
      id: "other",
      simulation: "sim-b",
    });
    const results = await prune(run(), deps);
    expect(results.map((r) => r.simulation)).toEqual(["sim-a", "sim-b"]);
  });
});

describe("pruneRunFor", () => {
  const completed = (simulation: string, time: string) =>
    PruneRequestSchema.parse({
      source: "simsnap",
      "detail-type": "Checkpoint Completed",
      time,
      detail: { checkpoint: { simulation } },
    });

  it("gives completions of one simulation within a debounce window one run", () => {
    const a = pruneRunFor(completed("sim-a", "2026-11-23T10:00:01Z"), 60);
    expect(pruneRunFor(completed("sim-a", "2026-11-23T10:00:59Z"), 60)).toEqual(a);
    expect(pruneRunFor(completed("sim-a", "2026-11-23T10:01:00Z"), 60).runId).not.toBe(a.runId);
    expect(pruneRunFor(completed("sim-b", "2026-11-23T10:00:01Z"), 60).runId).not.toBe(a.runId);
    expect(a).toMatchObject({ simulations: ["sim-a"], dryRun: false, force: false });
  });

  it("reads schedule and manual requests, dry run by default for people", () => {
    expect(
      pruneRunFor(
        PruneRequestSchema.parse({
          source: "schedule",
          schedule: "daily",
          scheduledTime: "2026-11-23T03:00:00Z",
        }),
        60,
      ),
    ).toEqual({
      runId: "schedule/daily/2026-11-23T03:00:00.000Z",
      dryRun: false,
      force: false,
    });
    expect(
      pruneRunFor(PruneRequestSchema.parse({ source: "manual", requestId: "r9" }), 60),
    ).toEqual({
      runId: "manual/r9",
      simulations: undefined,
      dryRun: true,
      force: false,
    });
  });

  it("rejects a request of unknown shape", () => {
    expect(PruneRequestSchema.safeParse({ source: "manual" }).success).toBe(false);
    expect(PruneRequestSchema.safeParse({ source: "cron", schedule: "x" }).success).toBe(false);
  });
});
