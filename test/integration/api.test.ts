import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { SimsnapConflictError, SimsnapNotFoundError } from "../../packages/client/src/errors.ts";
import { sleep } from "../support/async.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";
import { openApiChecker, type SeenAnswer } from "../support/openapi-check.ts";

let stack: RunningStack;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** One request over real HTTP to the local stack's API. */
async function api(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${stack.info.apiEndpoint}${path}`, {
    method,
    headers: { "content-type": "application/json", ...options.headers },
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  seen.push({ method, path: new URL(path, "http://api").pathname, status: response.status, body });
  return { status: response.status, headers: response.headers, body };
}

/** Every answer of this file, checked against the served OpenAPI document at the end. */
const seen: SeenAnswer[] = [];

const errorOf = (answer: Answer) =>
  answer.body.error as { code: string; message: string; details: { path: string }[] };

async function allPages(query: string): Promise<{ pages: Checkpoint[][]; all: Checkpoint[] }> {
  const pages: Checkpoint[][] = [];
  let cursor: string | undefined;
  do {
    const answer = await api(
      "GET",
      `/checkpoints?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    pages.push(answer.body.items as Checkpoint[]);
    cursor = answer.body.nextCursor as string | undefined;
  } while (cursor);
  return { pages, all: pages.flat() };
}

const T0 = Date.UTC(2026, 0, 1);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** Twelve cataloged checkpoints of two simulations, with every attribute the filters look at. */
const seeded: Checkpoint[] = Array.from({ length: 12 }, (_, i) => ({
  id: `seed-${String(i).padStart(2, "0")}`,
  version: 1,
  simulation: i < 7 ? "seed-x" : "seed-y",
  provider: "simspaceweaver",
  run: i % 3 === 0 ? "run-1" : "run-2",
  name: `s-${String(12 - i).padStart(2, "0")}`,
  description: i % 4 === 0 ? "Before the UPGRADE" : "",
  tags: ["seeded", i % 2 === 0 ? "even" : "odd"],
  favorite: i % 5 === 0,
  state: i === 11 ? "PENDING" : i === 10 ? "FAILED" : "COMPLETE",
  trigger: "schedule",
  createdAt: at(i * 10),
  modifiedAt: at(i * 10),
  // seed-y is archived, so pruning (which keeps unarchived files while archiving is on) may remove it.
  archive:
    i >= 7
      ? {
          bucket: "archive",
          key: `seed-y/2026/01/seed-${i}.zip`,
          storageClass: "STANDARD_IA",
          archivedAt: at(i * 10),
        }
      : undefined,
}));

