import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  startAirServer,
  type AirCheckpointJson,
  type AirPage,
  type AirRequestRecord,
  type AirRunJson,
  type AirServer,
  type AirServerOptions,
  type AirSimulationJson,
} from "../../lib/local/air/server.ts";

const ALL_SCOPES = [
  "air:simulation_read",
  "air:simulation_edit",
  "air:simulation_start_stop",
  "air:simulation_create",
  "air:simulation_delete",
] as const;

const TOKENS: AirServerOptions["tokens"] = {
  all: ALL_SCOPES,
  "read-only": ["air:simulation_read"],
  "no-scopes": [],
};

let air: AirServer | undefined;

afterEach(async () => {
  await air?.close();
  air = undefined;
});

async function start(options: Partial<AirServerOptions> = {}): Promise<AirServer> {
  air = await startAirServer({ tokens: TOKENS, delays: 0, ...options });
  return air;
}

interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** One request to the server over real HTTP, as a client would send it. */
async function call<T = unknown>(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<Reply<T>> {
  const server = air as AirServer;
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? "all" : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const url = path.startsWith("http") ? path : `${server.baseUrl}${path}`;
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (text === "" ? undefined : JSON.parse(text)) as T,
  };
}

const get = <T>(path: string, token?: string | null) => call<T>("GET", path, { token });

/** Every item of a list endpoint, following `next` as a client must. */
async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = path;
  while (next !== null) {
    const page: Reply<AirPage<T>> = await get<AirPage<T>>(next);
    expect(page.status).toBe(200);
    items.push(...page.body.results);
    next = page.body.next;
  }
  return items;
}

const state = async (id: string): Promise<string> =>
  (await get<AirSimulationJson>(`simulations/${id}/`)).body.state;

const checkpointsOf = async (simulationId: string): Promise<AirCheckpointJson[]> =>
  all<AirCheckpointJson>(`simulations/runs/checkpoints/?simulation=${simulationId}&limit=50`);

const at = (minute: number): Date => new Date(Date.UTC(2026, 10, 1, 9, minute));

describe("the documented shapes", () => {
  it("answers a simulation, its runs and its checkpoints field by field", async () => {
    await start({
      simulations: [
        {
          name: "fabric",
          state: "ACTIVE",
          metadata: '{"team":"net"}',
          checkpoints: [{ name: "baseline", favorite: true, created: at(1), metadata: { a: 1 } }],
        },
      ],
    });
    const [seeded] = (air as AirServer).simulations();
    const sim = await get<AirSimulationJson>(`simulations/${seeded?.id}/`);
    expect(sim.status).toBe(200);
    expect(sim.headers.get("content-type")).toBe("application/json");
    expect(Object.keys(sim.body)).toEqual([
      "id",
      "created",
      "modified",
      "name",
      "state",
      "creator",
      "auto_oob_enabled",
      "enable_dhcp",
      "sleep_at",
      "expires_at",
      "documentation",
      "complete_checkpoint_count",
      "metadata",
    ]);
    expect(sim.body).toMatchObject({
      name: "fabric",
      state: "ACTIVE",
      sleep_at: null,
      expires_at: null,
      complete_checkpoint_count: 1,
      metadata: '{"team":"net"}',
    });

    const [checkpoint] = await checkpointsOf(sim.body.id);
    expect(Object.keys(checkpoint ?? {})).toEqual([
      "id",
      "run",
      "state",
      "metadata",
      "created",
      "modified",
      "name",
      "favorite",
    ]);
    expect(checkpoint).toMatchObject({
      state: "COMPLETE",
      name: "baseline",
      favorite: true,
      metadata: { a: 1 },
      created: at(1).toISOString(),
    });
    const one = await get<AirCheckpointJson>(`simulations/runs/checkpoints/${checkpoint?.id}/`);
    expect(one.body).toEqual(checkpoint);

    const run = await get<AirRunJson>(`simulations/runs/${checkpoint?.run}/`);
    expect(Object.keys(run.body)).toEqual([
      "id",
      "name",
      "simulation",
      "started_from",
      "started_at",
      "ended_at",
      "created",
      "modified",
    ]);
    expect(run.body).toMatchObject({ simulation: sim.body.id, started_from: null });
    expect(run.body.ended_at).not.toBeNull();

    const runs = await all<AirRunJson>(`simulations/runs/?simulation=${sim.body.id}`);
    const ongoing = runs.find((r) => r.ended_at === null);
    expect(ongoing?.started_from).toBe(checkpoint?.id);
  });

  it("finds a simulation by name and lists simulations in a chosen order", async () => {
    await start({
      simulations: [
        { name: "b", created: at(1) },
        { name: "a", created: at(2), state: "ACTIVE" },
      ],
    });
    const byName = await get<AirPage<AirSimulationJson>>("simulations/?name=a");
    expect(byName.body.count).toBe(1);
    expect(byName.body.results[0]?.state).toBe("ACTIVE");
    const byState = await get<AirPage<AirSimulationJson>>("simulations/?state=INACTIVE");
    expect(byState.body.results.map((s) => s.name)).toEqual(["b"]);
    const ordered = await get<AirPage<AirSimulationJson>>("simulations/?ordering=-name");
    expect(ordered.body.results.map((s) => s.name)).toEqual(["b", "a"]);
    const byDefault = await get<AirPage<AirSimulationJson>>("simulations/");
    expect(byDefault.body.results.map((s) => s.name)).toEqual(["b", "a"]);
  });
});

