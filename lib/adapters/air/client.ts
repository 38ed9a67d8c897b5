import * as z from "zod";
import { AppError, ProviderError } from "../../domain/errors.ts";
import { parseJsonOrUndefined } from "../lenient-json.ts";
import { lazySchema } from "../../domain/lazy-schema.ts";

/**
 * The token scopes of the Air v3 API (docs.nvidia.com/dsx-air/api-reference), named in a 403's
 * message so the operator knows which scope the API key lacks instead of guessing.
 */
export type AirScope =
  | "air:simulation_read"
  | "air:simulation_edit"
  | "air:simulation_start_stop"
  | "air:simulation_create"
  | "air:simulation_delete";

/**
 * Where the bearer token comes from, asked before every request: an env var locally, Secrets
 * Manager in AWS (a rotated key is picked up without a restart). `undefined` or `""` means none.
 * After a 401 the client asks once more with `refresh`, so a source that caches (Secrets
 * Manager, once per cold start) reads the current token; a different answer is tried once.
 */
export type AirTokenProvider = (options?: {
  refresh?: boolean;
}) => string | undefined | Promise<string | undefined>;

/** How to reach and authenticate to NVIDIA Air. */
export interface AirClientOptions {
  /**
   * The API's base URL, e.g. `https://api.dsx-air.nvidia.com/api/v3/`; a URL without an
   * `/api/vN` path gets `/api/v3/`, as the official SDK normalises it.
   */
  endpoint: string;
  token: AirTokenProvider;
  /** Where the token is configured, named in 401 messages (e.g. "the AIR_API_TOKEN variable"). */
  tokenSource?: string;
  /** Per request, body included; defaults to 30 s. */
  timeoutMs?: number;
  /** `limit` of each list page; defaults to 200, the SDK's page size. */
  pageSize?: number;
}

/** `created`/`modified` as DRF writes them (ISO 8601), read as a valid `Date`. */
const DateSchema = lazySchema(() =>
  z.iso.datetime({ offset: true, local: true }).pipe(z.coerce.date()),
);

/** A simulation as `GET /simulations/` and `/simulations/{id}/` answer it (fields simsnap reads). */
export const AirSimulationSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    name: z.string(),
    /** Open: a state added by Air reads as UNKNOWN in the port rather than failing the listing. */
    state: z.string().min(1),
    created: DateSchema.optional(),
  }),
);
/** One Air simulation. */
export type AirSimulation = z.infer<typeof AirSimulationSchema>;

/** The checkpoint states Air documents; only COMPLETE ones can be started from or deleted. */
export const AIR_CHECKPOINT_STATES = ["PENDING", "COMPLETE", "DELETED"] as const;

/** A checkpoint as `GET /simulations/runs/checkpoints/…` answers it. */
export const AirCheckpointSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    run: z.string().min(1),
    state: z.enum(AIR_CHECKPOINT_STATES),
    name: z
      .string()
      .nullish()
      .transform((value) => value ?? ""),
    favorite: z
      .boolean()
      .nullish()
      .transform((value) => value ?? false),
    created: DateSchema,
    modified: DateSchema,
  }),
);
/** One Air checkpoint. */
export type AirCheckpoint = z.infer<typeof AirCheckpointSchema>;

/** A run (one start-to-shutdown of a simulation); a checkpoint names its run, not its simulation. */
export const AirRunSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    simulation: z.string().min(1),
  }),
);
/** One Air run. */
export type AirRun = z.infer<typeof AirRunSchema>;

/** DRF's limit/offset page. */
const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int().nonnegative().optional(),
    next: z.string().nullish(),
    results: z.array(item),
  });

/** Filters of `GET /simulations/runs/checkpoints/` that simsnap uses. */
export interface CheckpointFilter {
  simulation?: string;
  /** `created`, `-modified`, …; simsnap lists oldest first so offset paging stays stable. */
  ordering?: string;
}

/** The only fields Air lets anyone change on a checkpoint. */
export interface CheckpointPatch {
  name?: string;
  favorite?: boolean;
}