beforeAll(async () => {
  stack = await startLocalStack({
    simulations: ["alpha", "beta", "gamma"],
    file: {
      retention: {
        default: { keepLast: -1 },
        overrides: [{ match: "seed-y", policy: { keepLast: 1 } }],
      },
    },
  });
  for (const checkpoint of seeded) await stack.catalog.create(checkpoint);
  // StopSimulation only starts the stop (the simulator takes a second to reach STOPPED); the
  // snapshot refusal below names the status, so it must not race the earlier tests' speed.
  await stack.provider.stopSimulation("beta");
  const stopBy = Date.now() + 30_000;
  while ((await stack.provider.describeSimulation("beta")).status !== "STOPPED") {
    if (Date.now() > stopBy) throw new Error("beta did not reach STOPPED within 30 s");
    await sleep(100);
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("GET /healthz and GET /simulations", () => {
  it("answers the health check", async () => {
    expect(await api("GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("lists running and cataloged simulations with their checkpoint counts", async () => {
    const answer = await api("GET", "/simulations");
    expect(answer.status).toBe(200);
    const items = answer.body.items as { name: string }[];
    expect(items.map((s) => s.name)).toEqual(expect.arrayContaining(["alpha", "beta", "seed-x"]));
    expect(items.find((s) => s.name === "seed-y")).toEqual({
      name: "seed-y",
      status: "UNKNOWN",
      provider: "simspaceweaver",
      lastCheckpointAt: at(90),
      checkpoints: { PENDING: 1, COMPLETE: 3, FAILED: 1, DELETED: 0 },
      // Since the newest completed checkpoint; no schedule here, so neither fresh nor late.
      freshness: { ageSeconds: expect.any(Number) },
    });
    expect(items.find((s) => s.name === "alpha")).toMatchObject({ status: "STARTED" });
  });
});

describe("POST /simulations/{name}/snapshots, GET /jobs/{id}", () => {
  it("takes a snapshot: 202 with the job, the same job for the same Idempotency-Key, then a COMPLETE checkpoint", async () => {
    const headers = { "Idempotency-Key": "api-test-1" };
    const body = { name: "by hand", description: "from the API test", tags: ["api"] };
    const first = await api("POST", "/simulations/alpha/snapshots", { body, headers });
    expect(first).toMatchObject({
      status: 202,
      body: { kind: "snapshot", simulation: "alpha", status: "RUNNING" },
    });
    const jobId = first.body.id as string;
    expect(first.headers.get("location")).toBe(`/jobs/${jobId}`);
    const again = await api("POST", "/simulations/alpha/snapshots", { body, headers });
    expect(again).toMatchObject({ status: 202, body: { id: jobId } });

    const job = await stack.client.jobs.wait(jobId, { intervalMs: 200, timeoutMs: 30_000 });
    expect(job).toMatchObject({ status: "SUCCEEDED", stats: { objects: 1 } });
    const polled = await api("GET", `/jobs/${jobId}`);
    expect(polled).toMatchObject({ status: 200, body: { id: jobId, status: "SUCCEEDED" } });
    expect(Object.keys(polled.body).sort()).toEqual([
      "aborted",
      "attempts",
      "checkpointId",
      "endTime",
      "id",
      "kind",
      "simulation",
      "startTime",
      "stats",
      "status",
    ]);

    const checkpoint = await api("GET", `/checkpoints/${String(job.checkpointId)}`);
    expect(checkpoint).toMatchObject({
      status: 200,
      body: {
        state: "COMPLETE",
        name: "by hand",
        description: "from the API test",
        tags: ["api"],
        trigger: "manual",
        location: { bucket: "simsnap-snapshots" },
      },
    });
    const snapshots = (await api("GET", "/checkpoints?simulation=alpha&tag=api")).body.items;
    expect(snapshots).toHaveLength(1);
  }, 60_000);

  it("refuses bad input (400), unknown simulations (404) and stopped ones (409)", async () => {
    const badName = await api("POST", "/simulations/not%2Fvalid/snapshots");
    expect(badName.status).toBe(400);
    expect(errorOf(badName).details).toEqual([{ path: "name", message: 'must not contain "/"' }]);

    const badBody = await api("POST", "/simulations/alpha/snapshots", {
      body: { name: "x", colour: "red" },
    });
    expect(badBody.status).toBe(400);
    expect(errorOf(badBody).details).toEqual([
      {
        path: "colour",
        message: "is not a field of a snapshot request; use name, description, tags or stop",
      },
    ]);
    const notJson = await api("POST", "/simulations/alpha/snapshots", { body: "{oops" });
    expect(notJson.status).toBe(400);
    const badKey = await api("POST", "/simulations/alpha/snapshots", {
      headers: { "Idempotency-Key": "has spaces" },
    });
    expect(errorOf(badKey).details.map((d) => d.path)).toEqual(["idempotency-key"]);

    const ghost = await api("POST", "/simulations/ghost/snapshots");
    expect(ghost).toMatchObject({ status: 404, body: { error: { code: "NotFound" } } });
    const stopped = await api("POST", "/simulations/beta/snapshots");
    expect(stopped).toMatchObject({ status: 409, body: { error: { code: "Conflict" } } });
    expect(errorOf(stopped).message).toContain("beta is STOPPED");
  });
});

describe("simulation names with spaces and unicode", () => {
  it("reads them from paths and queries; SimSpace Weaver's stricter rule only means not found", async () => {
    // A name simsnap allows (an NVIDIA Air one), which SimSpace Weaver could not have: its
    // provider is skipped, not allowed to refuse the name for every platform.
    const missing = await api("POST", "/simulations/My%20First%20Simulation/snapshots");
    expect(missing).toMatchObject({
      status: 404,
      body: {
        error: { code: "NotFound", message: "Simulation My First Simulation does not exist" },
      },
    });
    const tokyo = encodeURIComponent("東京 Überwachung 🌊");
    expect(await api("POST", `/simulations/${tokyo}/snapshots`)).toMatchObject({
      status: 404,
      body: { error: { message: "Simulation 東京 Überwachung 🌊 does not exist" } },
    });
    expect(await api("GET", `/checkpoints?simulation=${tokyo}`)).toMatchObject({
      status: 200,
      body: { items: [] },
    });
    expect(await api("GET", "/jobs?simulation=My%20First%20Simulation")).toMatchObject({
      status: 200,
      body: { items: [] },
    });
  });
});

describe("GET /checkpoints", () => {
  it("pages through filtered checkpoints in name order", async () => {
    const { pages, all } = await allPages("tag=seeded&ordering=name&limit=5");
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(all.map((c) => c.name)).toEqual(
      Array.from({ length: 12 }, (_, i) => `s-${String(i + 1).padStart(2, "0")}`),
    );
  });

  it("orders by several keys across pages: favorites first, then oldest", async () => {
    const { all } = await allPages(
      "tag=seeded&state=COMPLETE&ordering=-favorite,createdAt&limit=3",
    );
    const complete = seeded.filter((c) => c.state === "COMPLETE");
    const expected = [
      ...complete.filter((c) => c.favorite),
      ...complete.filter((c) => !c.favorite),
    ].map((c) => c.id);
    expect(all.map((c) => c.id)).toEqual(expected);
  });

  it("combines simulation, run, tag, time window and search filters", async () => {
    const window = await allPages(
      `simulation=seed-x&createdAfter=${at(20)}&createdBefore=${at(60)}&ordering=-createdAt&limit=2`,
    );
    expect(window.all.map((c) => c.id)).toEqual(["seed-05", "seed-04", "seed-03", "seed-02"]);
    const run = await allPages("tag=seeded&run=run-1&tag=even&ordering=createdAt");
    expect(run.all.map((c) => c.id)).toEqual(["seed-00", "seed-06"]);
    const search = await allPages("search=upgrade&ordering=createdAt");
    expect(search.all.map((c) => c.id)).toEqual(["seed-00", "seed-04", "seed-08"]);
    const states = await allPages("tag=seeded&state=PENDING,FAILED&ordering=state");
    expect(states.all.map((c) => c.state)).toEqual(["PENDING", "FAILED"]);
    const favorites = await allPages("tag=seeded&favorite=true&ordering=createdAt");
    expect(favorites.all.map((c) => c.id)).toEqual(["seed-00", "seed-05", "seed-10"]);
  });

  it("lists newest first by default", async () => {
    const { all } = await allPages("tag=seeded&limit=4");
    expect(all.map((c) => c.id)).toEqual(seeded.map((c) => c.id).reverse());
  });

  it("refuses bad parameters and a cursor of another query, naming each field", async () => {
    const bad = await api(
      "GET",
      "/checkpoints?limit=0&state=DONE&ordering=size&favorite=yes&colour=red",
    );
    expect(bad.status).toBe(400);
    expect(
      errorOf(bad)
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(["colour", "favorite", "limit", "ordering", "state.0"]);
    const cursor = (await api("GET", "/checkpoints?tag=seeded&limit=2")).body.nextCursor as string;
    const foreign = await api("GET", `/checkpoints?tag=even&limit=2&cursor=${cursor}`);
    expect(foreign.status).toBe(400);
    expect(errorOf(foreign).details).toEqual([
      { path: "cursor", message: "belongs to a listing with other filters or another ordering" },
    ]);
    const garbage = await api("GET", "/checkpoints?cursor=%24%24%24");
    expect(errorOf(garbage).details.map((d) => d.path)).toEqual(["cursor"]);
  });

  it("is what the client's iterator walks, page after page", async () => {
    const names: string[] = [];
    for await (const checkpoint of stack.client.checkpoints.list({
      tag: ["seeded", "odd"],
      ordering: "name",
      limit: 2,
    })) {
      names.push(checkpoint.name);
    }
    expect(names).toEqual(["s-01", "s-03", "s-05", "s-07", "s-09", "s-11"]);
  });
});

describe("GET, PATCH and DELETE /checkpoints/{id}", () => {
  it("reads, renames, tags and favorites a checkpoint, honouring If-Match", async () => {
    const read = await api("GET", "/checkpoints/seed-01");
    expect(read).toMatchObject({ status: 200, body: { id: "seed-01", version: 1 } });
    expect(read.headers.get("etag")).toBe('"1"');

    const renamed = await api("PATCH", "/checkpoints/seed-01", {
      body: { name: "renamed", tags: ["seeded", "odd", "kept"], favorite: true },
      headers: { "If-Match": '"1"' },
    });
    expect(renamed).toMatchObject({
      status: 200,
      body: { name: "renamed", tags: ["seeded", "odd", "kept"], favorite: true, version: 2 },
    });
    expect(renamed.headers.get("etag")).toBe('"2"');
    const stale = await api("PATCH", "/checkpoints/seed-01", {
      body: { name: "lost update" },
      headers: { "If-Match": '"1"' },
    });
    expect(stale).toMatchObject({
      status: 409,
      body: { error: { code: "ConcurrentModification" } },
    });
    expect((await api("GET", "/checkpoints/seed-01")).body.name).toBe("renamed");
  });

  it("refuses fields users cannot change (400 naming each), unknown ids (404) and DELETED ones (409)", async () => {
    const bad = await api("PATCH", "/checkpoints/seed-02", {
      body: { state: "DELETED", size: 1, favorite: "yes" },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).details).toEqual([
      { path: "favorite", message: "Invalid input: expected boolean, received string" },
      { path: "state", message: "cannot be changed; only name, description, tags, favorite can" },
      { path: "size", message: "cannot be changed; only name, description, tags, favorite can" },
    ]);
    expect((await api("GET", "/checkpoints/nope")).status).toBe(404);
    expect((await api("PATCH", "/checkpoints/nope", { body: { name: "x" } })).status).toBe(404);
    expect((await api("DELETE", "/checkpoints/nope")).status).toBe(404);
  });

  it("deletes a COMPLETE checkpoint's file and marks it DELETED; a repeat answers the same", async () => {
    const job = await stack.client.simulations.snapshot("alpha", { name: "to delete" });
    const done = await stack.client.jobs.wait(job.id, { intervalMs: 200, timeoutMs: 30_000 });
    const id = String(done.checkpointId);
    const before = await stack.client.checkpoints.get(id);
    if (!before.location) throw new Error("no file");
    expect(await stack.objects.head(before.location)).toBeDefined();

    const deleted = await api("DELETE", `/checkpoints/${id}`);
    expect(deleted).toMatchObject({ status: 200, body: { id, state: "DELETED" } });
    expect(await stack.objects.head(before.location)).toBeUndefined();
    expect(await api("DELETE", `/checkpoints/${id}`)).toMatchObject({
      status: 200,
      body: { state: "DELETED", version: deleted.body.version },
    });
    const edit = await api("PATCH", `/checkpoints/${id}`, { body: { name: "too late" } });
    expect(edit).toMatchObject({ status: 409, body: { error: { code: "IllegalTransition" } } });
  }, 60_000);

  it("refuses to delete PENDING and FAILED checkpoints, and a favorite unless forced (409)", async () => {
    for (const id of ["seed-11", "seed-10"]) {
      const answer = await api("DELETE", `/checkpoints/${id}?force=true`);
      expect(answer).toMatchObject({ status: 409, body: { error: { code: "IllegalTransition" } } });
    }
    const favorite = await api("DELETE", "/checkpoints/seed-05");
    expect(favorite).toMatchObject({ status: 409, body: { error: { code: "Conflict" } } });
    expect(errorOf(favorite).message).toContain("force=true");
    expect(await api("DELETE", "/checkpoints/seed-05?force=true")).toMatchObject({
      status: 200,
      body: { state: "DELETED" },
    });
    expect((await api("DELETE", "/checkpoints/seed-03?force=sure")).status).toBe(400);
  });

  it("surfaces the same refusals as typed client errors", async () => {
    await expect(stack.client.checkpoints.get("nope")).rejects.toBeInstanceOf(SimsnapNotFoundError);
    await expect(stack.client.checkpoints.delete("seed-11")).rejects.toBeInstanceOf(
      SimsnapConflictError,
    );
  });
});

describe("GET /jobs", () => {
  it("lists jobs by simulation, kind and status, and across every simulation", async () => {
    const job = await stack.client.simulations.snapshot("alpha", { name: "listed" });
    await stack.client.jobs.wait(job.id, { intervalMs: 200, timeoutMs: 30_000 });

    const filtered = await api("GET", "/jobs?simulation=alpha&kind=snapshot&status=SUCCEEDED");
    expect(filtered.status).toBe(200);
    const ids = (filtered.body.items as { id: string }[]).map((j) => j.id);
    expect(ids[0]).toBe(job.id);
    const everywhere: string[] = [];
    for await (const listed of stack.client.jobs.list({ limit: 1 })) everywhere.push(listed.id);
    expect(everywhere).toEqual(expect.arrayContaining(ids));
    expect((await api("GET", "/jobs?status=RUNNING,FAILED&kind=restore")).status).toBe(200);
  }, 60_000);

  it("refuses bad filters (400) and unknown jobs (404)", async () => {
    const bad = await api("GET", "/jobs?kind=backup&limit=5000");
    expect(bad.status).toBe(400);
    expect(errorOf(bad).details.map((d) => d.path)).toEqual(["kind.0", "limit"]);
    expect(await api("GET", "/jobs/nope")).toMatchObject({
      status: 404,
      body: { error: { code: "NotFound", message: "Job nope does not exist" } },
    });
  });
});

describe("POST /simulations/{name}/stop", () => {
  it("stops a simulation after a final snapshot: 202 with the job, then STOPPED", async () => {
    const headers = { "Idempotency-Key": "stop-gamma" };
    const answer = await api("POST", "/simulations/gamma/stop", {
      body: { reason: "end of the experiment" },
      headers,
    });
    expect(answer).toMatchObject({
      status: 202,
      body: { kind: "stop", simulation: "gamma", status: "RUNNING" },
    });
    const again = await api("POST", "/simulations/gamma/stop", { body: {}, headers });
    expect(again.body.id).toBe(answer.body.id);

    const job = await stack.client.jobs.wait(answer.body.id as string, {
      intervalMs: 200,
      timeoutMs: 45_000,
    });
    expect(job).toMatchObject({ status: "SUCCEEDED" });
    expect(job.steps?.map((step) => [step.name, step.status])).toEqual([
      ["final-snapshot", "SUCCEEDED"],
      ["stop-simulation", "SUCCEEDED"],
    ]);
    expect((await stack.client.checkpoints.get(String(job.checkpointId))).state).toBe("COMPLETE");
    const gamma = (await stack.client.simulations.list()).find((s) => s.name === "gamma");
    // StopSimulation was accepted; the simulator takes a moment to finish stopping.
    expect(["STOPPING", "STOPPED"]).toContain(gamma?.status);
  }, 60_000);

  it("refuses bad input (400) and an unknown simulation (404), as a snapshot does", async () => {
    const bad = await api("POST", "/simulations/gamma/stop", { body: { snapshot: "yes" } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).details.map((d) => d.path)).toEqual(["snapshot"]);
    const ghost = await api("POST", "/simulations/ghost/stop", { body: { snapshot: false } });
    expect(ghost).toMatchObject({ status: 404, body: { error: { code: "NotFound" } } });
    expect(errorOf(ghost).message).toBe("Simulation ghost does not exist");
    const snapshot = await api("POST", "/simulations/ghost/snapshots", { body: {} });
    expect(snapshot.status).toBe(ghost.status);
  });
});

describe("POST /checkpoints/{id}/restore", () => {
  it("restores a checkpoint into a new simulation: 202 with the job, then the simulation runs", async () => {
    const snapshot = await stack.client.simulations.snapshot("alpha", { name: "to restore" });
    const done = await stack.client.jobs.wait(snapshot.id, { intervalMs: 200, timeoutMs: 30_000 });
    const answer = await api("POST", `/checkpoints/${String(done.checkpointId)}/restore`, {
      body: { simulationName: "alpha-restored", maximumDuration: "2h" },
      headers: { "Idempotency-Key": "restore-1" },
    });
    expect(answer).toMatchObject({
      status: 202,
      body: { kind: "restore", restore: { target: "alpha-restored" } },
    });
    const job = await stack.client.jobs.wait(answer.body.id as string, {
      intervalMs: 200,
      timeoutMs: 45_000,
    });
    expect(job).toMatchObject({ status: "SUCCEEDED", restore: { target: "alpha-restored" } });
    const restored = (await stack.client.simulations.list()).find(
      (s) => s.name === "alpha-restored",
    );
    expect(restored?.status).toBe("STARTED");
  }, 90_000);

  it("refuses bad input (400), unknown checkpoints (404), PENDING ones and taken names (409)", async () => {
    const bad = await api("POST", "/checkpoints/seed-00/restore", {
      body: { maximumDuration: "forever", target: "x" },
    });
    expect(bad.status).toBe(400);
    expect(new Set(errorOf(bad).details.map((d) => d.path))).toEqual(
      new Set(["maximumDuration", "target"]),
    );
    expect((await api("POST", "/checkpoints/nope/restore")).status).toBe(404);
    const pending = await api("POST", "/checkpoints/seed-11/restore");
    expect(pending).toMatchObject({ status: 409, body: { error: { code: "Conflict" } } });
    const [complete] = (
      await stack.client.checkpoints.page({ simulation: "alpha", state: "COMPLETE" })
    ).items;
    const taken = await api("POST", `/checkpoints/${String(complete?.id)}/restore`, {
      body: { simulationName: "alpha" },
    });
    expect(taken).toMatchObject({ status: 409 });
    expect(errorOf(taken).message).toContain("alpha already exists");
  });
});

describe("POST /prune", () => {
  it("plans by default, refusing to remove too much unless forced, and changes nothing", async () => {
    const plan = await api("POST", "/prune", { body: { simulation: "seed-y" } });
    expect(plan).toMatchObject({ status: 200, body: { dryRun: true } });
    const [refused] = plan.body.plans as { refused: string | null; remove: unknown[] }[];
    expect(refused?.refused).toContain("would remove 2 of 3 COMPLETE checkpoints");

    const forced = await api("POST", "/prune", { body: { simulation: "seed-y", force: true } });
    expect(forced.body.plans).toEqual([
      {
        simulation: "seed-y",
        keep: [{ id: "seed-09", reasons: ["last snapshot"] }],
        remove: [{ id: "seed-08" }, { id: "seed-07" }],
        refused: null,
      },
    ]);
    expect((await stack.client.checkpoints.get("seed-08")).state).toBe("COMPLETE");
  });

  it("prunes on request: 202 with one job per simulation, then the plan applied", async () => {
    const answer = await api("POST", "/prune", {
      body: { simulation: "seed-y", dryRun: false, force: true },
      headers: { "Idempotency-Key": "prune-1" },
    });
    expect(answer).toMatchObject({
      status: 202,
      body: {
        dryRun: false,
        runId: "manual/prune-1",
        jobs: [{ kind: "prune", simulation: "seed-y" }],
      },
    });
    const [job] = answer.body.jobs as { id: string }[];
    const done = await stack.client.jobs.wait(String(job?.id), {
      intervalMs: 200,
      timeoutMs: 30_000,
    });
    expect(done).toMatchObject({ status: "SUCCEEDED", stats: { objects: 2 } });
    expect((await stack.client.checkpoints.get("seed-08")).state).toBe("DELETED");
    expect((await stack.client.checkpoints.get("seed-09")).state).toBe("COMPLETE");
  }, 60_000);

  it("refuses bad input (400) and simulations without checkpoints (404)", async () => {
    const bad = await api("POST", "/prune", { body: { dryRun: "false", everything: true } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).details.map((d) => d.path)).toEqual(["dryRun", "everything"]);
    expect(await api("POST", "/prune", { body: { simulation: "ghost" } })).toMatchObject({
      status: 404,
      body: { error: { message: "Simulation ghost has no checkpoints in the catalog" } },
    });
  });
});

describe("routing", () => {
  it("answers unknown routes 404 and wrong methods 405", async () => {
    expect((await api("GET", "/nowhere")).status).toBe(404);
    const wrong = await api("PUT", "/checkpoints/seed-00");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PATCH, DELETE");
  });
});

describe("GET /openapi.json", () => {
  // Last in the file: it checks every answer the tests above received over HTTP.
  it("serves a valid OpenAPI 3.1 document that every answer above matches", async () => {
    const answer = await api("GET", "/openapi.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await new Validator().validate(answer.body)).valid).toBe(true);
    const checker = openApiChecker(answer.body);
    const statuses = new Set(seen.map((s) => checker.check(s)).map((p) => p.response));
    expect(seen.length).toBeGreaterThan(40);
    expect(statuses).toEqual(
      new Set(["200", "202", "400", "404", "409", "RouteNotFound", "MethodNotAllowed"]),
    );
  });
});
