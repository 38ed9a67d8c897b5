// The console's only way to simsnap: the public HTTP API (docs/http-api.md), same origin.
import { signRequest, type Credentials } from "./sign.ts";
import type { Checkpoint, Job, Page, RetentionPlan, Simulation } from "./types.ts";

/** An error as the API gave it: `{"error":{"code","message","details"}}` and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

const newKey = () =>
  typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

/** What an answer that is not the API's error shape (API Gateway's own 403, a proxy's 502) says. */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  const correlationId = response.headers.get("x-correlation-id") ?? undefined;
  try {
    const body = JSON.parse(text) as {
      error?: { code: string; message: string; details?: { path: string; message: string }[] };
      message?: string;
      Message?: string;
    };
    if (body.error) {
      return new ApiError(
        response.status,
        body.error.code,
        body.error.message,
        body.error.details ?? [],
        correlationId,
      );
    }
    const message = body.message ?? body.Message;
    if (message) return new ApiError(response.status, `HTTP ${response.status}`, message);
  } catch {
    // Not JSON: shown as it came.
  }
  return new ApiError(
    response.status,
    `HTTP ${response.status}`,
    text.trim() || response.statusText || "No answer body",
    [],
    correlationId,
  );
}

export interface ApiOptions {
  base: string;
  credentials?: () => Credentials | undefined;
}

export function createApi(options: ApiOptions) {
  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(path, options.base).toString();
    const text = body === undefined ? undefined : JSON.stringify(body);
    let all: Record<string, string> = {
      accept: "application/json",
      // The path as sent, still encoded, as @simsnap/client sends it: behind API Gateway's HTTP
      // API the function sees the path decoded (cut at a decoded "?") and refuses rather than act
      // on another checkpoint or simulation than the one clicked.
      "x-simsnap-path": new URL(url).pathname,
      ...(text === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    };
    const credentials = options.credentials?.();
    if (credentials) {
      all = await signRequest(
        { method, url, headers: all, ...(text === undefined ? {} : { body: text }) },
        credentials,
      );
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: all,
        ...(text === undefined ? {} : { body: text }),
      });
    } catch (error) {
      throw new ApiError(0, "NetworkError", `The API could not be reached: ${String(error)}`);
    }
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }
  const enc = encodeURIComponent;
  // A fresh key per click: a retried request is the same job, a second click a new one.
  const startWork = () => ({ "idempotency-key": newKey() });

  return {
    simulations: () => call<Page<Simulation>>("GET", "/simulations"),
    checkpointsPage: (simulation: string, cursor?: string) =>
      call<Page<Checkpoint>>(
        "GET",
        `/checkpoints?simulation=${enc(simulation)}&ordering=-createdAt&limit=1000${
          cursor ? `&cursor=${enc(cursor)}` : ""
        }`,
      ),
    newestCheckpoints: (simulation: string) =>
      call<Page<Checkpoint>>(
        "GET",
        `/checkpoints?simulation=${enc(simulation)}&ordering=-createdAt&limit=20`,
      ),
    jobs: (query: string) => call<Page<Job>>("GET", `/jobs?${query}`),
    job: (id: string) => call<Job>("GET", `/jobs/${enc(id)}`),
    updateCheckpoint: (id: string, patch: { favorite?: boolean; name?: string }) =>
      call<Checkpoint>("PATCH", `/checkpoints/${enc(id)}`, patch),
    snapshot: (simulation: string, name?: string) =>
      call<Job>(
        "POST",
        `/simulations/${enc(simulation)}/snapshots`,
        name ? { name } : {},
        startWork(),
      ),
    stop: (simulation: string) =>
      call<Job>("POST", `/simulations/${enc(simulation)}/stop`, { snapshot: true }, startWork()),
    restore: (id: string) => call<Job>("POST", `/checkpoints/${enc(id)}/restore`, {}, startWork()),
    // No idempotency key: an undelete of a checkpoint already back answers it as it is.
    undelete: (id: string) => call<Checkpoint>("POST", `/checkpoints/${enc(id)}/undelete`),
    prunePlan: (simulation: string) =>
      call<{ dryRun: true; plans: RetentionPlan[] }>("POST", "/prune", {
        simulation,
        dryRun: true,
      }),
    prune: (simulation: string) =>
      call<{ dryRun: false; runId: string; jobs: Job[] }>(
        "POST",
        "/prune",
        { simulation, dryRun: false },
        startWork(),
      ),
  };
}

/** The console's API client. */
export type Api = ReturnType<typeof createApi>;

/**
 * Every checkpoint of one simulation, oldest first. Read newest first, 1,000 a page, and each
 * page but the last handed to `progress` with all read so far (oldest first), so the newest can
 * be drawn while older ones are still being read.
 */
export async function allCheckpoints(
  api: Api,
  simulation: string,
  progress: (soFar: Checkpoint[]) => void = () => undefined,
): Promise<Checkpoint[]> {
  const newestFirst: Checkpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.checkpointsPage(simulation, cursor);
    newestFirst.push(...page.items);
    cursor = page.nextCursor;
    if (cursor) progress([...newestFirst].reverse());
  } while (cursor);
  return newestFirst.reverse();
}
