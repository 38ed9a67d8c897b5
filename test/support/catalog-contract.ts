import { beforeEach, describe, expect, it } from "vitest";
import {
  completeCheckpoint,
  failCheckpoint,
  type Checkpoint,
} from "../../lib/domain/checkpoint.ts";
import { ConcurrentModificationError, ValidationError } from "../../lib/domain/errors.ts";
import { newId } from "../../lib/domain/ids.ts";
import { abortJob, failJob, succeedJob, updateRunningJob, type Job } from "../../lib/domain/job.ts";
import {
  locationId,
  type CheckpointStore,
  type JobStore,
  type Page,
} from "../../lib/ports/catalog.ts";

/** The stores under test; the factory runs before every test and must return empty stores. */
export interface CatalogStores {
  checkpoints: CheckpointStore;
  jobs: JobStore;
}

const T0 = Date.parse("2025-03-01T00:00:00.000Z");
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const NOW = new Date(T0 + 24 * 3_600_000);

const pendingCheckpoint = (overrides: Partial<Checkpoint> = {}): Checkpoint => ({
  id: newId(),
  version: 1,
  simulation: "alpha",
  provider: "simspaceweaver",
  run: "exec-1",
  name: "nightly",
  description: "",
  tags: ["nightly"],
  favorite: false,
  state: "PENDING",
  trigger: "schedule",
  createdAt: at(0),
  modifiedAt: at(0),
  jobId: undefined,
  ...overrides,
});

const runningJob = (overrides: Partial<Job> = {}): Job => ({
  id: newId(),
  version: 1,
  kind: "snapshot",
  simulation: "alpha",
  status: "RUNNING",
  startTime: at(0),
  aborted: false,
  stats: { objects: 0, bytes: 0 },
  attempts: 0,
  checks: 0,
  destination: { bucket: "snapshots", prefix: "alpha/" },
  ...overrides,
});

const file = (name: string) => ({ bucket: "snapshots", key: `alpha/snapshot/${name}.zip` });

/** Reads every page of a listing, checking each page respects the limit. */
async function readAllPages<T>(
  list: (cursor: string | undefined) => Promise<Page<T>>,
  limit: number,
): Promise<{ items: T[]; pageSizes: number[] }> {
  const items: T[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    pageSizes.push(page.items.length);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, pageSizes };
}

/** Deterministic shuffle, so insertion order never happens to be the listing order. */
const shuffled = <T>(values: T[]): T[] =>
  values
    .map((value, index) => ({ value, rank: (index * 7919) % 101 }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ value }) => value);

/**
 * The behaviour every `CheckpointStore`/`JobStore` must show, run against the in-memory fakes and
 * against DynamoDB, so use-case tests on the fakes prove something about production.
 */
