import { beforeAll, describe, expect, it } from "vitest";
import { logger } from "../../../lib/observability/logger.ts";
import { apiRoutes } from "../../../lib/http/api-routes.ts";
import { httpApi, route } from "../../../lib/http/router.ts";
import { RetentionConfigSchema } from "../../../lib/domain/retention.ts";
import { checkpoint, minutesIn } from "../../support/checkpoint-factory.ts";
import { apiWorld } from "../../support/api-world.ts";
import { apiEvent as event } from "../../support/api-event.ts";

beforeAll(() => {
  // Every request logs a line, and the 500 below an error with its stack: keep the output clean.
  logger.setLogLevel("SILENT");
});

async function setup(simulations?: Parameters<typeof apiWorld>[0]) {
  const world = apiWorld(simulations);
  await world.checkpoints.create(checkpoint({ id: "c1", name: "one" }));
  const handler = httpApi(apiRoutes(world));
  const call = async (...args: Parameters<typeof event>) => {
    const result = await handler(event(...args));
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined,
    };
  };
  return { world, call };
}

describe("the API's router", () => {
  it("answers 404 for an unknown path and 405 with Allow for a known path's other methods", async () => {
    const { call } = await setup();
    expect(await call("GET", "/nothing")).toMatchObject({
      status: 404,
      body: { error: { code: "NotFound", message: "No route for GET /nothing", details: [] } },
    });
    const put = await call("PUT", "/checkpoints/c1");
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe("GET, PATCH, DELETE");
    expect(put.body).toMatchObject({ error: { code: "MethodNotAllowed" } });
  });

  it("echoes the caller's correlation id, or uses API Gateway's request id", async () => {
    const { call } = await setup();
    expect((await call("GET", "/healthz")).headers["x-correlation-id"]).toBe("req-1");
    const given = await call("GET", "/healthz", { headers: { "X-Correlation-Id": "abc-123" } });
    expect(given.headers["x-correlation-id"]).toBe("abc-123");
  });

  it("refuses a body that is not JSON, naming it", async () => {
    const { call } = await setup();
    expect(await call("PATCH", "/checkpoints/c1", { body: "{name:" })).toMatchObject({
      status: 400,
      body: { error: { code: "ValidationError", details: [{ path: "(body)" }] } },
    });
  });

  it("reads base64-encoded bodies as API Gateway sends binary payloads", async () => {
    const { call } = await setup();
    const result = await call("PATCH", "/checkpoints/c1", { body: { name: "b64" }, base64: true });
    expect(result).toMatchObject({ status: 200, body: { name: "b64" } });
  });

  it("refuses query parameters a route does not take", async () => {
    const { call } = await setup();
    expect(await call("GET", "/checkpoints/c1?verbose=true")).toMatchObject({
      status: 400,
      body: {
        error: {
          details: [{ path: "verbose", message: "is not a query parameter of this route" }],
        },
      },
    });
  });

  it("hides the details of an unexpected failure behind a generic 500 with the correlation id", async () => {
    const handler = httpApi([
      route({
        method: "GET",
        path: "/boom",
        operationId: "boom",
        summary: "fails",
        responses: {},
        handle: async () => {
          throw new Error("secret table name");
        },
      }),
    ]);
    const result = await handler(event("GET", "/boom"));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain("secret");
    expect(JSON.parse(result.body as string)).toEqual({
      error: {
        code: "InternalError",
        message: "The request could not be completed; quote correlation id req-1 when reporting it",
        details: [],
        correlationId: "req-1",
      },
    });
  });
});

