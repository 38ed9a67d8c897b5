import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AirClient, type AirClientOptions } from "../../../../lib/adapters/air/client.ts";
import { ProviderError } from "../../../../lib/domain/errors.ts";
import { startHttpStub, type HttpStub, type StubResponse } from "../../../support/http-stub.ts";

const TOKEN = "nvapi-test-token";

const checkpoint = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `c${n}`,
  run: "r1",
  state: "COMPLETE",
  metadata: null,
  created: `2026-11-0${n}T10:00:00.123456Z`,
  modified: `2026-11-0${n}T10:00:00Z`,
  name: `Checkpoint ${n}`,
  favorite: false,
  ...extra,
});

let stub: HttpStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

async function clientFor(
  handler: Parameters<typeof startHttpStub>[0],
  options: Partial<AirClientOptions> = {},
): Promise<{ client: AirClient; stub: HttpStub }> {
  stub = await startHttpStub(handler);
  return {
    client: new AirClient({ endpoint: stub.url, token: () => TOKEN, ...options }),
    stub,
  };
}

const rejection = async (promise: Promise<unknown>): Promise<ProviderError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error("expected a rejection");
};

/** DRF's limit/offset paging over `items`, writing `next` with another host, as a proxy may. */
const paged =
  (items: unknown[], nextHost = "https://air.example.invalid") =>
  (request: { url: string }): StubResponse => {
    const url = new URL(request.url, "http://stub");
    const limit = Number(url.searchParams.get("limit") ?? "100");
    const offset = Number(url.searchParams.get("offset") ?? "0");
    const next = new URL(`${nextHost}${url.pathname}`);
    next.search = url.search;
    next.searchParams.set("offset", String(offset + limit));
    return {
      json: {
        count: items.length,
        next: offset + limit < items.length ? next.href : null,
        previous: null,
        results: items.slice(offset, offset + limit),
      },
    };
  };

describe("AirClient requests", () => {
  it("sends the current bearer token, JSON and Air's trailing-slash paths under /api/v3/", async () => {
    const tokens = ["first", "rotated"];
    const { client, stub } = await clientFor(
      (request) =>
        request.method === "PATCH"
          ? { json: { ...checkpoint(1), favorite: true } }
          : { json: checkpoint(1) },
      { token: () => tokens.shift() },
    );
    await client.getCheckpoint("c1");
    await client.updateCheckpoint("c1", { favorite: true });
    expect(stub.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ["GET", "/api/v3/simulations/runs/checkpoints/c1/", "Bearer first"],
      ["PATCH", "/api/v3/simulations/runs/checkpoints/c1/", "Bearer rotated"],
    ]);
    expect(stub.requests[1]?.body).toEqual({ favorite: true });
    expect(stub.requests[1]?.headers["content-type"]).toBe("application/json");
  });

  it("keeps an /api/vN path given in the endpoint, behind a proxy prefix too", async () => {
    const { stub } = await clientFor(() => ({ json: { id: "s1", name: "lab", state: "ACTIVE" } }));
    for (const endpoint of [`${stub.url}/api/v3`, `${stub.url}/proxy/api/v3/`]) {
      await new AirClient({ endpoint, token: () => TOKEN }).getSimulation("s1");
    }
    expect(stub.requests.map((r) => r.url)).toEqual([
      "/api/v3/simulations/s1/",
      "/proxy/api/v3/simulations/s1/",
    ]);
  });

  it("shuts down, starts, clones and deletes with the documented bodies", async () => {
    const { client, stub } = await clientFor((request) => {
      if (request.method === "DELETE") return { status: 204 };
      if (request.url.endsWith("/clone/")) {
        return { status: 201, json: { id: "s2", name: "lab-copy", state: "CLONING", extra: 1 } };
      }
      return { json: { id: "s1", name: "lab", state: "PREPARE_SHUTDOWN" } };
    });
    await client.shutdownSimulation("s1", true);
    await client.shutdownSimulation("s1", false);
    await client.startSimulation("s1", "c1");
    await client.startSimulation("s1");
    const clone = await client.cloneSimulation({
      simulation: "s1",
      checkpoint: "c1",
      name: "lab-copy",
      attemptStart: true,
    });
    await client.deleteCheckpoint("c1");
    expect(clone).toEqual({ id: "s2", name: "lab-copy", state: "CLONING" });
    expect(stub.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PATCH", "/api/v3/simulations/s1/shutdown/", { create_checkpoint: true }],
      ["PATCH", "/api/v3/simulations/s1/shutdown/", { create_checkpoint: false }],
      ["PATCH", "/api/v3/simulations/s1/start/", { checkpoint: "c1" }],
      ["PATCH", "/api/v3/simulations/s1/start/", {}],
      [
        "POST",
        "/api/v3/simulations/clone/",
        { simulation: "s1", attempt_start: true, checkpoint: "c1", name: "lab-copy" },
      ],
      ["DELETE", "/api/v3/simulations/runs/checkpoints/c1/", undefined],
    ]);
  });

  it("escapes ids in paths", async () => {
    const { client, stub } = await clientFor(() => ({ json: { id: "r", simulation: "s" } }));
    await client.getRun("a/../b");
    expect(stub.requests[0]?.url).toBe("/api/v3/simulations/runs/a%2F..%2Fb/");
  });
});