export function describeCatalogContract(name: string, factory: () => Promise<CatalogStores>): void {
  describe(`catalog contract: ${name}`, () => {
    let checkpoints: CheckpointStore;
    let jobs: JobStore;

    beforeEach(async () => {
      ({ checkpoints, jobs } = await factory());
    });

    describe("checkpoints", () => {
      it("reads back what was created, with undefined fields absent and unknown ids undefined", async () => {
        const checkpoint = pendingCheckpoint({ description: "before upgrade", tags: ["a", "b"] });
        expect(await checkpoints.create(checkpoint)).toBe(true);

        const stored = await checkpoints.get(checkpoint.id);
        const expected: Partial<Checkpoint> = { ...checkpoint };
        delete expected.jobId;
        expect(stored).toStrictEqual(expected);
        expect(await checkpoints.get(newId())).toBeUndefined();
      });

      it("keeps a checkpoint's step and metrics, which retention's keepBest and step rules read", async () => {
        const checkpoint = pendingCheckpoint({
          step: 12_000,
          metrics: { eval_loss: 0.213, "eval/accuracy": 0.875, grad_norm: -1.5e-7 },
        });
        await checkpoints.create(checkpoint);
        const stored = await checkpoints.get(checkpoint.id);
        expect(stored?.step).toBe(12_000);
        expect(stored?.metrics).toStrictEqual(checkpoint.metrics);
      });

      it("does not let callers change stored records by mutating objects", async () => {
        const checkpoint = pendingCheckpoint({ tags: ["keep"] });
        await checkpoints.create(checkpoint);
        checkpoint.tags.push("mutated-after-create");
        const read = await checkpoints.get(checkpoint.id);
        read?.tags.push("mutated-after-get");

        expect((await checkpoints.get(checkpoint.id))?.tags).toEqual(["keep"]);
      });

      it("refuses a second create of the same id and keeps the first record intact", async () => {
        const first = pendingCheckpoint({ name: "first" });
        expect(await checkpoints.create(first)).toBe(true);
        expect(await checkpoints.create({ ...first, name: "second", favorite: true })).toBe(false);

        const stored = await checkpoints.get(first.id);
        expect(stored?.name).toBe("first");
        expect(stored?.favorite).toBe(false);
        expect(stored?.version).toBe(1);
      });

      it("saves the next version and rejects a stale one without losing the first update", async () => {
        const checkpoint = pendingCheckpoint();
        await checkpoints.create(checkpoint);
        const readByA = await checkpoints.get(checkpoint.id);
        const readByB = await checkpoints.get(checkpoint.id);
        if (!readByA || !readByB) throw new Error("checkpoint missing");

        const completed = completeCheckpoint(
          readByA,
          { location: file("a"), size: 42, etag: "e1" },
          NOW,
        );
        await checkpoints.save(completed);

        const stale = failCheckpoint(readByB, { code: "Timeout", message: "gave up" }, NOW);
        const error = await checkpoints.save(stale).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect((error as Error).message).toContain(checkpoint.id);

        const stored = await checkpoints.get(checkpoint.id);
        expect(stored).toMatchObject({
          state: "COMPLETE",
          version: 2,
          size: 42,
          location: file("a"),
        });
        expect(stored?.error).toBeUndefined();
      });

      it("rejects saving a record that was never created", async () => {
        const ghost = completeCheckpoint(pendingCheckpoint(), { location: file("ghost") }, NOW);
        await expect(checkpoints.save(ghost)).rejects.toBeInstanceOf(ConcurrentModificationError);
        expect(await checkpoints.get(ghost.id)).toBeUndefined();
      });

      it("lets exactly one of two concurrent completions win", async () => {
        const checkpoint = pendingCheckpoint();
        await checkpoints.create(checkpoint);
        const [a, b] = await Promise.all([
          checkpoints.get(checkpoint.id),
          checkpoints.get(checkpoint.id),
        ]);
        if (!a || !b) throw new Error("checkpoint missing");

        const results = await Promise.allSettled([
          checkpoints.save(completeCheckpoint(a, { location: file("a"), etag: "a" }, NOW)),
          checkpoints.save(completeCheckpoint(b, { location: file("b"), etag: "b" }, NOW)),
        ]);

        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(
          ConcurrentModificationError,
        );
        const winner = results[0]?.status === "fulfilled" ? "a" : "b";
        const stored = await checkpoints.get(checkpoint.id);
        expect(stored).toMatchObject({ version: 2, etag: winner, location: file(winner) });
      });

      describe("listing by simulation", () => {
        const minutes = Array.from({ length: 25 }, (_, i) => i * 10);
        let created: Checkpoint[];

        beforeEach(async () => {
          created = minutes.map((m) => pendingCheckpoint({ createdAt: at(m), name: `cp-${m}` }));
          for (const checkpoint of shuffled(created)) await checkpoints.create(checkpoint);
          for (const m of [5, 15, 500]) {
            await checkpoints.create(pendingCheckpoint({ simulation: "beta", createdAt: at(m) }));
          }
        });

        it("pages oldest first across pages, only the simulation's own records", async () => {
          const { items, pageSizes } = await readAllPages(
            (cursor) => checkpoints.listBySimulation("alpha", { limit: 10, cursor }),
            10,
          );
          expect(pageSizes).toEqual([10, 10, 5]);
          expect(items.map((c) => c.name)).toEqual(created.map((c) => c.name));
          expect(items.every((c) => c.simulation === "alpha")).toBe(true);
        });

        it("pages newest first across pages", async () => {
          const { items, pageSizes } = await readAllPages(
            (cursor) =>
              checkpoints.listBySimulation("alpha", { limit: 10, cursor, newestFirst: true }),
            10,
          );
          expect(pageSizes).toEqual([10, 10, 5]);
          expect(items.map((c) => c.name)).toEqual(created.map((c) => c.name).reverse());
        });

        it("returns no cursor when the page ends exactly at the last record", async () => {
          const page = await checkpoints.listBySimulation("beta", { limit: 3 });
          expect(page.items).toHaveLength(3);
          expect(page.nextCursor).toBeUndefined();
          expect((await checkpoints.listBySimulation("gamma")).items).toEqual([]);
        });

        it("defaults to pages of 100, oldest first", async () => {
          const page = await checkpoints.listBySimulation("alpha");
          expect(page.items.map((c) => c.name)).toEqual(created.map((c) => c.name));
          expect(page.nextCursor).toBeUndefined();
        });

        it("orders by instant, whatever offset a timestamp was written with", async () => {
          const shifted = pendingCheckpoint({
            simulation: "gamma",
            name: "written-with-offset",
            createdAt: "2025-03-01T02:05:00+02:00",
          });
          const earlier = pendingCheckpoint({
            simulation: "gamma",
            name: "utc",
            createdAt: at(10),
          });
          await checkpoints.create(shifted);
          await checkpoints.create(earlier);

          const page = await checkpoints.listBySimulation("gamma");
          expect(page.items.map((c) => c.name)).toEqual(["written-with-offset", "utc"]);
        });

        it("rejects a malformed cursor, a foreign cursor and an out-of-range limit", async () => {
          const invalid = async (promise: Promise<unknown>, field: string) => {
            const error = await promise.catch((e: unknown) => e);
            expect(error).toBeInstanceOf(ValidationError);
            expect((error as ValidationError).details.map((d) => d.path)).toEqual([field]);
          };
          const betaCursor = (await checkpoints.listBySimulation("beta", { limit: 1 })).nextCursor;
          expect(betaCursor).toBeDefined();

          await invalid(
            checkpoints.listBySimulation("alpha", { cursor: "not a cursor!" }),
            "cursor",
          );
          await invalid(checkpoints.listBySimulation("alpha", { cursor: "e30" }), "cursor");
          await invalid(checkpoints.listBySimulation("alpha", { cursor: betaCursor }), "cursor");
          await invalid(checkpoints.listBySimulation("alpha", { limit: 0 }), "limit");
          await invalid(checkpoints.listBySimulation("alpha", { limit: 1001 }), "limit");
        });
      });

      it("lists every simulation that has checkpoints, once each, sorted", async () => {
        expect(await checkpoints.listSimulations()).toEqual([]);
        for (const simulation of ["zulu", "alpha", "mike", "alpha"]) {
          await checkpoints.create(pendingCheckpoint({ simulation }));
        }
        expect(await checkpoints.listSimulations()).toEqual(["alpha", "mike", "zulu"]);
      });

      it("keeps apart simulations whose names hold spaces, unicode or the keys' `#` separator", async () => {
        // Every key is a fixed prefix, the name, a fixed suffix (`SIM#<name>#CKPT`, `OPEN#<name>`)
        // read by equality: a name with `#` cannot spell another simulation's key.
        const names = [
          "alpha",
          "alpha#CKPT",
          "alpha#JOB",
          "SIM#alpha",
          "alpha#CKPT#JOB",
          "My First Simulation",
          "東京 Überwachung 🌊",
        ];
        for (const [i, simulation] of names.entries()) {
          await checkpoints.create(pendingCheckpoint({ id: `cp-${i}`, simulation }));
          await jobs.create(runningJob({ id: `job-${i}`, simulation }));
        }
        for (const [i, simulation] of names.entries()) {
          const own = await checkpoints.listBySimulation(simulation);
          expect(
            own.items.map((c) => c.id),
            simulation,
          ).toEqual([`cp-${i}`]);
          expect(
            (await jobs.listOpen(simulation)).map((j) => j.id),
            simulation,
          ).toEqual([`job-${i}`]);
          expect(
            (await jobs.listBySimulation(simulation)).items.map((j) => j.id),
            simulation,
          ).toEqual([`job-${i}`]);
        }
        expect(await checkpoints.listSimulations()).toEqual([...names].sort());
      });

      it("keeps each simulation's first checkpoint time and newest completion on its registry record", async () => {
        const done = (checkpoint: Checkpoint, name: string) =>
          completeCheckpoint(checkpoint, { location: file(name) }, NOW);
        const first = pendingCheckpoint({ createdAt: at(10) });
        const newer = pendingCheckpoint({ createdAt: at(30) });
        const older = pendingCheckpoint({ createdAt: at(20) });
        for (const checkpoint of [first, newer, older]) await checkpoints.create(checkpoint);
        expect(await checkpoints.simulationRecords(["alpha", "never"])).toEqual(
          new Map([["alpha", { simulation: "alpha", firstCheckpointAt: at(10) }]]),
        );

        await checkpoints.save(done(newer, "newer"));
        // A later, older completion (and a duplicate save of one) never moves it back.
        await checkpoints.save(done(older, "older"));
        const record = (await checkpoints.simulationRecords(["alpha"])).get("alpha");
        expect(record).toEqual({
          simulation: "alpha",
          firstCheckpointAt: at(10),
          newestCompletedAt: at(30),
        });

        // A checkpoint created already COMPLETE (a platform's) or DELETED counts as completed.
        await checkpoints.create(
          pendingCheckpoint({ simulation: "beta", createdAt: at(5), state: "DELETED" }),
        );
        const beta = (await checkpoints.simulationRecords(["beta"])).get("beta");
        expect(beta).toEqual({
          simulation: "beta",
          firstCheckpointAt: at(5),
          newestCompletedAt: at(5),
        });
      });

      it("reads the registry records of hundreds of simulations", async () => {
        const names = Array.from({ length: 230 }, (_, i) => `sim-${String(i).padStart(3, "0")}`);
        for (const simulation of names) {
          await checkpoints.create(pendingCheckpoint({ simulation, createdAt: at(1) }));
        }
        const records = await checkpoints.simulationRecords([...names, "missing", "sim-000"]);
        expect([...records.keys()].sort()).toEqual(names);
        expect(records.get("sim-229")).toEqual({ simulation: "sim-229", firstCheckpointAt: at(1) });
      });

      it("reads hundreds of checkpoints at once, each at its latest version, unknown ids absent", async () => {
        const created = Array.from({ length: 205 }, (_, i) =>
          pendingCheckpoint({ id: `many-${String(i).padStart(3, "0")}`, createdAt: at(i) }),
        );
        for (const checkpoint of created) await checkpoints.create(checkpoint);
        const changed = created[150]!;
        await checkpoints.save({ ...changed, favorite: true, version: 2 });

        const ids = [...created.map((c) => c.id), "missing", created[0]!.id];
        const found = await checkpoints.getMany(ids);

        expect([...found.keys()].sort()).toEqual(created.map((c) => c.id));
        expect(found.get(created[204]!.id)).toEqual(created[204]);
        // The write just before is seen: a prune's re-read must not miss a new favorite.
        expect(found.get(changed.id)).toMatchObject({ favorite: true, version: 2 });
        expect(await checkpoints.getMany([])).toEqual(new Map());
      });

      it("backfills only a record that is not tracked yet, never lowering its newest completion", async () => {
        await checkpoints.create(pendingCheckpoint({ createdAt: at(10) }));
        await checkpoints.backfillSimulationRecord({
          simulation: "alpha",
          firstCheckpointAt: at(0),
          newestCompletedAt: at(5),
        });
        // Tracked since its first create: the backfill changed nothing.
        expect((await checkpoints.simulationRecords(["alpha"])).get("alpha")).toEqual({
          simulation: "alpha",
          firstCheckpointAt: at(10),
        });
      });

      it("binds a location to the first claimant only", async () => {
        const location = file("shared");
        const claims = await Promise.all(
          ["c1", "c2", "c3", "c4"].map((id) => checkpoints.claimLocation(location, id)),
        );
        const owner = claims[0];
        expect(["c1", "c2", "c3", "c4"]).toContain(owner);
        expect(new Set(claims)).toEqual(new Set([owner]));

        expect(await checkpoints.claimLocation(location, "late")).toBe(owner);
        expect(await checkpoints.claimLocation({ ...location, bucket: "other" }, "late")).toBe(
          "late",
        );
        expect(
          await checkpoints.claimLocation({ ...location, key: `${location.key}.2` }, "c9"),
        ).toBe("c9");
      });

      it("names the owners of hundreds of claimed locations at once, unclaimed ones absent", async () => {
        const files = Array.from({ length: 230 }, (_, i) => file(`many-${i}`));
        for (let i = 0; i < files.length; i += 2) {
          await checkpoints.claimLocation(files[i]!, `owner-${i}`);
        }
        await checkpoints.claimLocation({ ...files[1]!, bucket: "other" }, "elsewhere");

        const owners = await checkpoints.locationOwners([...files, files[0]!]);

        expect(owners.size).toBe(115);
        expect(owners.get(locationId(files[0]!))).toBe("owner-0");
        expect(owners.get(locationId(files[228]!))).toBe("owner-228");
        expect(owners.has(locationId(files[1]!))).toBe(false);
        expect(await checkpoints.locationOwners([])).toEqual(new Map());
      });
    });

    describe("claims of a checkpoint", () => {
      it("lists the files a checkpoint claimed, and hands a claim on only from its holder", async () => {
        const [one, two, other] = [file("one"), file("two"), file("other")];
        await checkpoints.claimLocation(one, "c1");
        await checkpoints.claimLocation(two, "c1");
        await checkpoints.claimLocation(other, "c2");

        expect(await checkpoints.claimsOf("c1")).toEqual(expect.arrayContaining([one, two]));
        expect(await checkpoints.claimsOf("c1")).toHaveLength(2);
        expect(await checkpoints.claimsOf("nobody")).toEqual([]);

        expect(await checkpoints.reassignLocation(one, "c1", "discovered-1")).toBe("discovered-1");
        expect(await checkpoints.reassignLocation(other, "c1", "discovered-2")).toBe("c2");
        expect(await checkpoints.reassignLocation(file("unclaimed"), "c1", "d")).toBeUndefined();

        expect(await checkpoints.claimLocation(one, "late")).toBe("discovered-1");
        expect(await checkpoints.claimsOf("c1")).toEqual([two]);
        expect(await checkpoints.claimsOf("discovered-1")).toEqual([one]);
        const owners = await checkpoints.locationOwners([one, other, file("unclaimed")]);
        expect(owners).toEqual(
          new Map([
            [locationId(one), "discovered-1"],
            [locationId(other), "c2"],
          ]),
        );
      });
    });

    describe("jobs", () => {
      it("lists a simulation's jobs started within a range, open and finished, by kind", async () => {
        const before = runningJob({ startTime: at(9) });
        const first = runningJob({ startTime: at(10) });
        const prune = runningJob({ kind: "prune", startTime: at(15) });
        const ended = runningJob({ startTime: at(18) });
        const last = runningJob({ startTime: at(20) });
        const after = runningJob({ startTime: at(21) });
        const elsewhere = runningJob({ simulation: "beta", startTime: at(15) });
        for (const job of shuffled([before, first, prune, ended, last, after, elsewhere])) {
          await jobs.create(job);
        }
        await jobs.save(failJob(ended, { code: "DeadlineExceeded", message: "late" }, NOW));
        const range = { from: new Date(at(10)), to: new Date(at(20)) };

        expect((await jobs.listStartedWithin("alpha", range)).map((j) => j.id)).toEqual([
          first.id,
          prune.id,
          ended.id,
          last.id,
        ]);
        expect(await jobs.listStartedWithin("alpha", range, "snapshot")).toMatchObject([
          { id: first.id },
          { id: ended.id, status: "FAILED" },
          { id: last.id },
        ]);
        expect(await jobs.listStartedWithin("gamma", range)).toEqual([]);
      });

      it("refuses a duplicate create and a stale save", async () => {
        const job = runningJob();
        expect(await jobs.create(job)).toBe(true);
        expect(await jobs.create({ ...job, kind: "prune" })).toBe(false);

        await jobs.save(updateRunningJob(job, { checks: 1 }));
        const error = await jobs.save(succeedJob(job, NOW)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConcurrentModificationError);
        expect((error as Error).message).toContain(job.id);
        expect(await jobs.get(job.id)).toMatchObject({
          kind: "snapshot",
          status: "RUNNING",
          checks: 1,
          version: 2,
        });
      });

      it("lists RUNNING jobs oldest first, by kind, and drops a job once it is saved finished", async () => {
        const late = runningJob({ startTime: at(30) });
        const early = runningJob({ startTime: at(10) });
        const prune = runningJob({ kind: "prune", startTime: at(20) });
        const elsewhere = runningJob({ simulation: "beta", startTime: at(5) });
        for (const job of [late, early, prune, elsewhere]) await jobs.create(job);

        expect((await jobs.listOpen("alpha")).map((j) => j.id)).toEqual([
          early.id,
          prune.id,
          late.id,
        ]);
        expect((await jobs.listOpen("alpha", "snapshot")).map((j) => j.id)).toEqual([
          early.id,
          late.id,
        ]);

        await jobs.save(succeedJob(early, NOW, { objects: 1, bytes: 10 }));
        await jobs.save(failJob(prune, { code: "Boom", message: "no" }, NOW));
        expect((await jobs.listOpen("alpha")).map((j) => j.id)).toEqual([late.id]);

        const checked = updateRunningJob(late, { checks: 3 });
        await jobs.save(checked);
        expect(await jobs.listOpen("alpha")).toMatchObject([
          { id: late.id, checks: 3, version: 2 },
        ]);

        await jobs.save(abortJob(checked, NOW));
        expect(await jobs.listOpen("alpha")).toEqual([]);
        expect((await jobs.listOpen("beta")).map((j) => j.id)).toEqual([elsewhere.id]);

        const all = await jobs.listBySimulation("alpha", { newestFirst: true });
        expect(all.items.map((j) => [j.id, j.status])).toEqual([
          [late.id, "ABORTED"],
          [prune.id, "FAILED"],
          [early.id, "SUCCEEDED"],
        ]);
        expect(await jobs.get(early.id)).toMatchObject({
          stats: { objects: 1, bytes: 10 },
          version: 2,
        });
      });

      it("pages jobs by start time with cursors", async () => {
        const created = Array.from({ length: 7 }, (_, i) => runningJob({ startTime: at(i) }));
        for (const job of shuffled(created)) await jobs.create(job);

        const { items, pageSizes } = await readAllPages(
          (cursor) => jobs.listBySimulation("alpha", { limit: 3, cursor }),
          3,
        );
        expect(pageSizes).toEqual([3, 3, 1]);
        expect(items.map((j) => j.id)).toEqual(created.map((j) => j.id));
      });

      it("lists every job of every simulation once across pages, and nothing else", async () => {
        const created = ["alpha", "beta", "gamma"].flatMap((simulation, s) =>
          Array.from({ length: 4 }, (_, i) =>
            runningJob({ simulation, startTime: at(s * 10 + i) }),
          ),
        );
        for (const job of shuffled(created)) await jobs.create(job);
        await checkpoints.create(pendingCheckpoint());
        await checkpoints.claimLocation(file("not-a-job"), "c1");

        const { items } = await readAllPages((cursor) => jobs.listAll({ limit: 5, cursor }), 5);
        expect(items.map((j) => j.id).sort()).toEqual(created.map((j) => j.id).sort());
        expect((await jobs.listAll({ limit: 1000 })).nextCursor).toBeUndefined();

        for (const cursor of [
          "not a cursor!",
          "e30",
          Buffer.from('{"pk":"CKPT#x","sk":"CKPT"}').toString("base64url"),
        ]) {
          const error = await jobs.listAll({ cursor }).catch((e: unknown) => e);
          expect(error, cursor).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).details.map((d) => d.path)).toEqual(["cursor"]);
        }
        await expect(jobs.listAll({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
      });

      it("lists every open job of every simulation once across pages, and no finished one", async () => {
        const created = ["alpha", "beta", "gamma"].flatMap((simulation, s) =>
          Array.from({ length: 4 }, (_, i) =>
            runningJob({
              simulation,
              kind: i % 2 === 0 ? "snapshot" : "restore",
              startTime: at(s * 10 + i),
            }),
          ),
        );
        for (const job of shuffled(created)) await jobs.create(job);
        const [succeeded, failed, ...open] = created as [Job, Job, ...Job[]];
        await jobs.save(succeedJob(succeeded, NOW));
        await jobs.save(failJob(failed, { code: "Boom", message: "no" }, NOW));
        await checkpoints.create(pendingCheckpoint());

        const { items } = await readAllPages((cursor) => jobs.listAllOpen({ limit: 4, cursor }), 4);
        expect(items.map((j) => j.id).sort()).toEqual(open.map((j) => j.id).sort());
        expect(items.every((j) => j.status === "RUNNING")).toBe(true);
        expect((await jobs.listAllOpen()).nextCursor).toBeUndefined();

        // A job that finishes between two pages leaves the listing; the rest is still found.
        const first = await jobs.listAllOpen({ limit: 3 });
        const [gone] = first.items as [Job];
        await jobs.save(abortJob(gone, NOW));
        const { items: rest } = await readAllPages(
          (cursor) => jobs.listAllOpen({ limit: 3, cursor: cursor ?? first.nextCursor }),
          3,
        );
        expect([...first.items.slice(1), ...rest].map((j) => j.id).sort()).toEqual(
          open
            .map((j) => j.id)
            .filter((id) => id !== gone.id)
            .sort(),
        );

        for (const cursor of [
          "not a cursor!",
          "e30",
          Buffer.from('{"pk":"CKPT#x","sk":"CKPT","gsi2pk":"OPEN#a","gsi2sk":"x"}').toString(
            "base64url",
          ),
          // A cursor of the listing of every job is not a position in the open-jobs index.
          (await jobs.listAll({ limit: 1 })).nextCursor ?? "",
        ]) {
          const error = await jobs.listAllOpen({ cursor }).catch((e: unknown) => e);
          expect(error, cursor).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).details.map((d) => d.path)).toEqual(["cursor"]);
        }
        await expect(jobs.listAllOpen({ limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
      });
    });
  });
}
