import { randomUUID } from "node:crypto";
import { apiError, SimsnapConnectionError, SimsnapError, SimsnapTimeoutError } from "./errors.ts";
import type {
  Checkpoint,
  CheckpointChanges,
  CheckpointQuery,
  Job,
  JobQuery,
  Page,
  PruneOptions,
  PruneResult,
  RestoreOptions,
  SimulationOverview,
  SnapshotOptions,
  StartOptions,
  StopOptions,
  WaitOptions,
} from "./types.ts";

/** Where the local stack serves the API (`npm start`). */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:8080";

/** How a client reaches the API. */
export interface SimsnapClientOptions {
  /** Base URL of the API (default the local stack's). */
  endpoint?: string;
  /** The fetch to send requests with; pass a signing one (`sigV4Fetch`) for the AWS API. */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Retries of a request that failed in transit or with 502/503/504 (default 2). */
  retries?: number;
  /** Time limit of one HTTP request (default 30 seconds). */
  requestTimeoutMs?: number;
}

type QueryValue = string | number | boolean | Date | readonly string[] | undefined;

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a request answered: the parsed body and the response headers. */
interface Answer<T> {
  body: T;
  headers: Headers;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    // The listener goes with its sleep: a long wait polls many times on one signal.
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * The query string, each name and value percent-encoded by `encodeURIComponent`: a space is
 * `%20`, not the `+` of form encoding (`URLSearchParams`), because `%20` reads as a space to every
 * decoder while `+` does only to form decoders; a simulation named "My First Simulation" must not
 * arrive as `My+First+Simulation`.
 */
function queryString(query: Record<string, QueryValue> = {}): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text =
      value instanceof Date
        ? value.toISOString()
        : Array.isArray(value)
          ? value.join(",")
          : String(value);
    pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

/**
 * A typed client of the simsnap API, for scripts and the `simsnap` CLI. Every method maps to one
 * route; errors are typed exceptions (`SimsnapValidationError`, `SimsnapNotFoundError`,
 * `SimsnapConflictError`, …) carrying the status, the API's code and the fields at fault. Calls
 * that start work send an `Idempotency-Key`, so the client's own retries (and yours, with the same
 * key) never start anything twice.
 */
export class SimsnapClient {
  readonly endpoint: string;
  private readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly retries: number;
  private readonly requestTimeoutMs: number;