describe("paging", () => {
  async function withCheckpoints(count: number): Promise<string> {
    await start({
      simulations: [
        {
          name: "paged",
          checkpoints: Array.from({ length: count }, (_, i) => ({
            name: `cp-${i}`,
            created: at(i),
          })),
        },
      ],
    });
    return (air as AirServer).simulations()[0]?.id ?? "";
  }

  it("pages with limit/offset and absolute next/previous URLs that keep the filters", async () => {
    const sim = await withCheckpoints(5);
    const base = `${(air as AirServer).baseUrl}simulations/runs/checkpoints/`;
    const first = await get<AirPage<AirCheckpointJson>>(
      `simulations/runs/checkpoints/?simulation=${sim}&limit=2`,
    );
    expect(first.body.count).toBe(5);
    expect(first.body.results.map((c) => c.name)).toEqual(["cp-0", "cp-1"]);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toBe(`${base}?limit=2&offset=2&simulation=${sim}`);

    const second = await get<AirPage<AirCheckpointJson>>(first.body.next ?? "");
    expect(second.body.results.map((c) => c.name)).toEqual(["cp-2", "cp-3"]);
    expect(second.body.previous).toBe(`${base}?limit=2&simulation=${sim}`);
    expect(second.body.next).toBe(`${base}?limit=2&offset=4&simulation=${sim}`);

    const last = await get<AirPage<AirCheckpointJson>>(second.body.next ?? "");
    expect(last.body.results.map((c) => c.name)).toEqual(["cp-4"]);
    expect(last.body.next).toBeNull();
    expect(last.body.previous).toBe(`${base}?limit=2&offset=2&simulation=${sim}`);

    expect((await all<AirCheckpointJson>(`simulations/runs/checkpoints/?limit=1`)).length).toBe(5);
  });

  it("treats limit and offset edges as DRF does", async () => {
    await withCheckpoints(3);
    const path = "simulations/runs/checkpoints/";
    const page = (query: string) => get<AirPage<AirCheckpointJson>>(`${path}?${query}`);

    for (const query of ["limit=0", "limit=-1", "limit=abc", ""]) {
      const answer = await page(query);
      expect(answer.body.results).toHaveLength(3);
      expect(answer.body.next).toBeNull();
    }
    const invalidOffset = await page("limit=2&offset=nope");
    expect(invalidOffset.body.results.map((c) => c.name)).toEqual(["cp-0", "cp-1"]);

    const exactEnd = await page("limit=3");
    expect(exactEnd.body.next).toBeNull();

    const pastEnd = await page("limit=2&offset=10");
    expect(pastEnd.body).toMatchObject({ count: 3, results: [], next: null });
    expect(pastEnd.body.previous).toContain("offset=8");

    const empty = await get<AirPage<AirCheckpointJson>>(`${path}?simulation=${randomUUID()}`);
    expect(empty.body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});

describe("ordering, filters and search on checkpoints", () => {
  async function seeded(): Promise<string> {
    await start({
      simulations: [
        {
          name: "ordered",
          checkpoints: [
            { name: "bravo", created: at(1), favorite: true },
            { name: "alpha", created: at(2) },
            { name: "charlie", created: at(3), state: "DELETED" },
            { name: "delta upgrade", created: at(4), favorite: true },
          ],
        },
        { name: "other", checkpoints: [{ name: "alpha elsewhere", created: at(5) }] },
      ],
    });
    return (air as AirServer).simulations()[0]?.id ?? "";
  }

  const names = async (query: string): Promise<string[]> =>
    (await all<AirCheckpointJson>(`simulations/runs/checkpoints/?${query}`)).map((c) => c.name);

  it("orders by each documented field, descending with -, several keys with commas", async () => {
    const sim = await seeded();
    const own = `simulation=${sim}`;
    expect(await names(`${own}`)).toEqual(["bravo", "alpha", "charlie", "delta upgrade"]);
    expect(await names(`${own}&ordering=name`)).toEqual([
      "alpha",
      "bravo",
      "charlie",
      "delta upgrade",
    ]);
    expect(await names(`${own}&ordering=-created`)).toEqual([
      "delta upgrade",
      "charlie",
      "alpha",
      "bravo",
    ]);
    expect(await names(`${own}&ordering=-favorite,name`)).toEqual([
      "bravo",
      "delta upgrade",
      "alpha",
      "charlie",
    ]);
    expect(await names(`${own}&ordering=state,-name`)).toEqual([
      "delta upgrade",
      "bravo",
      "alpha",
      "charlie",
    ]);
    for (const field of ["modified", "-modified", "run", "-run"]) {
      expect(await names(`${own}&ordering=${field}`)).toHaveLength(4);
    }
  });

  it("refuses an ordering outside the documented fields, naming it", async () => {
    await seeded();
    const answer = await get("simulations/runs/checkpoints/?ordering=name,-size");
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      ordering: ["Select a valid choice. -size is not one of the available choices."],
    });
  });

  it("filters by simulation, run, state and favorite, and searches name or state", async () => {
    const sim = await seeded();
    expect(await names(`simulation=${sim}&state=COMPLETE`)).toEqual([
      "bravo",
      "alpha",
      "delta upgrade",
    ]);
    expect(await names(`simulation=${sim}&favorite=true`)).toEqual(["bravo", "delta upgrade"]);
    expect(await names(`simulation=${sim}&favorite=False`)).toEqual(["alpha", "charlie"]);
    expect(await names(`simulation=${sim}&favorite=maybe`)).toHaveLength(4);
    expect(await names("search=alpha")).toEqual(["alpha", "alpha elsewhere"]);
    expect(await names("search=ALPHA,elsewhere")).toEqual(["alpha elsewhere"]);
    expect(await names("search=deleted")).toEqual(["charlie"]);
    const [bravo] = await all<AirCheckpointJson>(`simulations/runs/checkpoints/?search=bravo`);
    expect(await names(`run=${bravo?.run}`)).toEqual(["bravo"]);
  });

  it("answers malformed filters with DRF's field errors", async () => {
    await seeded();
    const badState = await get("simulations/runs/checkpoints/?state=SAVED");
    expect(badState.status).toBe(400);
    expect(badState.body).toEqual({
      state: ["Select a valid choice. SAVED is not one of the available choices."],
    });
    const badUuid = await get("simulations/runs/checkpoints/?simulation=not-a-uuid&run=nope");
    expect(badUuid.body).toEqual({
      simulation: ["Enter a valid UUID."],
      run: ["Enter a valid UUID."],
    });
  });
});

describe("authentication and scopes", () => {
  it("answers 401 with WWW-Authenticate without a token or with an unknown one", async () => {
    await start({ simulations: [{ name: "secret" }] });
    const none = await get("simulations/", null);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(none.body).toEqual({ detail: "Authentication credentials were not provided." });

    const unknown = await get("simulations/", "stolen");
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ detail: "Invalid token." });

    const basic = await fetch(`${air?.baseUrl}simulations/`, {
      headers: { authorization: "Basic dXNlcjpwYXNz" },
    });
    expect(basic.status).toBe(401);
    const bare = await fetch(`${air?.baseUrl}simulations/`, {
      headers: { authorization: "Bearer" },
    });
    expect(await bare.json()).toEqual({ detail: "Invalid token header. No credentials provided." });
  });

  it("answers 403 naming the scope each endpoint requires", async () => {
    await start({
      simulations: [{ name: "guarded", state: "ACTIVE", checkpoints: [{ name: "kept" }] }],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const [checkpoint] = await checkpointsOf(sim);
    const cp = `simulations/runs/checkpoints/${checkpoint?.id}/`;
    const refusals: [string, string, string, unknown][] = [
      ["GET", "simulations/", "air:simulation_read", undefined],
      ["GET", cp, "air:simulation_read", undefined],
      ["PATCH", cp, "air:simulation_edit", { favorite: true }],
      ["DELETE", cp, "air:simulation_edit", undefined],
      ["PATCH", `simulations/${sim}/shutdown/`, "air:simulation_start_stop", {}],
      ["PATCH", `simulations/${sim}/start/`, "air:simulation_start_stop", {}],
      ["POST", "simulations/clone/", "air:simulation_create", { simulation: sim }],
      ["DELETE", `simulations/${sim}/`, "air:simulation_delete", undefined],
    ];
    for (const [method, path, scope, body] of refusals) {
      const token = scope === "air:simulation_read" ? "no-scopes" : "read-only";
      const answer = await call(method, path, { token, body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body).toEqual({
        detail: `You do not have permission to perform this action. Required scope: ${scope}.`,
      });
    }
    expect(await state(sim)).toBe("ACTIVE");
    expect((await get<AirCheckpointJson>(cp)).body).toEqual(checkpoint);
  });
});

describe("unknown ids, paths and methods", () => {
  it("answers 404 in DRF's shape for unknown or malformed ids and unknown paths", async () => {
    await start();
    const missing: [string, string][] = [
      [`simulations/${randomUUID()}/`, "No Simulation matches the given query."],
      ["simulations/not-a-uuid/", "No Simulation matches the given query."],
      [`simulations/runs/${randomUUID()}/`, "No Run matches the given query."],
      [`simulations/runs/checkpoints/${randomUUID()}/`, "No Checkpoint matches the given query."],
    ];
    for (const [path, detail] of missing) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).toEqual({ detail });
    }
    for (const [method, path, body] of [
      ["PATCH", `simulations/runs/checkpoints/${randomUUID()}/`, { name: "x" }],
      ["DELETE", `simulations/runs/checkpoints/${randomUUID()}/`, undefined],
      ["PATCH", `simulations/${randomUUID()}/start/`, {}],
      ["PATCH", `simulations/${randomUUID()}/shutdown/`, {}],
      ["DELETE", `simulations/${randomUUID()}/`, undefined],
    ] as const) {
      expect((await call(method, path, { body })).status, `${method} ${path}`).toBe(404);
    }
    const noSlash = await get(`simulations/${randomUUID()}`);
    expect(noSlash.status).toBe(404);
    expect(noSlash.body).toEqual({ detail: "Not found." });
    expect((await get("simulations/", null)).status).toBe(401);
    expect((await get("nothing-here/", null)).status).toBe(404);
  });

  it("answers 405 for a method the path does not serve, after authenticating", async () => {
    await start();
    const answer = await call("GET", "simulations/clone/");
    expect(answer.status).toBe(405);
    expect(answer.headers.get("allow")).toBe("POST");
    expect(answer.body).toEqual({ detail: 'Method "GET" not allowed.' });
    expect((await call("DELETE", "simulations/", { token: null })).status).toBe(401);
  });
});

