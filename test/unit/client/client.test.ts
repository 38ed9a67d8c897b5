import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { SimsnapClient } from "../../../packages/client/src/client.ts";
import {
  SimsnapApiError,
  SimsnapConflictError,
  SimsnapConnectionError,
  SimsnapNotFoundError,
  SimsnapTimeoutError,
  SimsnapValidationError,
} from "../../../packages/client/src/errors.ts";
import { executeApiRegion } from "../../../packages/client/src/sigv4.ts";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** A fetch answering from a script, recording what was sent. */
function scripted(answers: (Response | Error)[]) {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      ...(typeof init?.body === "string" ? { body: init.body } : {}),
    });
    const next = answers.shift();
    if (next === undefined) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return next;
  }) as typeof globalThis.fetch;
  return { sent, client: new SimsnapClient({ endpoint: "http://api/", fetch }) };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
const apiError = (status: number, code: string, details: unknown[] = []) =>
  json(
    status,
    { error: { code, message: `${code} happened`, details } },
    { "x-correlation-id": "c-1" },
  );

describe("SimsnapClient", () => {
  it("throws typed errors carrying status, code, details and correlation id", async () => {
    const { client } = scripted([
      apiError(400, "ValidationError", [{ path: "limit", message: "too big" }]),
      apiError(404, "NotFound"),
      apiError(409, "Conflict"),
      apiError(500, "InternalError"),
    ]);
    const validation = await client.checkpoints.page({ limit: 5000 }).catch((e: unknown) => e);
    expect(validation).toBeInstanceOf(SimsnapValidationError);
    expect(validation).toMatchObject({
      status: 400,
      code: "ValidationError",
      message: "ValidationError happened",
      details: [{ path: "limit", message: "too big" }],
      correlationId: "c-1",
    });
    await expect(client.checkpoints.get("x")).rejects.toBeInstanceOf(SimsnapNotFoundError);
    await expect(client.checkpoints.delete("x")).rejects.toBeInstanceOf(SimsnapConflictError);
    const internal = await client.health().catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(SimsnapApiError);
    expect(internal).not.toBeInstanceOf(SimsnapValidationError);
  });

  it("undeletes with POST /checkpoints/{id}/undelete, the id encoded, and no body", async () => {
    const { client, sent } = scripted([json(200, { id: "a/b", state: "COMPLETE" })]);
    expect(await client.checkpoints.undelete("a/b")).toEqual({ id: "a/b", state: "COMPLETE" });
    expect(sent).toEqual([
      expect.objectContaining({ method: "POST", url: "http://api/checkpoints/a%2Fb/undelete" }),
    ]);
    expect(sent[0]).not.toHaveProperty("body");
  });

  it("retries a POST that failed in transit with the same idempotency key", async () => {
    const { client, sent } = scripted([
      new TypeError("fetch failed"),
      json(503, { error: { code: "RetryLater", message: "later" } }),
      json(202, { id: "job-1", status: "RUNNING" }),
    ]);
    const job = await client.simulations.snapshot("sim a", { name: "n" });
    expect(job).toMatchObject({ id: "job-1" });
    expect(sent).toHaveLength(3);
    expect(sent.map((s) => s.url)).toEqual(
      Array(3).fill("http://api/simulations/sim%20a/snapshots"),
    );
    const keys = new Set(sent.map((s) => s.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[0]?.body).toBe('{"name":"n"}');
  });

  it("reports an unreachable API as a connection error after its retries", async () => {
    const { client, sent } = scripted([
      new TypeError("fetch failed"),
      new TypeError("fetch failed"),
      new TypeError("fetch failed"),
    ]);
    await expect(client.health()).rejects.toBeInstanceOf(SimsnapConnectionError);
    expect(sent).toHaveLength(3);
  });

  it("sends list filters as query parameters and follows cursors across pages", async () => {
    const { client, sent } = scripted([
      json(200, { items: [{ id: "a" }, { id: "b" }], nextCursor: "n1" }),
      json(200, { items: [{ id: "c" }] }),
    ]);
    const ids: string[] = [];
    for await (const checkpoint of client.checkpoints.list({
      state: ["COMPLETE", "FAILED"],
      tag: "gold",
      favorite: false,
      createdAfter: new Date("2026-01-01T00:00:00Z"),
      ordering: ["-favorite", "name"],
      limit: 2,
    })) {
      ids.push(checkpoint.id);
    }
    expect(ids).toEqual(["a", "b", "c"]);
    const first = new URL(sent[0]?.url as string);
    expect(Object.fromEntries(first.searchParams)).toEqual({
      state: "COMPLETE,FAILED",
      tag: "gold",
      favorite: "false",
      createdAfter: "2026-01-01T00:00:00.000Z",
      ordering: "-favorite,name",
      limit: "2",
    });
    expect(new URL(sent[1]?.url as string).searchParams.get("cursor")).toBe("n1");
  });

  it("percent-encodes simulation names in paths and queries, a space as %20, never +", async () => {
    const names = ["My First Simulation", "東京 Überwachung 🌊", "Lab #3: 50% + more? a&b=c"];
    const { client, sent } = scripted(
      names.flatMap(() => [
        json(202, { id: "job-1", status: "RUNNING" }),
        json(202, { id: "job-2", status: "RUNNING" }),
        json(200, { items: [] }),
        json(200, { items: [] }),
      ]),
    );
    for (const name of names) {
      await client.simulations.stop(name);
      await client.simulations.snapshot(name);
      await client.checkpoints.page({ simulation: name });
      await client.jobs.page({ simulation: name });
    }
    expect(sent[0]?.url).toBe("http://api/simulations/My%20First%20Simulation/stop");
    expect(sent[2]?.url).toBe("http://api/checkpoints?simulation=My%20First%20Simulation");
    for (const [i, name] of names.entries()) {
      const [stop, snapshot, checkpoints, jobs] = sent.slice(i * 4, i * 4 + 4).map((s) => s.url);
      for (const url of [stop, snapshot, checkpoints, jobs]) expect(url).not.toContain("+");
      // Each URL reads back to exactly the name: one path segment, one query value.
      const segment = (url: string | undefined) =>
        decodeURIComponent(new URL(url ?? "").pathname.split("/")[2] ?? "");
      expect(segment(stop)).toBe(name);
      expect(segment(snapshot)).toBe(name);
      for (const url of [checkpoints, jobs]) {
        expect(Object.fromEntries(new URL(url ?? "").searchParams)).toEqual({ simulation: name });
      }
    }
  });

  it("waits for a job until it is finished, reporting each poll", async () => {
    const { client } = scripted([
      json(200, { id: "j", status: "RUNNING" }),
      json(200, { id: "j", status: "RUNNING" }),
      json(200, { id: "j", status: "FAILED", error: { code: "X", message: "no" } }),
    ]);
    const polls: string[] = [];
    const job = await client.jobs.wait("j", { intervalMs: 1, onPoll: (j) => polls.push(j.status) });
    expect(job).toMatchObject({ status: "FAILED" });
    expect(polls).toEqual(["RUNNING", "RUNNING", "FAILED"]);
  });

  it("leaves no abort listener behind on the caller's signal, however many times it polls", async () => {
    const { client } = scripted([
      ...Array.from({ length: 12 }, () => json(200, { id: "j", status: "RUNNING" })),
      json(200, { id: "j", status: "SUCCEEDED" }),
    ]);
    const signal = new AbortController().signal;
    await client.jobs.wait("j", { intervalMs: 1, signal });
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("gives up waiting at the timeout with the job as last seen", async () => {
    const { client } = scripted(
      Array.from({ length: 50 }, () => json(200, { id: "j", status: "RUNNING" })),
    );
    const error = await client.jobs
      .wait("j", { timeoutMs: 30, intervalMs: 5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimsnapTimeoutError);
    expect((error as SimsnapTimeoutError).job).toMatchObject({ status: "RUNNING" });
  });

  it("sends If-Match only when a version is expected", async () => {
    const { client, sent } = scripted([json(200, { id: "c" }), json(200, { id: "c" })]);
    await client.checkpoints.update("c", { name: "n" }, { expectedVersion: 4 });
    await client.checkpoints.update("c", { favorite: true });
    expect(sent[0]?.headers["if-match"]).toBe('"4"');
    expect(sent[1]?.headers).not.toHaveProperty("if-match");
  });
});

describe("executeApiRegion", () => {
  it("finds the region of an API Gateway endpoint, and nothing in other URLs", () => {
    expect(executeApiRegion("https://abc123.execute-api.eu-west-1.amazonaws.com")).toBe(
      "eu-west-1",
    );
    expect(executeApiRegion("http://127.0.0.1:8080")).toBeUndefined();
    expect(executeApiRegion("not a url")).toBeUndefined();
  });
});
