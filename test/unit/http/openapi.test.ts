import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../../../lib/http/api-routes.ts";
import { OPENAPI_PATH } from "../../../lib/http/openapi.ts";
import { httpApi } from "../../../lib/http/router.ts";
import { logger } from "../../../lib/observability/logger.ts";
import { apiEvent } from "../../support/api-event.ts";
import { apiWorld } from "../../support/api-world.ts";
import { checkpoint, job } from "../../support/checkpoint-factory.ts";
import { openApiChecker, type SeenAnswer } from "../../support/openapi-check.ts";

type Json = Record<string, unknown>;

beforeAll(() => {
  logger.setLogLevel("SILENT");
});

/** A port whose every method fails as a broken table or network would. */
function broken<T extends object>(port: T): T {
  return new Proxy(port, {
    get: (target, key, receiver) => {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return () => {
        throw new Error("the table is unreachable");
      };
    },
  });
}

async function world() {
  const w = apiWorld();
  await w.checkpoints.create(checkpoint({ id: "c1", name: "one" }));
  await w.checkpoints.create(checkpoint({ id: "c2", name: "two" }));
  await w.checkpoints.create(checkpoint({ id: "pending", state: "PENDING", location: undefined }));
  await w.storage.put(checkpoint({ id: "c1" }).location!, new Uint8Array([1]));
  await w.jobs.create(job({ id: "j1", kind: "stop", steps: [] }));
  return w;
}

async function caller(deps: Awaited<ReturnType<typeof world>>) {
  const routes = apiRoutes(deps);
  const handler = httpApi(routes);
  return {
    routes,
    call: async (...args: Parameters<typeof apiEvent>) => {
      const result = await handler(apiEvent(...args));
      const url = new URL(args[1], "http://api");
      return {
        method: args[0],
        path: url.pathname,
        status: result.statusCode as number,
        body: result.body ? (JSON.parse(result.body) as unknown) : undefined,
      };
    },
  };
}

async function theDocument(): Promise<Json> {
  const { call } = await caller(await world());
  const answer = await call("GET", OPENAPI_PATH);
  expect(answer.status).toBe(200);
  return answer.body as Json;
}

type Request = Parameters<typeof apiEvent>;

/** Requests that succeed, each with the status it gets, against the seeded world. */
const successes: [number, ...Request][] = [
  [200, "GET", "/healthz"],
  [200, "GET", "/simulations"],
  [202, "POST", "/simulations/sim-a/snapshots", { body: { name: "n", tags: ["a"] } }],
  [202, "POST", "/simulations/sim-a/stop", { body: { reason: "done" } }],
  [200, "GET", "/checkpoints?limit=1"],
  [200, "GET", "/checkpoints/c1"],
  [200, "PATCH", "/checkpoints/c2", { body: { favorite: true }, headers: { "if-match": '"1"' } }],
  [
    202,
    "POST",
    "/checkpoints/c1/restore",
    { body: { simulationName: "sim-restored", maximumDuration: "2h" } },
  ],
  [200, "DELETE", "/checkpoints/c1?force=true"],
  // Already COMPLETE: returned as it is, as a repeated undelete is.
  [200, "POST", "/checkpoints/c2/undelete"],
  [200, "POST", "/prune"],
  [202, "POST", "/prune", { body: { dryRun: false } }],
  [200, "GET", "/jobs?kind=snapshot,stop"],
  [200, "GET", "/jobs/j1"],
  [200, "GET", OPENAPI_PATH],
];

