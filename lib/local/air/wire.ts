import type { IncomingMessage, ServerResponse } from "node:http";
import { AirApiError, type AirScope } from "./model.ts";
import { paginate } from "./paging.ts";
import {
  CheckpointListQuery,
  CheckpointPatchBody,
  CloneBody,
  parseAir,
  queryValues,
  RunListQuery,
  ShutdownBody,
  SimulationListQuery,
  StartBody,
} from "./schemas.ts";
import type { AirStore } from "./store.ts";

/** What the server tells `onRequest` about each request it answered. */
export interface AirRequestRecord {
  method: string;
  /** The path without the query string, e.g. `/api/v3/simulations/runs/checkpoints/<id>/`. */
  path: string;
  status: number;
}

interface Answer {
  status: number;
  body?: unknown;
}

interface Request {
  /** The request's absolute URL, as DRF's `build_absolute_uri` sees it (for `next`/`previous`). */
  url: URL;
  /** The path's captured id, when the route has one. */
  id: string;
  /** The JSON body; `{}` when empty. */
  body(): Promise<unknown>;
}

interface Endpoint {
  scope: AirScope;
  handle(request: Request): Answer | Promise<Answer>;
}

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Endpoint>>;
}

const READ: AirScope = "air:simulation_read";
const EDIT: AirScope = "air:simulation_edit";
const START_STOP: AirScope = "air:simulation_start_stop";
const CREATE: AirScope = "air:simulation_create";
const DELETE: AirScope = "air:simulation_delete";

const ok = (body: unknown): Answer => ({ status: 200, body });

/**
 * The v3 paths the local server serves, most specific first (as Django resolves them). A DRF
 * router's id segment is `[^/.]+`, so a malformed id reaches the view and is answered 404 there.
 */
