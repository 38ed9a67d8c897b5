import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../lib/domain/errors.ts";
import { PROVIDER_NAMES } from "../../../lib/domain/providers.ts";
import { queueUrlEnv } from "../../../lib/topology.ts";
import { catalog } from "../../../lib/wiring/catalog.ts";
import { deferred, once, restrict } from "../../../lib/wiring/declared.ts";
import { eventPublisher } from "../../../lib/wiring/events.ts";
import { archiveStore, fileObjects, snapshotObjects } from "../../../lib/wiring/objects.ts";
import { airProvider } from "../../../lib/wiring/air.ts";
import { providerCapabilities } from "../../../lib/wiring/capabilities.ts";
import { providerDirectory, simulationProvider } from "../../../lib/wiring/provider.ts";
import { queue, redelivery } from "../../../lib/wiring/queues.ts";
import { settingsFor } from "../../../lib/wiring/settings.ts";

// Nothing here reaches a server: refused calls reject before any request, and building a client
// opens no connection.
beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    SIMSNAP_TABLE: "catalog",
    SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
    SIMSNAP_ARCHIVE_BUCKET: "archive",
    SIMSNAP_RETENTION: '{"default":{"keepLast":3}}',
    SIMSNAP_AIR_ENDPOINT: "http://127.0.0.1:1/api/v3/",
    SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN",
    [queueUrlEnv("status-checks")]: "http://127.0.0.1:1/queue/status-checks",
  });
});

const undeclared = (name: string, what: string) =>
  expect.objectContaining({
    name: "ConfigError",
    message: `${name} uses ${what}, which its needs in lib/topology.ts do not declare`,
  });

describe("once", () => {
  it("builds nothing before the first call and the same value ever after", () => {
    let builds = 0;
    const client = once(() => ({ built: ++builds }));
    expect(builds).toBe(0);
    expect(client()).toBe(client());
    expect(builds).toBe(1);
  });
});

describe("restrict", () => {
  it("binds the allowed methods to the target and rejects the others without calling them", async () => {
    const calls: string[] = [];
    const target = {
      prefix: "store",
      async read(key: string) {
        calls.push(`read ${key}`);
        return `${this.prefix}/${key}`;
      },
      async write(key: string) {
        calls.push(`write ${key}`);
      },
    };
    const view = restrict(target, { read: true, write: false }, (method) => new Error(method));
    await expect(view.read("a")).resolves.toBe("store/a");
    await expect(view.write("b")).rejects.toThrow("write");
    expect(calls).toEqual(["read a"]);
  });
});

describe("deferred", () => {
  it("loads the adapter on the first call only, then calls and streams through it", async () => {
    let loads = 0;
    const adapter = {
      prefix: "store",
      async read(key: string) {
        return `${this.prefix}/${key}`;
      },
      async *list(from: number) {
        yield from;
        yield from + 1;
      },
    };
    const load = once(async () => {
      loads += 1;
      return adapter;
    });
    const standIn = deferred(load, { read: "call", list: "iterate" });
    const listing = standIn.list(7);
    expect(loads).toBe(0);
    await expect(standIn.read("a")).resolves.toBe("store/a");
    const listed: number[] = [];
    for await (const value of listing) listed.push(value);
    expect(listed).toEqual([7, 8]);
    await expect(standIn.read("b")).resolves.toBe("store/b");
    expect(loads).toBe(1);
  });

  it("rejects every call while the adapter cannot be loaded", async () => {
    const standIn = deferred<{ send(): Promise<void> }>(
      () => Promise.reject(new Error("no chunk")),
      { send: "call" },
    );
    await expect(standIn.send()).rejects.toThrow("no chunk");
  });
});

