import { describe, expect, it } from "vitest";
import { deterministicId } from "../../../../lib/domain/ids.ts";
import { snapshotKey } from "../../../../lib/domain/snapshot-key.ts";
import {
  reconcileCursorLocation,
  reconcileGraceSeconds,
} from "../../../../lib/domain/snapshot-reconcile.ts";
import type { ObjectInfo } from "../../../../lib/ports/object-store.ts";
import { checkSnapshot } from "../../../../lib/usecases/snapshot/check-snapshot.ts";
import { completeSnapshot } from "../../../../lib/usecases/snapshot/complete-snapshot.ts";
import {
  reconcileSnapshotFiles,
  type ReconcileBudget,
} from "../../../../lib/usecases/snapshot/reconcile-snapshots.ts";
import { failSnapshotJob } from "../../../../lib/usecases/snapshot/snapshot-job.ts";
import { snapshotIdsFor, takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { MemoryObjectStore } from "../../../support/memory.ts";
import { providerWritesFiles, request, snapshotWorld } from "../../../support/snapshot-world.ts";

/** Ten minutes of snapshot deadline in the world's timing, plus the margin: 20 minutes. */
const GRACE_SECONDS = reconcileGraceSeconds({ deadlineSeconds: 600, marginSeconds: 600 });

/**
 * The snapshot world with an object store on its clock (files are written "now" as the world
 * sees it), an adopted prefix beside the destination, and the scan's cursor and grace.
 */
function world(budget?: ReconcileBudget) {
  const base = snapshotWorld();
  return {
    ...base,
    objects: new MemoryObjectStore(base.clock),
    owned: { bucket: "snapshots", prefixes: ["simsnap", "adopted"] },
    cursorAt: reconcileCursorLocation(base.destination),
    graceSeconds: GRACE_SECONDS,
    ...(budget ? { budget } : {}),
  };
}
type World = ReturnType<typeof world>;

/** Stores a snapshot file stamped `time` (written now) as SimSpace Weaver would. */
async function fileAt(
  w: World,
  time: string,
  simulation = "sim-a",
  prefix = "simsnap",
): Promise<ObjectInfo> {
  const location = { bucket: "snapshots", key: snapshotKey(prefix, simulation, new Date(time)) };
  await w.objects.put(location, `${simulation} at ${time}`);
  return (await w.objects.head(location)) as ObjectInfo;
}

/** Past the grace of every file a test writes (their stamps span a few minutes). */
const pastGrace = (w: World) => w.clock.advance(GRACE_SECONDS * 1000 + 600_000);
/** The key of the file a checkpoint is bound to. */
const bound = async (w: World, checkpointId: string) =>
  (await w.checkpoints.get(checkpointId))?.location?.key;
const completions = (w: World) =>
  w.events.events.filter((e) => e.detailType === "Checkpoint Completed");

describe("reconcileSnapshotFiles", () => {
  it("catalogs a file whose event was lost as discovered, exactly once, and a late event changes nothing", async () => {
    const w = world();
    const file = await fileAt(w, "2026-11-23T10:00:00Z");
    pastGrace(w);

    const first = await reconcileSnapshotFiles(w);
    const second = await reconcileSnapshotFiles(w);
    const late = await completeSnapshot(file, w);

    const id = deterministicId("discovered", file.bucket, file.key);
    expect(first).toMatchObject({
      listed: 1,
      known: 0,
      cataloged: [{ key: file.key, checkpointId: id, outcome: "discovered" }],
    });
    expect(first.resumeAt).toBeUndefined();
    expect(second).toMatchObject({ listed: 1, known: 1, cataloged: [] });
    expect(late).toEqual({ outcome: "duplicate", checkpointId: id });
    expect(await w.checkpoints.get(id)).toMatchObject({
      state: "COMPLETE",
      trigger: "discovered",
      simulation: "sim-a",
      location: { bucket: file.bucket, key: file.key },
    });
    expect((await w.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
    expect(completions(w)).toHaveLength(1);
  });

  it("gives the result a real event gives: the same record, field for field", async () => {
    const scanned = world();
    const evented = world();
    const files = await Promise.all(
      [scanned, evented].map((w) => fileAt(w, "2026-11-23T10:00:00Z")),
    );
    pastGrace(scanned);
    pastGrace(evented);

    await reconcileSnapshotFiles(scanned);
    await completeSnapshot(files[1]!, evented);

    const id = deterministicId("discovered", files[0]!.bucket, files[0]!.key);
    expect(await scanned.checkpoints.get(id)).toEqual(await evented.checkpoints.get(id));
    expect(scanned.events.events).toEqual(evented.events.events);
  });

  it("leaves a file within the grace alone, and catalogs it once the grace has passed", async () => {
    const w = world();
    const file = await fileAt(w, "2026-11-23T10:00:00Z");
    w.clock.advance(GRACE_SECONDS * 1000 - 1000);

    expect(await reconcileSnapshotFiles(w)).toMatchObject({ young: 1, cataloged: [] });
    expect(w.events.events).toEqual([]);

    w.clock.advance(1000);
    expect((await reconcileSnapshotFiles(w)).cataloged.map((c) => c.key)).toEqual([file.key]);
  });

  it("counts the grace from the write, not the stamp: a snapshot uploaded long after its call waits", async () => {
    const w = world();
    // Stamped at the call, written (and its event sent) 19 minutes later.
    w.clock.set("2026-11-23T10:19:00Z");
    await fileAt(w, "2026-11-23T10:00:00Z");
    w.clock.set("2026-11-23T10:30:00Z");

    expect(await reconcileSnapshotFiles(w)).toMatchObject({ young: 1, cataloged: [] });
  });

  it("does not steal an in-flight job's file: the job's own status check binds it first", async () => {
    const w = world();
    const files = providerWritesFiles(w);
    const { checkpointId, jobId } = await takeSnapshot(request(), w);
    // The file's event is lost; scans run while the job waits for its first status check.
    w.clock.advance(5_000);
    expect(await reconcileSnapshotFiles(w)).toMatchObject({ young: 1, cataloged: [] });

    const check = w.statusChecks.sent.at(-1)!.message;
    w.provider.statuses.set("sim-a", "STARTED");
    w.clock.set(check.dueAt);
    expect((await checkSnapshot(check, w)).outcome).toBe("completed");
    pastGrace(w);
    const later = await reconcileSnapshotFiles(w);

    expect(later).toMatchObject({ known: 1, cataloged: [] });
    expect(await w.checkpoints.get(checkpointId)).toMatchObject({
      state: "COMPLETE",
      location: { key: files[0]!.key },
    });
    expect(await w.jobs.get(jobId)).toMatchObject({ status: "SUCCEEDED" });
    expect((await w.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
  });

  it("leaves files that open jobs could still take to those jobs: their status checks bind them", async () => {
    const w = world();
    const files = providerWritesFiles(w, { callMs: 600 });
    const slots = ["10:00:00", "10:01:00", "10:02:00"].map((t) => `2026-11-23T${t}.000Z`);
    const checks = [];
    for (const time of slots) {
      w.clock.set(time);
      await takeSnapshot(request("sim-a", `schedule/minutely/sim-a/${time}`), w);
      checks.push(w.statusChecks.sent.at(-1)!.message);
    }
    // Every event is lost and no status check ran yet (the queue was down): the jobs are open.
    pastGrace(w);

    expect(await reconcileSnapshotFiles(w)).toMatchObject({ waiting: 3, cataloged: [] });
    expect(w.events.events.filter((e) => e.detailType !== "Snapshot Requested")).toEqual([]);

    w.provider.statuses.set("sim-a", "STARTED");
    for (const check of checks) expect((await checkSnapshot(check, w)).outcome).toBe("completed");
    expect(await reconcileSnapshotFiles(w)).toMatchObject({ known: 3, waiting: 0, cataloged: [] });
    for (const [i, time] of slots.entries()) {
      const { checkpointId } = snapshotIdsFor(`schedule/minutely/sim-a/${time}`);
      expect(await bound(w, checkpointId), time).toBe(files[i]!.key);
    }
  });

  it("never gives a file to a neighbour's job: it waits until no open job could take it, then catalogs it as discovered", async () => {
    const w = world();
    // Two calls 3 s apart: the first job's file is stamped within the second's widened window.
    w.clock.set("2026-11-23T10:00:00.100Z");
    const owner = await takeSnapshot(request("sim-a", "owner"), w);
    const ownFile = await fileAt(w, "2026-11-23T10:00:00Z");
    w.clock.set("2026-11-23T10:00:03.000Z");
    const neighbour = await takeSnapshot(request("sim-a", "neighbour"), w);
    // The owner's file event is lost, and the owner fails (its simulation was reported ended).
    await failSnapshotJob((await w.jobs.get(owner.jobId))!, { code: "X", message: "gone" }, w);
    pastGrace(w);

    // A real event now would bind the file to the neighbour, the one open window that holds it.
    expect(await reconcileSnapshotFiles(w)).toMatchObject({ waiting: 1, cataloged: [] });
    expect(await w.checkpoints.get(neighbour.checkpointId)).toMatchObject({ state: "PENDING" });

    // The neighbour gets its own file; nothing could take the owner's file any more.
    const neighbourFile = await fileAt(w, "2026-11-23T10:00:03Z");
    expect(await completeSnapshot(neighbourFile, w)).toMatchObject({ outcome: "completed" });
    pastGrace(w);
    const result = await reconcileSnapshotFiles(w);

    expect(result.cataloged).toEqual([
      {
        key: ownFile.key,
        checkpointId: deterministicId("discovered", "snapshots", ownFile.key),
        outcome: "discovered",
      },
    ]);
    expect(await bound(w, neighbour.checkpointId)).toBe(neighbourFile.key);
  });

  it("catalogs the file of a call whose answer was lost, which no job's status check will ever bind", async () => {
    const w = world();
    const files = providerWritesFiles(w);
    const createSnapshot = w.provider.createSnapshot.bind(w.provider);
    let calls = 0;
    w.provider.createSnapshot = async (simulation, destination) => {
      await createSnapshot(simulation, destination);
      if (++calls === 1) throw new Error("socket hang up");
    };
    // The first call's answer is lost; the redelivery calls again once the claim expired.
    await expect(takeSnapshot(request(), w)).rejects.toThrow("socket hang up");
    w.clock.advance(61_000);
    const { checkpointId } = await takeSnapshot(request(), w);
    // Only the second file's event arrives.
    expect(await completeSnapshot(files[1]!, w)).toMatchObject({ outcome: "completed" });
    pastGrace(w);

    const result = await reconcileSnapshotFiles(w);

    expect(result).toMatchObject({
      known: 1,
      cataloged: [
        {
          key: files[0]!.key,
          checkpointId: deterministicId("discovered", "snapshots", files[0]!.key),
          outcome: "discovered",
        },
      ],
    });
    expect(await w.checkpoints.get(checkpointId)).toMatchObject({
      location: { key: files[1]!.key },
    });
  });

  it("lists only the snapshot folders of the owned prefixes, and leaves every other object alone", async () => {
    const w = world();
    const stamp = "261123-1000-00";
    const untouched = [
      `otherteam/snapshot/sim-a-${stamp}.zip`,
      `simsnap-old/snapshot/sim-a-${stamp}.zip`,
      `snapshot/sim-a-${stamp}.zip`,
      `simsnap/trash/${deterministicId("x")}/v2/sim-a-${stamp}.zip`,
      `simsnap/restore/sim-a/sim-a-${stamp}.zip`,
      `simsnap/reports/prune/sim-a/2026.json`,
      // In a snapshot folder, but not a file SimSpace Weaver writes.
      `simsnap/snapshot/My First Simulation-${stamp}.zip`,
      `simsnap/snapshot/nested/sim-a-${stamp}.zip`,
      `simsnap/snapshot/sim-a-${stamp}.zip.part`,
    ];
    for (const key of untouched) await w.objects.put({ bucket: "snapshots", key }, "x");
    await w.objects.put({ bucket: "archive", key: `simsnap/sim-a/sim-a-${stamp}.zip` }, "x");
    const adopted = await fileAt(w, "2026-11-23T10:00:00Z", "sim-b", "adopted");
    pastGrace(w);

    const result = await reconcileSnapshotFiles(w);

    expect(result.cataloged.map((c) => c.key)).toEqual([adopted.key]);
    expect(result.ignored).toBe(3);
    expect(w.objects.listCalls.map((c) => c.prefix)).toEqual([
      "simsnap/snapshot/",
      "adopted/snapshot/",
    ]);
    expect(await w.checkpoints.listSimulations()).toEqual(["sim-b"]);
    for (const key of untouched) {
      expect(await w.objects.head({ bucket: "snapshots", key }), key).toBeDefined();
    }
  });

  it("catalogs a discovered file whose record a crash cut short after its claim", async () => {
    const w = world();
    const file = await fileAt(w, "2026-11-23T10:00:00Z");
    const id = deterministicId("discovered", file.bucket, file.key);
    await w.checkpoints.claimLocation(file, id);
    pastGrace(w);

    const result = await reconcileSnapshotFiles(w);

    expect(result.cataloged).toEqual([{ key: file.key, checkpointId: id, outcome: "discovered" }]);
    expect(await w.checkpoints.get(id)).toMatchObject({ state: "COMPLETE" });
  });

  it("leaves a file that a CreateSnapshot still in flight may have made for a later run", async () => {
    const w = world();
    // A call that started before the file's stamp and has not answered; its claim still holds.
    await takeSnapshot(request(), w).catch(() => undefined);
    const { jobId } = snapshotIdsFor(request().requestId);
    const job = (await w.jobs.get(jobId))!;
    pastGrace(w);
    const file = await fileAt(w, "2026-11-23T10:00:00Z");
    await w.jobs.save({
      ...job,
      version: job.version + 1,
      requestedAt: undefined,
      claimedUntil: new Date(w.clock.now().getTime() + 60_000).toISOString(),
    });
    // The file was written long ago, as far as its listing says.
    const stale = { ...file, lastModified: new Date("2026-11-23T10:00:00Z") };
    const list = w.objects.list.bind(w.objects);
    w.objects.list = async function* (bucket, prefix, options) {
      for await (const object of list(bucket, prefix, options)) {
        yield object.key === file.key ? stale : object;
      }
    };

    const result = await reconcileSnapshotFiles(w);

    expect(result).toMatchObject({ waiting: 1, cataloged: [] });
    expect((await w.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
  });

  it("is idempotent when two runs overlap: one record, one event", async () => {
    const w = world();
    for (let s = 0; s < 30; s++) await fileAt(w, `2026-11-23T10:00:${String(s).padStart(2, "0")}Z`);
    pastGrace(w);

    const [a, b] = await Promise.all([reconcileSnapshotFiles(w), reconcileSnapshotFiles(w)]);

    expect(a.cataloged.length + b.cataloged.length).toBe(30);
    expect(a.cataloged.length + a.duplicate + a.known).toBe(30);
    expect((await w.checkpoints.listBySimulation("sim-a", { limit: 100 })).items).toHaveLength(30);
    expect(completions(w)).toHaveLength(30);
  });

  it("reads a bounded share per run and goes on where the last run stopped, looking claims up 100 at a time", async () => {
    const w = world({ keys: 100, seconds: 60 });
    const keys: string[] = [];
    for (let m = 0; m < 5; m++) {
      for (let s = 0; s < 50; s++) {
        const time = `2026-11-23T10:0${m}:${String(s).padStart(2, "0")}Z`;
        keys.push((await fileAt(w, time)).key);
      }
    }
    await fileAt(w, "2026-11-23T10:00:00Z", "sim-b", "adopted");
    pastGrace(w);

    const runs = [];
    for (let run = 0; run < 4; run++) runs.push(await reconcileSnapshotFiles(w));

    expect(runs.map((r) => r.listed)).toEqual([100, 100, 51, 100]);
    expect(runs.map((r) => r.resumeAt)).toEqual([
      { prefix: "simsnap", startAfter: keys[99] },
      { prefix: "simsnap", startAfter: keys[199] },
      undefined,
      { prefix: "simsnap", startAfter: keys[99] },
    ]);
    expect(runs.slice(0, 3).flatMap((r) => r.cataloged)).toHaveLength(251);
    expect(runs[3]).toMatchObject({ known: 100, cataloged: [] });
    expect(w.objects.listCalls.slice(0, 4).map((c) => c.startAfter)).toEqual([
      undefined,
      keys[99],
      keys[199],
      undefined,
    ]);
    // 251 files in batches of at most 100 (50 and 1 at the folders' ends), then the fourth run.
    expect(w.checkpoints.ownerRequests).toBe(5);
    expect(JSON.parse(w.objects.text(w.cursorAt)!)).toEqual({
      prefix: "simsnap",
      startAfter: keys[99],
    });
  });

  it("stops after its seconds of work, at the end of a batch, and saves where it stopped", async () => {
    const w = world({ keys: 1_000_000, seconds: 1 });
    const keys: string[] = [];
    for (let s = 0; s < 250; s++) {
      const time = new Date(Date.UTC(2026, 10, 23, 10, 0, s));
      keys.push((await fileAt(w, time.toISOString())).key);
    }
    pastGrace(w);
    // Each catalog lookup takes 600 ms of the run's time.
    const lookup = w.checkpoints.locationOwners.bind(w.checkpoints);
    w.checkpoints.locationOwners = async (locations) => {
      w.clock.advance(600);
      return lookup(locations);
    };

    const first = await reconcileSnapshotFiles(w);
    const second = await reconcileSnapshotFiles(w);

    expect(first).toMatchObject({
      listed: 200,
      resumeAt: { prefix: "simsnap", startAfter: keys[199] },
    });
    expect(first.cataloged).toHaveLength(200);
    expect(second).toMatchObject({ listed: 50 });
    expect(second.resumeAt).toBeUndefined();
  });

  it("starts over when its cursor is unreadable or names a prefix no longer owned", async () => {
    const w = world();
    const file = await fileAt(w, "2026-11-23T10:00:00Z");
    pastGrace(w);

    await w.objects.put(w.cursorAt, "{not json");
    expect((await reconcileSnapshotFiles(w)).cataloged.map((c) => c.key)).toEqual([file.key]);
    await w.objects.put(w.cursorAt, JSON.stringify({ prefix: "gone", startAfter: "zzz" }));
    expect(await reconcileSnapshotFiles(w)).toMatchObject({ listed: 1, known: 1 });
    expect(JSON.parse(w.objects.text(w.cursorAt)!)).toEqual({});
  });
});