function routesOf(store: AirStore): Route[] {
  const query = (request: Request) => queryValues(request.url.searchParams);
  return [
    {
      pattern: /^\/api\/v3\/simulations\/$/,
      methods: {
        GET: {
          scope: READ,
          handle: (request) =>
            ok(
              paginate(
                store.listSimulations(parseAir(SimulationListQuery, query(request))),
                request.url,
              ),
            ),
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/clone\/$/,
      methods: {
        POST: {
          scope: CREATE,
          handle: async (request) => ({
            status: 201,
            body: store.clone(parseAir(CloneBody, await request.body())),
          }),
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/runs\/$/,
      methods: {
        GET: {
          scope: READ,
          handle: (request) =>
            ok(paginate(store.listRuns(parseAir(RunListQuery, query(request))), request.url)),
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/runs\/checkpoints\/$/,
      methods: {
        GET: {
          scope: READ,
          handle: (request) =>
            ok(
              paginate(
                store.listCheckpoints(parseAir(CheckpointListQuery, query(request))),
                request.url,
              ),
            ),
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/runs\/checkpoints\/([^/.]+)\/$/,
      methods: {
        GET: { scope: READ, handle: (request) => ok(store.getCheckpoint(request.id)) },
        PATCH: {
          scope: EDIT,
          handle: async (request) => {
            store.getCheckpoint(request.id);
            return ok(
              store.updateCheckpoint(
                request.id,
                parseAir(CheckpointPatchBody, await request.body()),
              ),
            );
          },
        },
        DELETE: {
          scope: EDIT,
          handle: (request) => {
            store.deleteCheckpoint(request.id);
            return { status: 204 };
          },
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/runs\/([^/.]+)\/$/,
      methods: { GET: { scope: READ, handle: (request) => ok(store.getRun(request.id)) } },
    },
    {
      pattern: /^\/api\/v3\/simulations\/([^/.]+)\/start\/$/,
      methods: {
        PATCH: {
          scope: START_STOP,
          handle: async (request) => {
            store.getSimulation(request.id);
            return ok(store.start(request.id, parseAir(StartBody, await request.body())));
          },
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/([^/.]+)\/shutdown\/$/,
      methods: {
        PATCH: {
          scope: START_STOP,
          handle: async (request) => {
            store.getSimulation(request.id);
            return ok(store.shutdown(request.id, parseAir(ShutdownBody, await request.body())));
          },
        },
      },
    },
    {
      pattern: /^\/api\/v3\/simulations\/([^/.]+)\/$/,
      methods: {
        GET: { scope: READ, handle: (request) => ok(store.getSimulation(request.id)) },
        DELETE: {
          scope: DELETE,
          handle: (request) => {
            store.deleteSimulation(request.id);
            return { status: 204 };
          },
        },
      },
    },
  ];
}

const unauthenticated = (detail: string): AirApiError =>
  new AirApiError(401, { detail }, { "www-authenticate": 'Bearer realm="api"' });

/**
 * DRF's TokenAuthentication with the `Bearer` keyword: no (or another scheme's) credentials and
 * an unknown token are both 401 with `WWW-Authenticate: Bearer`; returns the token's scopes.
 */
function authenticate(
  header: string | undefined,
  tokens: ReadonlyMap<string, ReadonlySet<AirScope>>,
): ReadonlySet<AirScope> {
  const parts = (header ?? "").trim().split(/\s+/);
  if (parts[0]?.toLowerCase() !== "bearer") {
    throw unauthenticated("Authentication credentials were not provided.");
  }
  if (parts.length === 1) throw unauthenticated("Invalid token header. No credentials provided.");
  if (parts.length > 2) {
    throw unauthenticated("Invalid token header. Token string should not contain spaces.");
  }
  const scopes = tokens.get(parts[1] ?? "");
  if (!scopes) throw unauthenticated("Invalid token.");
  return scopes;
}

const MAX_BODY_BYTES = 1_048_576;

/** DRF's JSONParser: an empty body is `{}`, another media type 415, malformed JSON 400. */
async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new AirApiError(413, { detail: "Request body is larger than 1 MiB." });
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new AirApiError(415, { detail: `Unsupported media type "${type}" in request.` });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AirApiError(400, { detail: `JSON parse error - ${(error as Error).message}` });
  }
}

/**
 * Answers one HTTP request as Air's Django REST Framework API does: resolves the path (unknown →
 * 404), authenticates the Bearer token (401), checks the method (405) and the endpoint's scope
 * (403), then runs the endpoint, writing its answer or its refusal in DRF's JSON shapes.
 */
export function createAirRequestHandler(
  store: AirStore,
  tokens: ReadonlyMap<string, ReadonlySet<AirScope>>,
  onRequest?: (record: AirRequestRecord) => void,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const routes = routesOf(store);
  return async (request, response) => {
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
    const method = (request.method ?? "GET").toUpperCase();
    let answer: Answer;
    let headers: Record<string, string> = {};
    try {
      answer = await dispatch(routes, tokens, method, url, request);
    } catch (error) {
      const refusal =
        error instanceof AirApiError
          ? error
          : new AirApiError(500, {
              detail: `A server error occurred: ${(error as Error).message}`,
            });
      answer = { status: refusal.status, body: refusal.body };
      headers = refusal.headers;
    }
    send(response, answer, headers);
    onRequest?.({ method, path: url.pathname, status: answer.status });
  };
}

async function dispatch(
  routes: readonly Route[],
  tokens: ReadonlyMap<string, ReadonlySet<AirScope>>,
  method: string,
  url: URL,
  request: IncomingMessage,
): Promise<Answer> {
  let route: Route | undefined;
  let match: RegExpExecArray | null = null;
  for (const candidate of routes) {
    match = candidate.pattern.exec(url.pathname);
    if (match) {
      route = candidate;
      break;
    }
  }
  if (!route || !match) throw new AirApiError(404, { detail: "Not found." });
  const scopes = authenticate(request.headers.authorization, tokens);
  const endpoint = route.methods[method];
  if (!endpoint) {
    throw new AirApiError(
      405,
      { detail: `Method "${method}" not allowed.` },
      { allow: Object.keys(route.methods).join(", ") },
    );
  }
  if (!scopes.has(endpoint.scope)) {
    throw new AirApiError(403, {
      detail: `You do not have permission to perform this action. Required scope: ${endpoint.scope}.`,
    });
  }
  const id = match[1] ?? "";
  return endpoint.handle({ url, id, body: () => readJsonBody(request) });
}

function send(response: ServerResponse, answer: Answer, headers: Record<string, string>): void {
  if (answer.status === 204 || answer.body === undefined) {
    response.writeHead(answer.status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
