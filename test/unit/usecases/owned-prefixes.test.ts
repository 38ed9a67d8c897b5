import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../lib/domain/checkpoint.ts";
import { ConflictError } from "../../../lib/domain/errors.ts";
import { RetentionConfigSchema } from "../../../lib/domain/retention.ts";
import { ownedPrefixes, snapshotKey } from "../../../lib/domain/snapshot-key.ts";
import { archiveCheckpoint } from "../../../lib/usecases/archive/archive-checkpoint.ts";
import { completeSnapshot } from "../../../lib/usecases/snapshot/complete-snapshot.ts";
import { deleteCheckpoint } from "../../../lib/usecases/catalog/delete-checkpoint.ts";
import { loadSimulationCheckpoints } from "../../../lib/usecases/catalog/list-checkpoints.ts";
import { prune } from "../../../lib/usecases/retention/prune.ts";
import { restoreCheckpoint } from "../../../lib/usecases/restore/restore-checkpoint.ts";
import { checkpoint as makeCheckpoint } from "../../support/checkpoint-factory.ts";
import { apiWorld } from "../../support/api-world.ts";
import { archiveWorld } from "../../support/archive-world.ts";

/**
 * Issue 10, defect 2: simsnap catalogs, prunes, deletes, archives and restores from only the
 * prefixes its config names. Files another tool writes under `otherteam/snapshot/` in the same
 * bucket are never cataloged, and a checkpoint an older version cataloged from there is skipped
 * or refused, never deleted; adopting the prefix explicitly makes them simsnap's.
 */

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const ADOPTING = { bucket: "snapshots", prefixes: ownedPrefixes("simsnap", ["otherteam"]) };

const location = (prefix: string, simulation: string, time: number) => ({
  bucket: "snapshots",
  key: snapshotKey(prefix, simulation, new Date(time)),
});

/** The API's world with COMPLETE checkpoints of sim-a (and their files), hourly from T0. */
async function catalog(files: { id: string; prefix: string; hour: number }[]) {
  const world = {
    ...apiWorld(),
    retention: RetentionConfigSchema.parse({ default: { keepLast: 1 }, maxRemoveFraction: 1 }),
  };
  world.clock.set(new Date(T0 + 24 * HOUR));
  const checkpoints: Record<string, Checkpoint> = {};
  for (const file of files) {
    const at = T0 + file.hour * HOUR;
    const checkpoint = makeCheckpoint({
      id: file.id,
      createdAt: new Date(at).toISOString(),
      location: location(file.prefix, "sim-a", at),
    });
    await world.checkpoints.create(checkpoint);
    await world.objects.put(checkpoint.location!, "zip");
    checkpoints[file.id] = checkpoint;
  }
  return { world, checkpoints };
}

const run = { runId: "manual/r1", force: true, dryRun: false };

describe("complete-snapshot and foreign files", () => {
  it("ignores a file another tool wrote under otherteam/snapshot/: no checkpoint, no event", async () => {
    const world = apiWorld();
    const file = { ...location("otherteam", "x", T0), size: 3, etag: "e" };
    await world.objects.put(file, "zip");

    expect(await completeSnapshot(file, world)).toEqual({ outcome: "ignored" });
    expect(await world.checkpoints.listSimulations()).toEqual([]);
    expect(world.events.events).toEqual([]);
  });

  it("ignores a file under the owned prefix of another bucket", async () => {
    const world = apiWorld();
    const file = { bucket: "other-bucket", key: snapshotKey("simsnap", "x", new Date(T0)) };
    await world.objects.put(file, "zip");

    expect(await completeSnapshot({ ...file, size: 3 }, world)).toEqual({ outcome: "ignored" });
    expect(await world.checkpoints.listSimulations()).toEqual([]);
  });

  it("catalogs it as discovered once the config adopts otherteam", async () => {
    const world = { ...apiWorld(), owned: ADOPTING };
    const file = { ...location("otherteam", "x", T0), size: 3, etag: "e" };
    await world.objects.put(file, "zip");

    const result = await completeSnapshot(file, world);

    expect(result.outcome).toBe("discovered");
    expect(await world.checkpoints.get(result.checkpointId!)).toMatchObject({
      simulation: "x",
      trigger: "discovered",
      location: { bucket: "snapshots", key: file.key },
    });
  });
});