/** Requests the use cases refuse, each with its status. */
const refusals: [number, ...Request][] = [
  [404, "POST", "/simulations/ghost/snapshots"],
  [409, "POST", "/simulations/sim-off/snapshots"],
  [404, "POST", "/simulations/ghost/stop"],
  [404, "GET", "/checkpoints/nope"],
  [404, "PATCH", "/checkpoints/nope", { body: { name: "x" } }],
  [409, "PATCH", "/checkpoints/c1", { body: { name: "x" }, headers: { "if-match": '"7"' } }],
  [404, "DELETE", "/checkpoints/nope"],
  [409, "DELETE", "/checkpoints/pending"],
  [404, "POST", "/checkpoints/nope/restore"],
  [409, "POST", "/checkpoints/pending/restore"],
  [404, "POST", "/checkpoints/nope/undelete"],
  [409, "POST", "/checkpoints/pending/undelete"],
  [404, "POST", "/prune", { body: { simulation: "sim-x" } }],
  [404, "GET", "/jobs/nope"],
  [404, "GET", "/nothing"],
  [405, "PUT", "/checkpoints/c1"],
];

/** A concrete request path for each route's template. */
const concrete = (template: string) => template.replace("{name}", "sim-a").replace("{id}", "c1");

/** Routes whose handler needs no port, so nothing can make them answer 5xx. */
const CANNOT_FAIL = new Set(["GET /healthz", `GET ${OPENAPI_PATH}`]);

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const document = await theDocument();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it("names every route of the router, and only those", async () => {
    const { routes } = await caller(await world());
    const document = await theDocument();
    const documented = Object.entries(document.paths as Record<string, Json>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("describes every answer the router gives, and the router gives every answer it describes", async () => {
    const document = await theDocument();
    const seen = new Set<string>();
    const checker = openApiChecker(document);
    const record = (answer: SeenAnswer) => {
      const place = checker.check(answer);
      seen.add(`${place.operation} ${place.response}`);
    };

    const { routes, call } = await caller(await world());
    for (const [status, ...request] of [...successes, ...refusals]) {
      const answer = await call(...request);
      expect(answer.status, `${request[0]} ${request[1]}: ${JSON.stringify(answer.body)}`).toBe(
        status,
      );
      if (status < 300 && request[2]?.body !== undefined) {
        expect(checker.requestErrors(request[0], answer.path, request[2].body)).toEqual([]);
      }
      record(answer);
    }
    // Every route refuses a query parameter it does not take (and a bad part in general): 400.
    for (const r of routes) {
      const answer = await call(r.method, `${concrete(r.path)}?bogus=1`);
      expect(answer.status).toBe(400);
      record(answer);
    }
    // A catalog that cannot be reached: every route that reads it answers 5xx.
    const healthy = await world();
    const failing = await caller({
      ...healthy,
      checkpoints: broken(healthy.checkpoints),
      jobs: broken(healthy.jobs),
      providers: broken(healthy.providers),
    });
    for (const r of routes) {
      if (CANNOT_FAIL.has(`${r.method} ${r.path}`)) continue;
      const answer = await failing.call(r.method, concrete(r.path));
      expect(answer.status, `${r.method} ${r.path}`).toBeGreaterThanOrEqual(500);
      record(answer);
    }

    const described = new Set<string>(["(router) RouteNotFound", "(router) MethodNotAllowed"]);
    for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(item as Record<string, Json>)) {
        const key = `${method.toUpperCase()} ${path}`;
        for (const status of Object.keys(operation.responses as Json)) {
          if (status === "5XX" && CANNOT_FAIL.has(key)) continue;
          described.add(`${key} ${status}`);
        }
      }
    }
    expect([...seen].sort()).toEqual([...described].sort());
  });

  it("refuses an answer whose body breaks the documented schema", async () => {
    const checker = openApiChecker(await theDocument());
    expect(() =>
      checker.check({ method: "GET", path: "/jobs/j1", status: 200, body: { id: "j1" } }),
    ).toThrow(/must have required property 'kind'/);
    expect(() => checker.check({ method: "GET", path: "/jobs/j1", status: 409, body: {} })).toThrow(
      /409, not documented/,
    );
    expect(checker.requestErrors("POST", "/prune", { dryRun: "no", extra: 1 })).toHaveLength(2);
  });
});