describe("checkpoint updates and deletes", () => {
  async function withCheckpoint(seedState: "COMPLETE" | "PENDING" = "COMPLETE") {
    await start({
      simulations: [{ name: "edits", checkpoints: [{ name: "before", state: seedState }] }],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const [checkpoint] = await checkpointsOf(sim);
    return { sim, checkpoint: checkpoint as AirCheckpointJson };
  }

  it("renames and favorites, ignoring the read-only fields as DRF does", async () => {
    const { checkpoint } = await withCheckpoint();
    const path = `simulations/runs/checkpoints/${checkpoint.id}/`;
    const patched = await call<AirCheckpointJson>("PATCH", path, {
      body: {
        name: "  Before upgrade ",
        favorite: true,
        state: "DELETED",
        run: randomUUID(),
        id: randomUUID(),
        created: "2000-01-01T00:00:00Z",
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id: checkpoint.id,
      run: checkpoint.run,
      state: "COMPLETE",
      created: checkpoint.created,
      name: "Before upgrade",
      favorite: true,
    });
    expect(patched.body.modified > checkpoint.modified).toBe(true);
    expect((await get(path)).body).toEqual(patched.body);
    const unfavorite = await call<AirCheckpointJson>("PATCH", path, {
      body: { favorite: "false" },
    });
    expect(unfavorite.body.favorite).toBe(false);
  });

  it("refuses invalid values with field errors and bodies that are not JSON objects", async () => {
    const { checkpoint } = await withCheckpoint();
    const path = `simulations/runs/checkpoints/${checkpoint.id}/`;
    const invalid = await call("PATCH", path, {
      body: { name: "x".repeat(129), favorite: "sure" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({
      name: ["Ensure this field has no more than 128 characters."],
      favorite: ["Must be a valid boolean."],
    });
    const blank = await call("PATCH", path, { body: { name: " ", favorite: null } });
    expect(blank.body).toEqual({
      name: ["This field may not be blank."],
      favorite: ["This field may not be null."],
    });
    const list = await call("PATCH", path, { body: [] });
    expect(list.body).toEqual({
      non_field_errors: ["Invalid data. Expected a dictionary, but got list."],
    });
    const broken = await call<{ detail: string }>("PATCH", path, { rawBody: "{name:" });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/^JSON parse error - /);
    const text = await call("PATCH", path, { rawBody: "name=x", contentType: "text/plain" });
    expect(text.status).toBe(415);
    expect(text.body).toEqual({ detail: 'Unsupported media type "text/plain" in request.' });
    expect((await get<AirCheckpointJson>(path)).body).toEqual(checkpoint);
  });

  it("deletes a COMPLETE checkpoint to DELETED with 204 and no body, and refuses it again", async () => {
    const { sim, checkpoint } = await withCheckpoint();
    const path = `simulations/runs/checkpoints/${checkpoint.id}/`;
    const deleted = await call("DELETE", path);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect((await get<AirCheckpointJson>(path)).body.state).toBe("DELETED");
    expect(
      (await get<AirSimulationJson>(`simulations/${sim}/`)).body.complete_checkpoint_count,
    ).toBe(0);
    const again = await call("DELETE", path);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      detail: "Only checkpoints in the COMPLETE state may be deleted; this one is DELETED.",
    });
  });

  it("refuses to delete a PENDING checkpoint", async () => {
    const { checkpoint } = await withCheckpoint("PENDING");
    const path = `simulations/runs/checkpoints/${checkpoint.id}/`;
    const refused = await call("DELETE", path);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      detail: "Only checkpoints in the COMPLETE state may be deleted; this one is PENDING.",
    });
    expect((await get<AirCheckpointJson>(path)).body.state).toBe("PENDING");
  });
});

describe("state paths", () => {
  const MANUAL = {
    CLONING: "manual",
    REQUESTING: "manual",
    PROVISIONING: "manual",
    PREPARE_BOOT: "manual",
    BOOTING: "manual",
    PREPARE_SHUTDOWN: "manual",
    SHUTTING_DOWN: "manual",
    SAVING: "manual",
    PREPARE_PURGE: "manual",
    PURGING: "manual",
  } as const;

  /** Steps through the path with `advance`, reading each state back over HTTP. */
  async function walk(id: string, first: string): Promise<string[]> {
    const seen = [await state(id)];
    expect(seen[0]).toBe(first);
    for (;;) {
      try {
        (air as AirServer).advance(id);
      } catch {
        return seen;
      }
      seen.push(await state(id));
    }
  }

  it("starts INACTIVE → … → ACTIVE on a new run from the most recent COMPLETE checkpoint", async () => {
    await start({
      delays: MANUAL,
      simulations: [
        {
          name: "starter",
          checkpoints: [
            { name: "old", created: at(1) },
            { name: "newest", created: at(2) },
            { name: "pending", created: at(3), state: "PENDING" },
          ],
        },
      ],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const started = await call<AirSimulationJson>("PATCH", `simulations/${sim}/start/`);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: sim, state: "REQUESTING" });
    expect(await walk(sim, "REQUESTING")).toEqual([
      "REQUESTING",
      "PROVISIONING",
      "PREPARE_BOOT",
      "BOOTING",
      "ACTIVE",
    ]);
    const runs = await all<AirRunJson>(`simulations/runs/?simulation=${sim}&ordering=-started_at`);
    const newest = (await checkpointsOf(sim)).find((c) => c.name === "newest");
    expect(runs[0]).toMatchObject({ ended_at: null, started_from: newest?.id });
  });

  it("starts from a named COMPLETE checkpoint, or from scratch with null", async () => {
    await start({
      simulations: [{ name: "chooser", checkpoints: [{ name: "old", created: at(1) }, {}] }],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const [old] = await checkpointsOf(sim);
    await call("PATCH", `simulations/${sim}/start/`, { body: { checkpoint: old?.id } });
    await (air as AirServer).idle(sim);
    expect(await state(sim)).toBe("ACTIVE");
    await call("PATCH", `simulations/${sim}/shutdown/`, { body: { create_checkpoint: false } });
    await (air as AirServer).idle(sim);
    await call("PATCH", `simulations/${sim}/start/`, { body: { checkpoint: null } });
    await (air as AirServer).idle(sim);
    const runs = await all<AirRunJson>(`simulations/runs/?simulation=${sim}&ordering=started_at`);
    expect(runs.slice(-2).map((r) => r.started_from)).toEqual([old?.id, null]);
  });

  it("refuses to start from a checkpoint that is not a COMPLETE one of this simulation", async () => {
    await start({
      simulations: [
        { name: "one", checkpoints: [{ name: "pending", state: "PENDING" }] },
        { name: "two", checkpoints: [{ name: "foreign" }] },
      ],
    });
    const [one, two] = (air as AirServer).simulations();
    const [pending] = await checkpointsOf(one?.id ?? "");
    const [foreign] = await checkpointsOf(two?.id ?? "");
    const startWith = (checkpoint: unknown) =>
      call("PATCH", `simulations/${one?.id}/start/`, { body: { checkpoint } });
    expect((await startWith(pending?.id)).body).toEqual({
      checkpoint: ["Only a COMPLETE checkpoint can be used; this one is PENDING."],
    });
    expect((await startWith(foreign?.id)).body).toEqual({
      checkpoint: ["The checkpoint does not belong to this simulation."],
    });
    const unknown = randomUUID();
    expect((await startWith(unknown)).body).toEqual({
      checkpoint: [`Invalid pk "${unknown}" - object does not exist.`],
    });
    const malformed = await startWith("abc");
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ checkpoint: ["Must be a valid UUID."] });
    expect(await state(one?.id ?? "")).toBe("INACTIVE");
  });

  it("shuts down with a checkpoint: PENDING while SAVING, COMPLETE once INACTIVE", async () => {
    await start({ delays: MANUAL, simulations: [{ name: "saver", state: "ACTIVE" }] });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const answer = await call<AirSimulationJson>("PATCH", `simulations/${sim}/shutdown/`, {
      body: {},
    });
    expect(answer.body.state).toBe("PREPARE_SHUTDOWN");
    (air as AirServer).advance(sim);
    expect(await state(sim)).toBe("SHUTTING_DOWN");
    expect(await checkpointsOf(sim)).toEqual([]);
    (air as AirServer).advance(sim);
    expect(await state(sim)).toBe("SAVING");
    const [saving] = await checkpointsOf(sim);
    expect(saving).toMatchObject({ state: "PENDING", favorite: false });
    expect(saving?.name).toMatch(/^Checkpoint \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(
      (await get<AirSimulationJson>(`simulations/${sim}/`)).body.complete_checkpoint_count,
    ).toBe(0);
    expect((air as AirServer).advance(sim)).toBe("INACTIVE");
    const [saved] = await checkpointsOf(sim);
    expect(saved).toMatchObject({ id: saving?.id, state: "COMPLETE" });
    const run = await get<AirRunJson>(`simulations/runs/${saved?.run}/`);
    expect(run.body.ended_at).not.toBeNull();
    const after = await get<AirSimulationJson>(`simulations/${sim}/`);
    expect(after.body).toMatchObject({ state: "INACTIVE", complete_checkpoint_count: 1 });
    expect(() => (air as AirServer).advance(sim)).toThrow(/INACTIVE, not moving/);
  });

  it("shuts down without a checkpoint through PREPARE_PURGE and PURGING", async () => {
    await start({ delays: MANUAL, simulations: [{ name: "purger", state: "ACTIVE" }] });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    await call("PATCH", `simulations/${sim}/shutdown/`, { body: { create_checkpoint: false } });
    expect(await walk(sim, "PREPARE_PURGE")).toEqual(["PREPARE_PURGE", "PURGING", "INACTIVE"]);
    expect(await checkpointsOf(sim)).toEqual([]);
    const runs = await all<AirRunJson>(`simulations/runs/?simulation=${sim}`);
    expect(runs.every((r) => r.ended_at !== null)).toBe(true);
  });

  it("moves through a whole cycle on its own timers", async () => {
    await start({ delays: 1, simulations: [{ name: "cycler" }] });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    await call("PATCH", `simulations/${sim}/start/`);
    await (air as AirServer).idle(sim);
    expect(await state(sim)).toBe("ACTIVE");
    await call("PATCH", `simulations/${sim}/shutdown/`, { body: { create_checkpoint: "true" } });
    await (air as AirServer).idle();
    expect(await state(sim)).toBe("INACTIVE");
    expect((await checkpointsOf(sim)).map((c) => c.state)).toEqual(["COMPLETE"]);
  });

  it("refuses to start an ACTIVE simulation and to shut down an INACTIVE one", async () => {
    await start({ simulations: [{ name: "running", state: "ACTIVE" }, { name: "stopped" }] });
    const [running, stopped] = (air as AirServer).simulations();
    const startRunning = await call("PATCH", `simulations/${running?.id}/start/`, { body: {} });
    expect(startRunning.status).toBe(400);
    expect(startRunning.body).toEqual({
      detail: "Simulation is ACTIVE; only an INACTIVE simulation can be started.",
    });
    const stopStopped = await call("PATCH", `simulations/${stopped?.id}/shutdown/`, { body: {} });
    expect(stopStopped.status).toBe(400);
    expect(stopStopped.body).toEqual({
      detail: "Simulation is INACTIVE; only an ACTIVE simulation can be shut down.",
    });
    const badFlag = await call("PATCH", `simulations/${running?.id}/shutdown/`, {
      body: { create_checkpoint: "perhaps" },
    });
    expect(badFlag.body).toEqual({ create_checkpoint: ["Must be a valid boolean."] });
    expect(await state(running?.id ?? "")).toBe("ACTIVE");
  });

  it("clones with a copy of the checkpoint and attempt_start: CLONING → INACTIVE → … → ACTIVE", async () => {
    await start({
      delays: MANUAL,
      simulations: [
        {
          name: "origin",
          checkpoints: [
            { name: "older", created: at(1) },
            { name: "wanted", created: at(2), metadata: { k: "v" } },
          ],
        },
      ],
    });
    const origin = (air as AirServer).simulations()[0]?.id ?? "";
    const older = (await checkpointsOf(origin))[0];
    const cloned = await call<AirSimulationJson>("POST", "simulations/clone/", {
      body: { simulation: origin, attempt_start: true, name: "copy" },
    });
    expect(cloned.status).toBe(201);
    expect(cloned.body).toMatchObject({ name: "copy", state: "CLONING" });
    expect(cloned.body.id).not.toBe(origin);
    expect(await walk(cloned.body.id, "CLONING")).toEqual([
      "CLONING",
      "REQUESTING",
      "PROVISIONING",
      "PREPARE_BOOT",
      "BOOTING",
      "ACTIVE",
    ]);
    const [copy] = await checkpointsOf(cloned.body.id);
    expect(copy).toMatchObject({ name: "wanted", state: "COMPLETE", metadata: { k: "v" } });
    const runs = await all<AirRunJson>(
      `simulations/runs/?simulation=${cloned.body.id}&ordering=-created`,
    );
    expect(runs[0]).toMatchObject({ started_from: copy?.id, ended_at: null });

    const named = await call<AirSimulationJson>("POST", "simulations/clone/", {
      body: { simulation: origin, checkpoint: older?.id },
    });
    expect(named.body.name).toBe("origin");
    expect((await checkpointsOf(named.body.id)).map((c) => c.name)).toEqual(["older"]);
    expect(await walk(named.body.id, "CLONING")).toEqual(["CLONING", "INACTIVE"]);

    const bare = await call<AirSimulationJson>("POST", "simulations/clone/", {
      body: { simulation: origin, checkpoint: null },
    });
    expect(await checkpointsOf(bare.body.id)).toEqual([]);
    expect(bare.body.complete_checkpoint_count).toBe(0);
  });

  it("refuses to clone a running simulation or without a simulation", async () => {
    await start({ simulations: [{ name: "busy", state: "ACTIVE" }] });
    const busy = (air as AirServer).simulations()[0]?.id ?? "";
    const refused = await call("POST", "simulations/clone/", { body: { simulation: busy } });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      simulation: ["Simulation is ACTIVE; it must be INACTIVE or CLONING to be cloned."],
    });
    const missing = await call("POST", "simulations/clone/", { body: { attempt_start: true } });
    expect(missing.body).toEqual({ simulation: ["This field is required."] });
    expect((air as AirServer).simulations()).toHaveLength(1);
  });
});