/** Body of `POST /simulations/clone/`. */
export interface CloneInput {
  simulation: string;
  /** A COMPLETE checkpoint; omitted means Air's most recent one. */
  checkpoint?: string;
  /** Name of the clone; Air otherwise reuses the source's name. */
  name?: string;
  attemptStart: boolean;
}

type Query = Record<string, string | number | boolean | undefined>;

/** One API call, with what a failure message needs to say about it. */
export interface AirCall {
  /** Human name of the operation, for messages ("shut down simulation"). */
  operation: string;
  method: "GET" | "PATCH" | "POST" | "DELETE";
  /** Relative to the API base, with Air's trailing slash. */
  path: string;
  /** The scope the docs name for this endpoint. */
  scope: AirScope;
  query?: Query;
  body?: unknown;
}

/**
 * An error answered by NVIDIA Air, with Air's `request_id` for a support case. Codes follow the
 * ones use cases already decide on (`ResourceNotFoundException`, `ConflictException`, …), so a
 * use case written for one platform reads another's failures the same way.
 */
export class AirServiceError extends ProviderError {
  constructor(
    code: string,
    message: string,
    options: { status: number; retryable?: boolean; requestId?: string; cause?: unknown },
  ) {
    super(code, message, options);
    this.requestId = options.requestId;
  }

  /** Air's request id from the error body, when it sent one. */
  readonly requestId: string | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * DRF's error bodies as one line: `{detail}`, `{field: [messages]}` (nested for nested
 * serializers), `{non_field_errors: […]}` or a bare list; `request_id` is metadata, not a message.
 */
export function drfMessages(body: unknown, prefix = ""): string[] {
  if (typeof body === "string") return body === "" ? [] : [prefix ? `${prefix}: ${body}` : body];
  if (Array.isArray(body)) return body.flatMap((item) => drfMessages(item, prefix));
  if (!isRecord(body)) return [];
  return Object.entries(body).flatMap(([key, value]) => {
    if (key === "request_id") return [];
    const field =
      key === "detail" || key === "non_field_errors" ? prefix : prefix ? `${prefix}.${key}` : key;
    return drfMessages(value, field);
  });
}

const summary = (body: unknown, status: number): string =>
  drfMessages(body).join("; ") || `HTTP ${status}`;

/**
 * Maps an Air error answer onto a `ProviderError`. 401 and 403 messages tell the operator what
 * to fix (a missing or expired token, a missing scope named as the docs name it), since that is
 * the one failure nobody can retry away; throttling and server errors are retryable.
 */
export function toAirError(
  status: number,
  body: unknown,
  call: Pick<AirCall, "operation" | "method" | "path" | "scope">,
  tokenSource = "the configured NVIDIA Air API token",
): AirServiceError {
  const requestId =
    isRecord(body) && typeof body.request_id === "string" ? body.request_id : undefined;
  const said = summary(body, status);
  const where = `${call.method} /${call.path}`;
  const options = { status, requestId };
  if (status === 401) {
    return new AirServiceError(
      "Unauthorized",
      `NVIDIA Air rejected the token to ${call.operation} (${said}): the API token from ${tokenSource} is missing, malformed, expired or revoked; create a new scoped API key and set it there`,
      options,
    );
  }
  if (status === 403) {
    return new AirServiceError(
      "Forbidden",
      `NVIDIA Air refused to ${call.operation} (${said}): ${where} needs scope ${call.scope}; give the API key from ${tokenSource} that scope, or use one that has it`,
      options,
    );
  }
  if (status === 404) {
    return new AirServiceError(
      "ResourceNotFoundException",
      `NVIDIA Air could not ${call.operation}: ${where} does not exist (${said})`,
      options,
    );
  }
  if (status === 400) {
    return new AirServiceError(
      "ValidationException",
      `NVIDIA Air refused to ${call.operation}: ${said}`,
      options,
    );
  }
  if (status === 409) {
    return new AirServiceError(
      "ConflictException",
      `NVIDIA Air could not ${call.operation} now: ${said}`,
      options,
    );
  }
  if (status === 429) {
    return new AirServiceError(
      "ThrottlingException",
      `NVIDIA Air throttled the request to ${call.operation}: ${said}`,
      { ...options, retryable: true },
    );
  }
  if (status >= 500) {
    return new AirServiceError(
      "InternalServerException",
      `NVIDIA Air failed to ${call.operation} (HTTP ${status}): ${said}`,
      { ...options, retryable: true },
    );
  }
  return new AirServiceError(
    `Http${status}Error`,
    `NVIDIA Air answered HTTP ${status} to ${where} (${call.operation}): ${said}`,
    { ...options, retryable: status === 408 },
  );
}