describe("AirClient paging", () => {
  it("follows next across pages, with its query, always against the configured endpoint", async () => {
    const items = [1, 2, 3, 4, 5].map((n) => checkpoint(n));
    const { client, stub } = await clientFor(paged(items), { pageSize: 2 });
    const listed = await client.listCheckpoints({ simulation: "s1", ordering: "created" });
    expect(listed.map((c) => c.id)).toEqual(["c1", "c2", "c3", "c4", "c5"]);
    expect(listed[0]?.created).toEqual(new Date("2026-11-01T10:00:00.123456Z"));
    expect(stub.requests.map((r) => r.url)).toEqual([
      "/api/v3/simulations/runs/checkpoints/?simulation=s1&ordering=created&limit=2",
      "/api/v3/simulations/runs/checkpoints/?simulation=s1&ordering=created&limit=2&offset=2",
      "/api/v3/simulations/runs/checkpoints/?simulation=s1&ordering=created&limit=2&offset=4",
    ]);
    // The token went to the stub only, never to the host `next` named.
    expect(stub.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it("answers one page when next is null, and nothing for an empty listing", async () => {
    const { client, stub } = await clientFor(paged([]));
    expect(await client.listSimulations({ name: "lab" })).toEqual([]);
    expect(stub.requests.map((r) => r.url)).toEqual(["/api/v3/simulations/?name=lab&limit=200"]);
  });

  it("refuses a next link that repeats, instead of looping", async () => {
    const { client } = await clientFor((request) => ({
      json: { count: 9, next: `https://x${request.url}`, previous: null, results: [checkpoint(1)] },
    }));
    const error = await rejection(client.listCheckpoints());
    expect(error).toMatchObject({ code: "InvalidPagination", retryable: false });
  });

  it("refuses an empty page that still has a next link", async () => {
    let offset = 0;
    const { client } = await clientFor(() => {
      offset += 10;
      return {
        json: { count: 99, next: `http://x/?offset=${offset}`, previous: null, results: [] },
      };
    });
    expect((await rejection(client.listCheckpoints())).code).toBe("InvalidPagination");
  });
});

describe("AirClient failures", () => {
  it("without a token says where to set it, and sends nothing", async () => {
    const { client, stub } = await clientFor(() => ({ json: {} }), {
      token: () => "  ",
      tokenSource: "the AIR_API_TOKEN environment variable",
    });
    const error = await rejection(client.getSimulation("s1"));
    expect(error).toMatchObject({ code: "Unauthorized", status: 401, retryable: false });
    expect(error.message).toContain("the AIR_API_TOKEN environment variable");
    expect(error.message).toContain("air:simulation_read");
    expect(stub.requests).toEqual([]);
  });

  it("a token source that fails is a retryable TokenUnavailable", async () => {
    const { client } = await clientFor(() => ({ json: {} }), {
      token: () => Promise.reject(new Error("Secrets Manager throttled")),
    });
    const error = await rejection(client.getSimulation("s1"));
    expect(error).toMatchObject({ code: "TokenUnavailable", retryable: true });
    expect(error.message).toContain("Secrets Manager throttled");
  });

  it("maps Air's 403 to Forbidden naming the endpoint's scope", async () => {
    const { client } = await clientFor(() => ({
      status: 403,
      json: { detail: "You do not have permission to perform this action.", request_id: "q" },
    }));
    const error = await rejection(client.shutdownSimulation("s1", true));
    expect(error).toMatchObject({ code: "Forbidden", status: 403 });
    expect(error.message).toContain("air:simulation_start_stop");
  });

  it("a 502 HTML page from a proxy is a retryable error with a short message", async () => {
    const { client } = await clientFor(() => ({
      status: 502,
      text: `<html>${"x".repeat(5000)}</html>`,
    }));
    const error = await rejection(client.getSimulation("s1"));
    expect(error).toMatchObject({ code: "InternalServerException", retryable: true });
    expect(error.message.length).toBeLessThan(500);
  });

  it("a body that is not JSON, or not the documented shape, is InvalidResponse", async () => {
    const { client } = await clientFor((request) =>
      request.url.includes("c1") ? { text: "ok" } : { json: checkpoint(2, { state: "EXPLODED" }) },
    );
    expect(await rejection(client.getCheckpoint("c1"))).toMatchObject({
      code: "InvalidResponse",
      retryable: false,
    });
    const error = await rejection(client.getCheckpoint("c2"));
    expect(error.code).toBe("InvalidResponse");
    expect(error.message).toContain("state");
  });

  it("does not follow a redirect (the token is not replayed) and says to fix the endpoint", async () => {
    const { client, stub } = await clientFor(() => ({
      status: 301,
      headers: { location: "https://elsewhere.invalid/api/v3/simulations/s1/" },
    }));
    const error = await rejection(client.getSimulation("s1"));
    expect(error).toMatchObject({ code: "UnexpectedRedirect", retryable: false });
    expect(error.message).toContain("https://elsewhere.invalid");
    expect(stub.requests).toHaveLength(1);
  });

  it("a request with no answer in time is a retryable TimeoutError", async () => {
    const { client } = await clientFor(() => ({ hang: true }), { timeoutMs: 50 });
    const error = await rejection(client.getSimulation("s1"));
    expect(error).toMatchObject({ code: "TimeoutError", status: 504, retryable: true });
  });

  it("a refused connection is a retryable NetworkError", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const client = new AirClient({ endpoint: `http://127.0.0.1:${port}`, token: () => TOKEN });
    const error = await rejection(client.listSimulations());
    expect(error).toMatchObject({ code: "NetworkError", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });
});