describe("builders", () => {
  it("refuse an adapter the function does not declare, naming the function", () => {
    expect(() => eventPublisher("plan-snapshots")).toThrow(
      undeclared("plan-snapshots", "the simsnap event bus"),
    );
    expect(() => simulationProvider("complete-snapshot")).toThrow(
      undeclared("complete-snapshot", "the simulation provider"),
    );
    expect(() => snapshotObjects("sweep-jobs")).toThrow(undeclared("sweep-jobs", "snapshot files"));
    expect(() => archiveStore("take-snapshot")).toThrow(ConfigError);
    expect(() => queue("take-snapshot", "restore-steps")).toThrow(
      undeclared("take-snapshot", "the queue restore-steps"),
    );
    expect(() => redelivery("plan-snapshots")).toThrow(ConfigError);
  });

  it("give the files bucket only to functions declaring files access, each method as declared", async () => {
    expect(() => fileObjects("plan-snapshots")).toThrow(
      undeclared("plan-snapshots", "the files bucket"),
    );
    // discover-files reads: listing is allowed (it builds a request), deleting and writing are not.
    const reader = fileObjects("discover-files");
    expect(typeof reader.list).toBe("function");
    await expect(reader.deleteMany("training", ["a"])).rejects.toThrow(
      undeclared("discover-files", "files delete access (deleteMany)"),
    );
    await expect(reader.put({ bucket: "training", key: "a" }, "x")).rejects.toThrow(
      undeclared("discover-files", "files write access (put)"),
    );
  });

  it("resolve a checkpoint of the files provider in every function, calling nothing", async () => {
    const files = providerDirectory("finish-stop").byName("files");
    expect(files.capabilities).toMatchObject({
      checkpointStorage: "object-set",
      snapshotWhileRunning: false,
      restoreInto: { newSimulation: false, sameSimulation: false, prefix: true },
    });
    await expect(files.listSimulations()).resolves.toEqual([]);
    await expect(files.describeSimulation("bert-demo")).rejects.toMatchObject({
      code: "ResourceNotFoundException",
    });
    await expect(
      files.createSnapshot("bert-demo", { bucket: "b", prefix: "p" }),
    ).rejects.toMatchObject({
      code: "UnsupportedOperation",
    });
    expect(providerCapabilities("archive-checkpoint").byName("files").capabilities.archivable).toBe(
      true,
    );
  });

  it("share one client per port across the functions of a process", () => {
    expect(eventPublisher("api")).toBe(eventPublisher("prune"));
    expect(archiveStore("api")).toBe(archiveStore("prune-archives"));
    expect(redelivery("take-snapshot")).toBe(redelivery("check-snapshot"));
  });

  it("fail loudly on a declared queue whose URL the environment lacks", () => {
    expect(() => queue("take-snapshot", "status-checks")).not.toThrow();
    expect(() => queue("take-snapshot", "snapshot-requests")).toThrow(
      /Missing environment variable SIMSNAP_QUEUE_SNAPSHOT_REQUESTS_URL/,
    );
  });

  it("give a provider only the SimSpace Weaver operations the function declares", async () => {
    const provider = simulationProvider("check-snapshot");
    expect(provider.name).toBe("simspaceweaver");
    expect(typeof provider.describeSimulation).toBe("function");
    await expect(provider.startSimulation({ name: "x", roleArn: "r" })).rejects.toThrow(
      undeclared("check-snapshot", "SimSpace Weaver StartSimulation"),
    );
    await expect(provider.stopSimulation("x")).rejects.toThrow(
      undeclared("check-snapshot", "SimSpace Weaver StopSimulation"),
    );
  });

  it("give NVIDIA Air only to functions declaring Air operations, restricted to those", async () => {
    expect(airProvider("take-snapshot")).toBeUndefined();
    expect(airProvider("finish-stop")).toBeUndefined();
    const air = airProvider("prune");
    expect(air?.name).toBe("air");
    expect(air?.capabilities.checkpointStorage).toBe("platform");
    expect(typeof air?.checkpoints?.delete).toBe("function");
    await expect(air?.listSimulations()).rejects.toThrow(
      undeclared("prune", "NVIDIA Air listSimulations"),
    );
    await expect(air?.checkpoints?.update("id", { favorite: true })).rejects.toThrow(
      undeclared("prune", "NVIDIA Air checkpoints.update"),
    );
    await expect(air?.stopWithCheckpoint?.("lab")).rejects.toThrow(
      undeclared("prune", "NVIDIA Air stopWithCheckpoint"),
    );
  });

  it("list SimSpace Weaver by capabilities alone beside Air for a function that calls only Air", async () => {
    const directory = providerDirectory("prune");
    expect(directory.all().map((p) => p.name)).toEqual(["simspaceweaver", "air", "files"]);
    await expect(directory.byName("simspaceweaver").listSimulations()).rejects.toThrow(
      undeclared("prune", "simspaceweaver listSimulations"),
    );
    expect(
      providerDirectory("finish-stop")
        .all()
        .map((p) => p.name),
    ).toEqual(["simspaceweaver", "files"]);
    expect(
      providerDirectory("api")
        .all()
        .map((p) => p.name),
    ).toEqual(["simspaceweaver", "air", "files"]);
  });

  it("keep SimSpace Weaver's name rule on every view of it, restricted or capabilities-only", () => {
    // Without it, locating an NVIDIA Air "My First Simulation" would ask SimSpace Weaver, whose
    // boundary refuses the name for every platform.
    const views = [
      simulationProvider("check-snapshot"),
      providerDirectory("api").byName("simspaceweaver"),
      providerDirectory("prune").byName("simspaceweaver"),
      providerCapabilities("archive-checkpoint").byName("simspaceweaver"),
    ];
    for (const view of views) {
      expect(view.simulationNameRefusal?.("My First Simulation")).toMatch(/must match/);
      expect(view.simulationNameRefusal?.("ocean-currents")).toBeUndefined();
    }
    expect(providerDirectory("api").byName("air").simulationNameRefusal).toBeUndefined();
  });

  it("answer every known platform's capabilities to a function that calls none", async () => {
    const capabilities = providerCapabilities("archive-checkpoint");
    // The names configuration and selectors accept are the adapters' own.
    expect(capabilities.all().map((p) => p.name)).toEqual([...PROVIDER_NAMES]);
    expect(capabilities.byName("air").capabilities.archivable).toBe(false);
    expect(capabilities.byName("simspaceweaver").capabilities.archivable).toBe(true);
    await expect(capabilities.byName("air").describeSimulation("lab")).rejects.toThrow(
      undeclared("archive-checkpoint", "air describeSimulation"),
    );
  });

  it("keep a reading function's catalog from writing, and every function from undeclared scans", async () => {
    const reader = catalog("plan-snapshots");
    await expect(reader.checkpoints.create({} as never)).rejects.toThrow(
      undeclared("plan-snapshots", 'checkpoints.create (catalog: "write")'),
    );
    await expect(reader.jobs.save({} as never)).rejects.toThrow(ConfigError);
    await expect(catalog("api").jobs.listAllOpen()).rejects.toThrow(
      undeclared("api", "jobs.listAllOpen (a scan)"),
    );
    await expect(catalog("sweep-jobs").jobs.listAll()).rejects.toThrow(
      undeclared("sweep-jobs", "jobs.listAll (a scan)"),
    );
    await expect(catalog("take-snapshot").jobs.listAll()).rejects.toThrow(ConfigError);
  });
});

describe("settingsFor", () => {
  it("reads a declared setting, and throws on one another function declares", () => {
    expect(settingsFor("prune").SIMSNAP_RETENTION.default).toMatchObject({ keepLast: 3 });
    expect(settingsFor("prune").SIMSNAP_ARCHIVE_BUCKET).toBe("archive");
    expect(() => settingsFor("take-snapshot").SIMSNAP_RETENTION).toThrow(
      undeclared("take-snapshot", "the setting SIMSNAP_RETENTION"),
    );
    expect(() => settingsFor("sweep-jobs").SIMSNAP_ARCHIVE_BUCKET).toThrow(ConfigError);
  });

  it("gives every function the table and where its snapshots are", () => {
    expect(settingsFor("plan-snapshots")).toMatchObject({
      SIMSNAP_TABLE: "catalog",
      SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
      SIMSNAP_SNAPSHOT_PREFIX: "simsnap",
    });
  });
});