describe("deleting a simulation", () => {
  it("answers 204 without a body; DELETING, then gone with its runs and checkpoints", async () => {
    await start({
      delays: { DELETING: "manual" },
      simulations: [
        { name: "doomed", checkpoints: [{ name: "only" }] },
        { name: "bystander", checkpoints: [{ name: "kept" }] },
      ],
    });
    const [doomed, bystander] = (air as AirServer).simulations().map((sim) => sim.id);
    const [checkpoint] = await checkpointsOf(doomed ?? "");
    const [run] = await all<AirRunJson>(`simulations/runs/?simulation=${doomed}`);
    const deleted = await call("DELETE", `simulations/${doomed}/`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    // Still there while DELETING, listed with its state, its checkpoint still readable.
    expect(await state(doomed ?? "")).toBe("DELETING");
    const listed = await all<AirSimulationJson>("simulations/?name=doomed");
    expect(listed.map((sim) => sim.state)).toEqual(["DELETING"]);
    expect((await get(`simulations/runs/checkpoints/${checkpoint?.id}/`)).status).toBe(200);
    const again = await call("DELETE", `simulations/${doomed}/`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ detail: "Simulation is DELETING; it is already being deleted." });

    (air as AirServer).advance(doomed ?? "");
    await (air as AirServer).idle(doomed);
    for (const [path, model] of [
      [`simulations/${doomed}/`, "Simulation"],
      [`simulations/runs/${run?.id}/`, "Run"],
      [`simulations/runs/checkpoints/${checkpoint?.id}/`, "Checkpoint"],
    ]) {
      const gone = await get(path as string);
      expect(gone.status, path).toBe(404);
      expect(gone.body).toEqual({ detail: `No ${model} matches the given query.` });
    }
    expect(await all<AirSimulationJson>("simulations/?name=doomed")).toEqual([]);
    expect(await checkpointsOf(doomed ?? "")).toEqual([]);
    expect((await call("DELETE", `simulations/${doomed}/`)).status).toBe(404);
    expect((await checkpointsOf(bystander ?? "")).map((c) => c.state)).toEqual(["COMPLETE"]);
    expect(await state(bystander ?? "")).toBe("INACTIVE");
  });

  it("abandons the path a simulation was on: a delete while shutting down saves nothing", async () => {
    await start({
      delays: { SHUTTING_DOWN: "manual", DELETING: "manual" },
      simulations: [{ name: "busy", state: "ACTIVE" }],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    await call("PATCH", `simulations/${sim}/shutdown/`, { body: {} });
    (air as AirServer).advance(sim);
    expect(await state(sim)).toBe("SHUTTING_DOWN");
    expect((await call("DELETE", `simulations/${sim}/`)).status).toBe(204);
    expect(await state(sim)).toBe("DELETING");
    (air as AirServer).advance(sim);
    expect((await get(`simulations/${sim}/`)).status).toBe(404);
    expect(await all("simulations/runs/checkpoints/")).toEqual([]);
  });
});

describe("what Air does on its own", () => {
  it("deletes older non-favorite checkpoints to make room on shutdown, keeping favorites", async () => {
    await start({
      maxCheckpointsPerSimulation: 3,
      simulations: [
        {
          name: "crowded",
          state: "ACTIVE",
          checkpoints: [
            { name: "oldest-favorite", created: at(1), favorite: true },
            { name: "old", created: at(2) },
            { name: "newer", created: at(3) },
            { name: "already-gone", created: at(4), state: "DELETED" },
          ],
        },
      ],
    });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    await call("PATCH", `simulations/${sim}/shutdown/`);
    await (air as AirServer).idle(sim);
    const byName = Object.fromEntries((await checkpointsOf(sim)).map((c) => [c.name, c.state]));
    expect(byName).toMatchObject({
      "oldest-favorite": "COMPLETE",
      old: "DELETED",
      newer: "COMPLETE",
      "already-gone": "DELETED",
    });
    expect(
      (await get<AirSimulationJson>(`simulations/${sim}/`)).body.complete_checkpoint_count,
    ).toBe(3);

    await call("PATCH", `simulations/${sim}/start/`);
    await (air as AirServer).idle(sim);
    await call("PATCH", `simulations/${sim}/shutdown/`);
    await (air as AirServer).idle(sim);
    const second = (await checkpointsOf(sim)).filter((c) => c.state === "COMPLETE");
    expect(second.map((c) => c.name)).toContain("oldest-favorite");
    expect(second.map((c) => c.name)).not.toContain("newer");
  });

  it("deletes a checkpoint by itself through the test hook", async () => {
    await start({ simulations: [{ name: "evicted", checkpoints: [{ name: "doomed" }] }] });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    const [doomed] = await checkpointsOf(sim);
    const gone = (air as AirServer).deleteCheckpointByAir(doomed?.id ?? "");
    expect(gone.state).toBe("DELETED");
    expect(
      (await get<AirCheckpointJson>(`simulations/runs/checkpoints/${doomed?.id}/`)).body.state,
    ).toBe("DELETED");
    expect(() => (air as AirServer).deleteCheckpointByAir(doomed?.id ?? "")).toThrow(/DELETED/);
  });

  it("forces a state, abandoning the path a simulation was on", async () => {
    await start({ delays: { REQUESTING: "manual" }, simulations: [{ name: "broken" }] });
    const sim = (air as AirServer).simulations()[0]?.id ?? "";
    await call("PATCH", `simulations/${sim}/start/`);
    const waiting = (air as AirServer).idle(sim);
    expect((air as AirServer).setState(sim, "INVALID").state).toBe("INVALID");
    await waiting;
    expect(await state(sim)).toBe("INVALID");
    expect(() => (air as AirServer).advance(sim)).toThrow(/not moving/);
  });

  it("adds simulations after the start and reports every request it answers", async () => {
    const records: AirRequestRecord[] = [];
    await start({ onRequest: (record) => records.push(record) });
    const added = (air as AirServer).addSimulation({ name: "late", checkpoints: [{ name: "cp" }] });
    const [checkpoint] = await checkpointsOf(added.id);
    await call("DELETE", `simulations/runs/checkpoints/${checkpoint?.id}/`);
    await get("simulations/", "stolen");
    expect(records).toEqual([
      { method: "GET", path: "/api/v3/simulations/runs/checkpoints/", status: 200 },
      {
        method: "DELETE",
        path: `/api/v3/simulations/runs/checkpoints/${checkpoint?.id}/`,
        status: 204,
      },
      { method: "GET", path: "/api/v3/simulations/", status: 401 },
    ]);
  });

  it("refuses options a real Air token could not have", async () => {
    await expect(startAirServer({ tokens: { t: ["simulation_read" as never] } })).rejects.toThrow();
  });
});