const invalidResponse = (message: string, cause?: unknown): ProviderError =>
  new ProviderError("InvalidResponse", message, { status: 502, retryable: false, cause });

/**
 * A path ending in `/api/vN` is kept (behind a proxy prefix too), any other becomes `/api/v3/`;
 * always ending in `/` so relative paths append.
 */
function apiBase(endpoint: string): URL {
  const url = new URL(endpoint);
  if (!/(^|\/)api\/v\d+\/?$/.test(url.pathname)) url.pathname = "/api/v3/";
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  url.search = "";
  url.hash = "";
  return url;
}

const segment = (id: string): string => {
  if (id === "")
    throw new ProviderError("ValidationException", "Empty NVIDIA Air id", { status: 400 });
  return encodeURIComponent(id);
};

/**
 * A small typed client for the NVIDIA Air v3 endpoints simsnap calls, on Node's own `fetch`.
 * Every answer passes a zod schema (extra fields are ignored, so Air can add some), and every
 * failure, from a refused token to a dropped connection or a malformed body, is a
 * `ProviderError` whose `retryable` tells a use case whether trying later can help.
 */
export class AirClient {
  private readonly base: URL;
  private readonly token: AirTokenProvider;
  private readonly tokenSource: string | undefined;
  private readonly timeoutMs: number;
  private readonly pageSize: number;

  constructor(options: AirClientOptions) {
    this.base = apiBase(options.endpoint);
    this.token = options.token;
    this.tokenSource = options.tokenSource;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.pageSize = options.pageSize ?? 200;
  }

  /** Every simulation visible to the token, all pages; `name` is Air's (exact) name filter. */
  listSimulations(filter: { name?: string } = {}): Promise<AirSimulation[]> {
    return this.listAll(
      {
        operation: "list simulations",
        method: "GET",
        path: "simulations/",
        scope: "air:simulation_read",
        query: { name: filter.name },
      },
      AirSimulationSchema,
    );
  }

  /** One simulation by id. */
  getSimulation(id: string): Promise<AirSimulation> {
    return this.send(
      {
        operation: `read simulation ${id}`,
        method: "GET",
        path: `simulations/${segment(id)}/`,
        scope: "air:simulation_read",
      },
      AirSimulationSchema,
    );
  }

  /** Starts an INACTIVE simulation, from `checkpoint` or, without one, its most recent one. */
  async startSimulation(id: string, checkpoint?: string): Promise<void> {
    await this.send(
      {
        operation: `start simulation ${id}`,
        method: "PATCH",
        path: `simulations/${segment(id)}/start/`,
        scope: "air:simulation_start_stop",
        body: checkpoint === undefined ? {} : { checkpoint },
      },
      undefined,
    );
  }

  /**
   * Shuts an ACTIVE simulation down; with `createCheckpoint` Air saves a new checkpoint on the
   * way (SAVING), without it the simulation is purged.
   */
  async shutdownSimulation(id: string, createCheckpoint: boolean): Promise<void> {
    await this.send(
      {
        operation: `shut down simulation ${id}`,
        method: "PATCH",
        path: `simulations/${segment(id)}/shutdown/`,
        scope: "air:simulation_start_stop",
        body: { create_checkpoint: createCheckpoint },
      },
      undefined,
    );
  }

  /** A new, independent simulation from `simulation`'s checkpoint; answers the clone. */
  cloneSimulation(input: CloneInput): Promise<AirSimulation> {
    const body: Record<string, unknown> = {
      simulation: input.simulation,
      attempt_start: input.attemptStart,
    };
    if (input.checkpoint !== undefined) body.checkpoint = input.checkpoint;
    if (input.name !== undefined) body.name = input.name;
    return this.send(
      {
        operation: `clone simulation ${input.simulation}`,
        method: "POST",
        path: "simulations/clone/",
        scope: "air:simulation_create",
        body,
      },
      AirSimulationSchema,
    );
  }