  constructor(options: SimsnapClientOptions = {}) {
    this.endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = options.headers ?? {};
    this.retries = options.retries ?? 2;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** `GET /healthz`: resolves when the API answers. */
  async health(): Promise<{ status: string }> {
    return (await this.request<{ status: string }>("GET", "/healthz")).body;
  }

  /** Simulations and what simsnap holds of them. */
  readonly simulations = {
    /** `GET /simulations`: every simulation with its status and checkpoint counts. */
    list: async (): Promise<SimulationOverview[]> =>
      (await this.request<{ items: SimulationOverview[] }>("GET", "/simulations")).body.items,

    /** `POST /simulations/{name}/stop`: stops it, by default after a final snapshot. */
    stop: async (
      simulation: string,
      stop: StopOptions = {},
      options: StartOptions = {},
    ): Promise<Job> =>
      (
        await this.request<Job>("POST", `/simulations/${encodeURIComponent(simulation)}/stop`, {
          body: stop,
          headers: { "idempotency-key": options.idempotencyKey ?? randomUUID() },
        })
      ).body,

    /** `POST /simulations/{name}/snapshots`: takes a snapshot now; resolves with its job. */
    snapshot: async (
      simulation: string,
      snapshot: SnapshotOptions = {},
      options: StartOptions = {},
    ): Promise<Job> =>
      (
        await this.request<Job>(
          "POST",
          `/simulations/${encodeURIComponent(simulation)}/snapshots`,
          {
            body: snapshot,
            headers: { "idempotency-key": options.idempotencyKey ?? randomUUID() },
          },
        )
      ).body,
  };

  /**
   * `POST /prune`: a dry run (the default) resolves with the plans; a real run with its jobs, one
   * per simulation, to wait for.
   */
  async prune(options: PruneOptions = {}, start: StartOptions = {}): Promise<PruneResult> {
    return (
      await this.request<PruneResult>("POST", "/prune", {
        body: options,
        headers: { "idempotency-key": start.idempotencyKey ?? randomUUID() },
      })
    ).body;
  }

  /** The checkpoint catalog. */
  readonly checkpoints = {
    /** `POST /checkpoints/{id}/restore`: starts a new simulation from it; resolves with the job. */
    restore: async (
      id: string,
      restore: RestoreOptions = {},
      options: StartOptions = {},
    ): Promise<Job> =>
      (
        await this.request<Job>("POST", `/checkpoints/${encodeURIComponent(id)}/restore`, {
          body: restore,
          headers: { "idempotency-key": options.idempotencyKey ?? randomUUID() },
        })
      ).body,

    /** `GET /checkpoints`: one page. */
    page: async (query: CheckpointQuery = {}): Promise<Page<Checkpoint>> =>
      (
        await this.request<Page<Checkpoint>>("GET", "/checkpoints", {
          query: { ...query } as Record<string, QueryValue>,
        })
      ).body,

    /** Every checkpoint matching the query, across pages, in the query's ordering. */
    list: (query: CheckpointQuery = {}): AsyncIterable<Checkpoint> =>
      this.paginate((cursor) => this.checkpoints.page({ ...query, cursor })),

    /** `GET /checkpoints/{id}`. */
    get: async (id: string): Promise<Checkpoint> =>
      (await this.request<Checkpoint>("GET", `/checkpoints/${encodeURIComponent(id)}`)).body,

    /**
     * `PATCH /checkpoints/{id}`: changes name, description, tags or favorite. With
     * `expectedVersion` the change applies only to that version (a `SimsnapConflictError` if the
     * checkpoint changed since it was read).
     */
    update: async (
      id: string,
      changes: CheckpointChanges,
      options: { expectedVersion?: number } = {},
    ): Promise<Checkpoint> =>
      (
        await this.request<Checkpoint>("PATCH", `/checkpoints/${encodeURIComponent(id)}`, {
          body: changes,
          headers:
            options.expectedVersion === undefined
              ? {}
              : { "if-match": `"${options.expectedVersion}"` },
        })
      ).body,

    /**
     * `DELETE /checkpoints/{id}`: marks it DELETED, its file moved to the trash until `purgeAfter`
     * (or removed at once with `trashDays` 0); `force` for a favorite.
     */
    delete: async (id: string, options: { force?: boolean } = {}): Promise<Checkpoint> =>
      (
        await this.request<Checkpoint>("DELETE", `/checkpoints/${encodeURIComponent(id)}`, {
          query: { force: options.force ? true : undefined },
        })
      ).body,

    /**
     * `POST /checkpoints/{id}/undelete`: brings a DELETED checkpoint back from the trash to
     * COMPLETE; a COMPLETE one is returned as it is. A 409 says why when it cannot.
     */
    undelete: async (id: string): Promise<Checkpoint> =>
      (
        await this.request<Checkpoint>(
          "POST",
          `/checkpoints/${encodeURIComponent(id)}/undelete`,
          {},
        )
      ).body,
  };

  /** The jobs of long-running actions. */
  readonly jobs = {
    /** `GET /jobs/{id}`. */
    get: async (id: string): Promise<Job> =>
      (await this.request<Job>("GET", `/jobs/${encodeURIComponent(id)}`)).body,

    /** `GET /jobs`: one page, newest first. */
    page: async (query: JobQuery = {}): Promise<Page<Job>> =>
      (
        await this.request<Page<Job>>("GET", "/jobs", {
          query: { ...query } as Record<string, QueryValue>,
        })
      ).body,

    /** Every job matching the query, across pages, newest first. */
    list: (query: JobQuery = {}): AsyncIterable<Job> =>
      this.paginate((cursor) => this.jobs.page({ ...query, cursor })),

    /**
     * Polls a job until it is finished (SUCCEEDED, FAILED or ABORTED) and resolves with it,
     * whatever its outcome; a job still running at `timeoutMs` rejects with `SimsnapTimeoutError`.
     */
    wait: async (id: string, options: WaitOptions = {}): Promise<Job> => {
      const timeoutMs = options.timeoutMs ?? 600_000;
      const intervalMs = options.intervalMs ?? 2_000;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await this.jobs.get(id);
        options.onPoll?.(job);
        if (job.status !== "RUNNING") return job;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new SimsnapTimeoutError(
            `Job ${id} is still ${job.status} after ${Math.round(timeoutMs / 1000)} s`,
            job,
          );
        }
        await sleep(Math.min(intervalMs, left), options.signal);
      }
    },
  };

  private async *paginate<T>(
    load: (cursor: string | undefined) => Promise<Page<T>>,
  ): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const page = await load(cursor);
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /**
   * Sends one request, retrying transport failures and 502/503/504 with backoff: GET, PATCH and
   * DELETE are idempotent by design and POSTs carry an idempotency key, so a retry is always safe.
   */
  protected async request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Answer<T>> {
    const url = `${this.endpoint}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = {
      accept: "application/json",
      // The path as sent, still encoded: behind API Gateway's HTTP API the function sees it
      // decoded (cut at a decoded "?"), and refuses rather than act on another resource.
      "x-simsnap-path": new URL(url).pathname,
      ...this.headers,
      ...options.headers,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const init = {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          ...init,
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (error) {
        if (attempt < this.retries) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw new SimsnapConnectionError(
          `Cannot reach the simsnap API at ${this.endpoint}: ${(error as Error).message}` +
            (this.endpoint === DEFAULT_ENDPOINT ? " (is the local stack running? npm start)" : ""),
          { cause: error },
        );
      }
      if (RETRY_STATUSES.has(response.status) && attempt < this.retries) {
        await response.body?.cancel();
        await sleep(200 * 2 ** attempt);
        continue;
      }
      return this.answer<T>(method, path, response);
    }
  }

  private async answer<T>(method: string, path: string, response: Response): Promise<Answer<T>> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    const correlationId = response.headers.get("x-correlation-id") ?? undefined;
    if (!response.ok) {
      const error = (body as { error?: Parameters<typeof apiError>[1] } | undefined)?.error;
      throw apiError(
        response.status,
        error ?? {
          message: `${method} ${path} answered HTTP ${response.status}: ${text.slice(0, 200)}`,
        },
        correlationId,
      );
    }
    if (body === undefined && text !== "") {
      throw new SimsnapError(`${method} ${path} answered with a body that is not JSON`);
    }
    return { body: body as T, headers: response.headers };
  }
}