describe("prune and a checkpoint cataloged from a foreign prefix", () => {
  it("never deletes its file, keeps it COMPLETE and reports it as skipped, with the reason", async () => {
    const { world, checkpoints } = await catalog([
      { id: "ours-1", prefix: "simsnap", hour: 0 },
      { id: "ours-2", prefix: "simsnap", hour: 1 },
      { id: "foreign", prefix: "otherteam", hour: 2 },
      { id: "ours-3", prefix: "simsnap", hour: 3 },
    ]);
    const foreign = checkpoints.foreign!.location!;

    const [result] = await prune(run, world);

    expect(world.objects.deleteCalls.flat()).not.toContain(foreign.key);
    expect(await world.objects.head(foreign)).toBeDefined();
    expect(await world.checkpoints.get("foreign")).toMatchObject({ state: "COMPLETE" });
    expect(result?.skipped).toEqual([
      {
        id: "foreign",
        key: foreign.key,
        reason: expect.stringMatching(
          /outside the snapshot folders simsnap owns.*destination\.adoptPrefixes/,
        ),
      },
    ]);
    const report = JSON.parse(world.objects.text(result!.report!)!) as { skipped: unknown };
    expect(report.skipped).toEqual(result?.skipped);
    // It does not take the place of one of simsnap's own: keepLast 1 keeps the newest of ours.
    expect(result?.plan.keep.map((k) => k.id)).toEqual(["ours-3"]);
    expect(result?.removed.sort()).toEqual(["ours-1", "ours-2"]);
  });

  it("deletes it like simsnap's own once its prefix is adopted", async () => {
    const { world, checkpoints } = await catalog([
      { id: "foreign", prefix: "otherteam", hour: 0 },
      { id: "ours", prefix: "simsnap", hour: 1 },
    ]);

    const [result] = await prune(run, { ...world, owned: ADOPTING });

    expect(result).toMatchObject({ removed: ["foreign"], skipped: [] });
    expect(await world.objects.head(checkpoints.foreign!.location!)).toBeUndefined();
    const states = (await loadSimulationCheckpoints(world.checkpoints, "sim-a")).map((c) => [
      c.id,
      c.state,
    ]);
    expect(Object.fromEntries(states)).toEqual({ foreign: "DELETED", ours: "COMPLETE" });
  });
});

describe("delete and a checkpoint cataloged from a foreign prefix", () => {
  it("refuses, even with force, leaving file and record as they were", async () => {
    const { world, checkpoints } = await catalog([{ id: "foreign", prefix: "otherteam", hour: 0 }]);

    const attempt = deleteCheckpoint("foreign", { force: true }, world);

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toThrow(
      /Checkpoint foreign cannot be deleted by simsnap: s3:\/\/snapshots\/otherteam\/snapshot\/.* is outside the snapshot folders simsnap owns/,
    );
    expect(world.objects.deleteCalls).toEqual([]);
    expect(await world.objects.head(checkpoints.foreign!.location!)).toBeDefined();
    expect(await world.checkpoints.get("foreign")).toMatchObject({ state: "COMPLETE" });
    expect(world.events.events).toEqual([]);
  });

  it("deletes it once its prefix is adopted", async () => {
    const { world } = await catalog([{ id: "foreign", prefix: "otherteam", hour: 0 }]);

    const deleted = await deleteCheckpoint(
      "foreign",
      { force: false },
      { ...world, owned: ADOPTING },
    );

    expect(deleted.state).toBe("DELETED");
  });
});

describe("archive and restore copy only from what simsnap owns", () => {
  it("skips archiving a foreign file, copying nothing", async () => {
    const world = archiveWorld();
    const foreign = makeCheckpoint({ id: "foreign", location: location("otherteam", "x", T0) });
    await world.storage.put(foreign.location!, new TextEncoder().encode("zip"));
    await world.checkpoints.create(foreign);

    const result = await archiveCheckpoint({ checkpointId: "foreign" }, world);

    expect(result).toMatchObject({
      outcome: "skipped",
      reason: expect.stringMatching(/outside the snapshot folders simsnap owns/),
    });
    expect(world.storage.copies).toEqual([]);
  });

  it("refuses to restore a foreign file that was never archived", async () => {
    const { world } = await catalog([{ id: "foreign", prefix: "otherteam", hour: 0 }]);
    await world.storage.put(location("otherteam", "sim-a", T0), new TextEncoder().encode("zip"));

    const attempt = restoreCheckpoint({ checkpointId: "foreign", clientToken: "t" }, world);

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toThrow(/has no copy simsnap may restore from/);
    expect(world.restoreSteps.sent).toEqual([]);
  });

  it("refuses to restore from an archive copy outside the archive bucket", async () => {
    const world = apiWorld();
    await world.checkpoints.create(
      makeCheckpoint({
        id: "deleted",
        state: "DELETED",
        location: location("simsnap", "sim-a", T0),
        archive: {
          bucket: "someone-elses-bucket",
          key: "sim-a/2026/11/f.zip",
          storageClass: "STANDARD_IA",
          archivedAt: new Date(T0).toISOString(),
        },
      }),
    );

    const attempt = restoreCheckpoint({ checkpointId: "deleted", clientToken: "t" }, world);

    await expect(attempt).rejects.toThrow(
      /its archive copy s3:\/\/someone-elses-bucket\/sim-a\/2026\/11\/f\.zip is not in the archive bucket archive/,
    );
  });
});