  /**
   * Starts deleting a simulation (`DELETE simulations/{id}/`, 204): Air moves it to DELETING for
   * a few minutes, then it is gone, its runs and checkpoints with it.
   */
  async deleteSimulation(id: string): Promise<void> {
    await this.send(
      {
        operation: `delete simulation ${id}`,
        method: "DELETE",
        path: `simulations/${segment(id)}/`,
        scope: "air:simulation_delete",
      },
      undefined,
    );
  }

  /** One run by id: how a checkpoint is traced back to its simulation. */
  getRun(id: string): Promise<AirRun> {
    return this.send(
      {
        operation: `read run ${id}`,
        method: "GET",
        path: `simulations/runs/${segment(id)}/`,
        scope: "air:simulation_read",
      },
      AirRunSchema,
    );
  }

  /** Every checkpoint matching `filter`, all pages, in every state unless filtered. */
  listCheckpoints(filter: CheckpointFilter = {}): Promise<AirCheckpoint[]> {
    return this.listAll(
      {
        operation: "list checkpoints",
        method: "GET",
        path: "simulations/runs/checkpoints/",
        scope: "air:simulation_read",
        query: { ...filter },
      },
      AirCheckpointSchema,
    );
  }

  /** One checkpoint by id. */
  getCheckpoint(id: string): Promise<AirCheckpoint> {
    return this.send(
      {
        operation: `read checkpoint ${id}`,
        method: "GET",
        path: `simulations/runs/checkpoints/${segment(id)}/`,
        scope: "air:simulation_read",
      },
      AirCheckpointSchema,
    );
  }

  /** Renames or (un)favorites a checkpoint; Air accepts no other field. */
  updateCheckpoint(id: string, patch: CheckpointPatch): Promise<AirCheckpoint> {
    const body: Record<string, unknown> = {};
    if (patch.name !== undefined) body.name = patch.name;
    if (patch.favorite !== undefined) body.favorite = patch.favorite;
    return this.send(
      {
        operation: `update checkpoint ${id}`,
        method: "PATCH",
        path: `simulations/runs/checkpoints/${segment(id)}/`,
        scope: "air:simulation_edit",
        body,
      },
      AirCheckpointSchema,
    );
  }

  /** Deletes a COMPLETE checkpoint: Air keeps the record, in state DELETED. */
  async deleteCheckpoint(id: string): Promise<void> {
    await this.send(
      {
        operation: `delete checkpoint ${id}`,
        method: "DELETE",
        path: `simulations/runs/checkpoints/${segment(id)}/`,
        scope: "air:simulation_edit",
      },
      undefined,
    );
  }

  /**
   * Every page of a DRF list. `next` is followed for its query (offset, limit and filters as
   * Air wrote them) but always against the configured base URL, so the token never goes to a
   * host `next` names (a proxy rewriting scheme or host, a tampered body). A `next` seen before,
   * or one after an empty page, would loop forever, so both are errors.
   */
  private async listAll<T extends z.ZodType>(call: AirCall, item: T): Promise<z.output<T>[]> {
    const page = pageSchema(item);
    const items: z.output<T>[] = [];
    const seen = new Set<string>();
    let query = this.queryString({ ...call.query, limit: this.pageSize });
    for (;;) {
      seen.add(query);
      const answer = await this.send({ ...call, query: undefined }, page, query);
      items.push(...answer.results);
      if (answer.next === undefined || answer.next === null || answer.next === "") return items;
      let next: string;
      try {
        next = new URL(answer.next, this.base).searchParams.toString();
      } catch (error) {
        throw invalidResponse(`NVIDIA Air's next page link is not a URL: ${answer.next}`, error);
      }
      if (answer.results.length === 0 || seen.has(next)) {
        throw new ProviderError(
          "InvalidPagination",
          `NVIDIA Air's listing to ${call.operation} does not advance (next ${answer.next} after ${items.length} items)`,
          { status: 502, retryable: false },
        );
      }
      query = next;
    }
  }