describe("the API's routes", () => {
  it("serves a checkpoint with its version as ETag, and applies If-Match", async () => {
    const { call } = await setup();
    const read = await call("GET", "/checkpoints/c1");
    expect(read).toMatchObject({ status: 200, headers: { etag: '"1"' }, body: { id: "c1" } });

    const patched = await call("PATCH", "/checkpoints/c1", {
      body: { favorite: true },
      headers: { "if-match": '"1"' },
    });
    expect(patched).toMatchObject({
      status: 200,
      headers: { etag: '"2"' },
      body: { favorite: true },
    });
    const stale = await call("PATCH", "/checkpoints/c1", {
      body: { name: "late" },
      headers: { "If-Match": '"1"' },
    });
    expect(stale).toMatchObject({
      status: 409,
      body: { error: { code: "ConcurrentModification" } },
    });
    const badTag = await call("PATCH", "/checkpoints/c1", {
      body: { name: "x" },
      headers: { "if-match": "yesterday" },
    });
    expect(badTag).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "if-match" }] } },
    });
  });

  it("starts a snapshot with 202, the job and its location; the same key gives the same job", async () => {
    const { call, world } = await setup();
    const headers = { "Idempotency-Key": "key-1" };
    const first = await call("POST", "/simulations/sim-a/snapshots", {
      body: { name: "n" },
      headers,
    });
    expect(first).toMatchObject({
      status: 202,
      body: { kind: "snapshot", status: "RUNNING", simulation: "sim-a" },
    });
    expect(first.headers.location).toBe(`/jobs/${String(first.body?.id)}`);
    expect(first.body).not.toHaveProperty("destination");
    const again = await call("POST", "/simulations/sim-a/snapshots", { headers });
    expect(again.body?.id).toBe(first.body?.id);
    expect(world.requests.sent).toHaveLength(2);
  });

  it("maps each refusal to its status: 400 with fields, 404, 409", async () => {
    const { call } = await setup();
    expect(await call("POST", "/simulations/team%2Flab/snapshots")).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "name", message: 'must not contain "/"' }] } },
    });
    expect(
      await call("POST", "/simulations/sim-a/snapshots", { body: { stop: "yes", tags: "x" } }),
    ).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "tags" }, { path: "stop" }] } },
    });
    expect(await call("POST", "/simulations/ghost/snapshots")).toMatchObject({
      status: 404,
      body: { error: { code: "NotFound", message: "Simulation ghost does not exist" } },
    });
    expect(await call("POST", "/simulations/sim-off/snapshots")).toMatchObject({
      status: 409,
      body: { error: { code: "Conflict" } },
    });
    expect(await call("GET", "/jobs/nope")).toMatchObject({ status: 404 });
    expect(await call("DELETE", "/checkpoints/c1?force=maybe")).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "force", message: "must be true or false" }] } },
    });
  });

  it("stops a simulation (202 with the stop job), alone or after a snapshot", async () => {
    const { call } = await setup();
    const stop = await call("POST", "/simulations/sim-a/stop", { body: { reason: "done" } });
    expect(stop).toMatchObject({
      status: 202,
      body: { kind: "stop", status: "RUNNING", steps: [{ name: "final-snapshot" }] },
    });
    const viaSnapshot = await call("POST", "/simulations/sim-a/snapshots", {
      body: { stop: true, description: "last one" },
      headers: { "idempotency-key": "s1" },
    });
    expect(viaSnapshot).toMatchObject({ status: 202, body: { kind: "stop" } });
    expect(
      await call("POST", "/simulations/sim-a/snapshots", { body: { stop: true, name: "x" } }),
    ).toMatchObject({
      status: 400,
      body: {
        error: {
          details: [
            {
              path: "name",
              message: "cannot be combined with stop: the stop names its final snapshot itself",
            },
          ],
        },
      },
    });
    expect(
      await call("POST", "/simulations/sim-a/stop", { body: { snapshot: "no", now: 1 } }),
    ).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "snapshot" }, { path: "now" }] } },
    });
  });

  it("restores a checkpoint (202 with the restore job) and maps its refusals", async () => {
    const { call, world } = await setup();
    await world.storage.put(checkpoint({ id: "c1" }).location!, new Uint8Array([1]));
    await world.checkpoints.create(
      checkpoint({ id: "pending", state: "PENDING", location: undefined }),
    );
    const started = await call("POST", "/checkpoints/c1/restore", {
      body: { simulationName: "sim-restored", maximumDuration: "2h" },
      headers: { "idempotency-key": "r1" },
    });
    expect(started).toMatchObject({
      status: 202,
      body: { kind: "restore", restore: { target: "sim-restored", phase: "locating" } },
    });
    const again = await call("POST", "/checkpoints/c1/restore", {
      body: { simulationName: "sim-restored", maximumDuration: "2h" },
      headers: { "idempotency-key": "r1" },
    });
    expect(again.body?.id).toBe(started.body?.id);
    expect(await call("POST", "/checkpoints/nope/restore")).toMatchObject({ status: 404 });
    expect(await call("POST", "/checkpoints/pending/restore")).toMatchObject({ status: 409 });
    expect(
      await call("POST", "/checkpoints/c1/restore", { body: { simulationName: "sim-a" } }),
    ).toMatchObject({ status: 409 });
    const badDuration = await call("POST", "/checkpoints/c1/restore", {
      body: { maximumDuration: "3 weeks" },
    });
    expect(badDuration.status).toBe(400);
    const details = (badDuration.body?.error as { details: { path: string }[] }).details;
    expect(new Set(details.map((d) => d.path))).toEqual(new Set(["maximumDuration"]));
  });

  it("plans a prune by default (200) and starts one on request (202 with its jobs)", async () => {
    const { call } = await setup();
    expect(await call("POST", "/prune")).toMatchObject({
      status: 200,
      body: { dryRun: true, plans: [{ simulation: "sim-a", keep: [{ id: "c1" }], remove: [] }] },
    });
    expect(await call("POST", "/prune", { body: { dryRun: false } })).toMatchObject({
      status: 202,
      body: { dryRun: false, jobs: [{ kind: "prune", simulation: "sim-a", status: "RUNNING" }] },
    });
    expect(await call("POST", "/prune", { body: { simulation: "sim-x" } })).toMatchObject({
      status: 404,
    });
    expect(await call("POST", "/prune", { body: { dryRun: "no" } })).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: "dryRun" }] } },
    });
  });

  it("shows the reasons of keepBest and the step rules in a prune dry run", async () => {
    const world = {
      ...apiWorld(),
      retention: RetentionConfigSchema.parse({
        default: { keepLast: 1 },
        overrides: [
          {
            match: "train-*",
            policy: { keepBest: { metric: "loss", mode: "min", count: 1 }, keepSteps: [100] },
          },
        ],
      }),
    };
    const training = [
      { id: "t300", step: 300, metrics: { loss: 0.5 } },
      { id: "t200", step: 200, metrics: { loss: 0.2 } },
      { id: "t100", step: 100, metrics: { loss: 0.9 } },
      { id: "t000", step: 0, metrics: { loss: 0.7 } },
    ];
    for (const [i, t] of training.entries()) {
      await world.checkpoints.create(
        checkpoint({ ...t, simulation: "train-1", createdAt: minutesIn(10 - i) }),
      );
    }
    const handler = httpApi(apiRoutes(world));
    const result = await handler(event("POST", "/prune", { body: { simulation: "train-1" } }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toEqual({
      dryRun: true,
      plans: [
        {
          simulation: "train-1",
          keep: [
            { id: "t200", reasons: ["best loss (0.2, 1 of 1)"] },
            { id: "t100", reasons: ["step 100"] },
          ],
          remove: [{ id: "t300" }, { id: "t000" }],
          refused: null,
        },
      ],
    });
  });

  it("shows keepVerified's reason and its refusal in a prune dry run", async () => {
    const world = {
      ...apiWorld(),
      retention: RetentionConfigSchema.parse({ default: { keepLast: 1, keepVerified: 1 } }),
    };
    const passed = { status: "PASSED" as const, at: minutesIn(1), durationMs: 5, detail: "ok" };
    for (const [i, id] of ["v2", "v1", "v0"].entries()) {
      const verification = id === "v1" ? { ...passed, jobId: "verify-1" } : undefined;
      await world.checkpoints.create(
        checkpoint({ id, simulation: "proven", createdAt: minutesIn(10 - i), verification }),
      );
      await world.checkpoints.create(
        checkpoint({ id: `u${i}`, simulation: "unproven", createdAt: minutesIn(10 - i) }),
      );
    }
    const handler = httpApi(apiRoutes(world));
    const plan = async (simulation: string) =>
      JSON.parse((await handler(event("POST", "/prune", { body: { simulation } }))).body!) as {
        plans: { keep: unknown[]; refused: string | null }[];
      };
    const proven = (await plan("proven")).plans[0];
    expect(proven?.keep).toEqual([
      { id: "v2", reasons: ["last snapshot"] },
      { id: "v1", reasons: ["verified"] },
    ]);
    expect(proven?.refused).toBeNull();
    expect((await plan("unproven")).plans[0]?.refused).toMatch(
      /^keepVerified: the policy would remove 2 checkpoints of unproven while none/,
    );
  });

  it("deletes a checkpoint to the trash and undeletes it (POST /checkpoints/{id}/undelete)", async () => {
    const world = apiWorld();
    const deps = { ...world, objects: world.storage, trash: { days: 7, store: world.storage } };
    const c1 = checkpoint({ id: "c1" });
    await world.checkpoints.create(c1);
    await world.storage.put(c1.location!, "zip");
    const handler = httpApi(apiRoutes(deps));
    const call = async (...args: Parameters<typeof event>) => {
      const result = await handler(event(...args));
      return {
        status: result.statusCode,
        headers: result.headers ?? {},
        body: JSON.parse(result.body!),
      };
    };
    const deleted = await call("DELETE", "/checkpoints/c1");
    expect(deleted).toMatchObject({
      status: 200,
      body: { state: "DELETED", purgeAfter: expect.any(String) },
    });
    expect(world.storage.text(c1.location!)).toBeUndefined();
    const back = await call("POST", "/checkpoints/c1/undelete");
    expect(back).toMatchObject({
      status: 200,
      body: { state: "COMPLETE" },
      headers: { etag: '"3"' },
    });
    expect(world.storage.text(c1.location!)).toBe("zip");
    expect(await call("POST", "/checkpoints/c1/undelete")).toMatchObject({ status: 200 });
    expect(await call("POST", "/checkpoints/nope/undelete")).toMatchObject({ status: 404 });
  });

  it("refuses an undelete with the reason (409) when the delete was final", async () => {
    const { world, call } = await setup();
    await world.checkpoints.create({ ...checkpoint({ id: "gone" }), state: "DELETED" });
    expect(await call("POST", "/checkpoints/gone/undelete")).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringMatching(/^Checkpoint gone was deleted for good/) } },
    });
  });

  it("takes simulation names with spaces and unicode from the path and the query", async () => {
    const air = "My First Simulation";
    const tokyo = "東京 Überwachung 🌊";
    const { call, world } = await setup({ [air]: "STARTED", [tokyo]: "STARTED" });
    await world.checkpoints.create(checkpoint({ id: "t1", simulation: tokyo }));

    const snapshot = await call("POST", `/simulations/${encodeURIComponent(air)}/snapshots`);
    expect(snapshot).toMatchObject({ status: 202, body: { kind: "snapshot", simulation: air } });
    const stop = await call("POST", `/simulations/${encodeURIComponent(tokyo)}/stop`);
    expect(stop).toMatchObject({ status: 202, body: { kind: "stop", simulation: tokyo } });
    expect(
      await call("GET", `/jobs?simulation=${encodeURIComponent(air)}&kind=snapshot`),
    ).toMatchObject({ status: 200, body: { items: [{ simulation: air }] } });
    expect(await call("GET", `/checkpoints?simulation=${encodeURIComponent(tokyo)}`)).toMatchObject(
      { status: 200, body: { items: [{ id: "t1", simulation: tokyo }] } },
    );
    expect(await call("POST", "/prune", { body: { simulation: tokyo } })).toMatchObject({
      status: 200,
      body: { dryRun: true },
    });
    // A path API Gateway hands over already decoded reads the same.
    const decoded = event("POST", "/simulations/x/snapshots");
    const handler = httpApi(apiRoutes(world));
    const answer = await handler({ ...decoded, rawPath: `/simulations/${air}/snapshots` });
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body ?? "{}")).toMatchObject({ simulation: air });

    expect(await call("POST", "/simulations/Nobody%20Here/snapshots")).toMatchObject({
      status: 404,
      body: { error: { message: "Simulation Nobody Here does not exist" } },
    });
    expect(await call("POST", "/simulations/%20lab/snapshots")).toMatchObject({
      status: 400,
      body: {
        error: { details: [{ path: "name", message: "must not start or end with white space" }] },
      },
    });
  });

  it("lists checkpoints and jobs as pages", async () => {
    const { call } = await setup();
    expect(await call("GET", "/checkpoints?limit=1")).toMatchObject({
      status: 200,
      body: { items: [{ id: "c1" }] },
    });
    await call("POST", "/simulations/sim-a/snapshots");
    const jobs = await call("GET", "/jobs?simulation=sim-a&kind=snapshot");
    expect(jobs).toMatchObject({ status: 200, body: { items: [{ kind: "snapshot" }] } });
    expect((jobs.body?.items as object[])[0]).not.toHaveProperty("version");
  });
});