  private queryString(query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    return params.toString();
  }

  private async bearer(call: AirCall, refresh = false): Promise<string> {
    let token: string | undefined;
    try {
      token = await this.token(refresh ? { refresh } : undefined);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ProviderError(
        "TokenUnavailable",
        `Could not read the NVIDIA Air API token from ${this.tokenSource ?? "its source"} to ${call.operation}: ${(error as Error).message ?? String(error)}`,
        { status: 503, retryable: true, cause: error },
      );
    }
    if (token === undefined || token.trim() === "") {
      throw new AirServiceError(
        "Unauthorized",
        `No NVIDIA Air API token to ${call.operation}: set one in ${this.tokenSource ?? "the provider's token configuration"} (a scoped API key with ${call.scope})`,
        { status: 401 },
      );
    }
    return token.trim();
  }

  private send<T extends z.ZodType>(
    call: AirCall,
    schema: T,
    rawQuery?: string,
  ): Promise<z.output<T>>;
  private send(call: AirCall, schema: undefined): Promise<undefined>;
  private async send<T extends z.ZodType>(
    call: AirCall,
    schema: T | undefined,
    rawQuery?: string,
  ): Promise<z.output<T> | undefined> {
    const token = await this.bearer(call);
    try {
      return await this.sendWith(token, call, schema, rawQuery);
    } catch (error) {
      if (!(error instanceof AirServiceError) || error.status !== 401) throw error;
      // The token may have been rotated since the source cached it: one more try with the
      // current one, never a loop (a second 401 is the operator's to fix, and says so).
      const fresh = await this.bearer(call, true);
      if (fresh === token) throw error;
      return await this.sendWith(fresh, call, schema, rawQuery);
    }
  }

  private async sendWith<T extends z.ZodType>(
    token: string,
    call: AirCall,
    schema: T | undefined,
    rawQuery?: string,
  ): Promise<z.output<T> | undefined> {
    const url = new URL(call.path, this.base);
    url.search = rawQuery ?? this.queryString(call.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: "application/json",
    };
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    if (body !== undefined) headers["content-type"] = "application/json";

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: call.method,
        headers,
        body,
        // A redirect is a misconfigured endpoint (http → https, a missing /api/v3): say so rather
        // than replay the token to wherever it points.
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error | undefined)?.name === "TimeoutError";
      throw new ProviderError(
        timedOut ? "TimeoutError" : "NetworkError",
        timedOut
          ? `NVIDIA Air did not answer ${call.method} /${call.path} (${call.operation}) within ${this.timeoutMs} ms`
          : `NVIDIA Air request to ${call.operation} (${call.method} ${url.host}/${call.path}) failed: ${describeCause(error)}`,
        { status: timedOut ? 504 : 503, retryable: true, cause: error },
      );
    }

    const parsed = parseJsonOrUndefined(text);
    if (response.status >= 300 && response.status < 400) {
      throw new ProviderError(
        "UnexpectedRedirect",
        `NVIDIA Air redirected ${call.method} /${call.path} to ${response.headers.get("location") ?? "(no location)"}: point the Air endpoint (${this.base.href}) at the API itself`,
        { status: 502, retryable: false },
      );
    }
    if (!response.ok) {
      // A proxy's HTML error page is no message: its first few hundred characters are enough.
      throw toAirError(response.status, parsed ?? text.slice(0, 300), call, this.tokenSource);
    }
    if (schema === undefined) return undefined;
    if (parsed === undefined) {
      throw invalidResponse(
        `NVIDIA Air answered ${response.status} to ${call.method} /${call.path} with a body that is not JSON`,
      );
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issues = result.error.issues
        .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
        .join("; ");
      throw invalidResponse(
        `NVIDIA Air's answer to ${call.method} /${call.path} does not match the documented shape: ${issues}`,
        result.error,
      );
    }
    return result.data;
  }
}

function describeCause(error: unknown): string {
  const message = (error as Error | undefined)?.message ?? String(error);
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code !== undefined ? `${message} (${cause.code})` : message;
}
