/**
 * # Local NVIDIA Air v3 server
 *
 * An API-faithful stand-in for `https://api.dsx-air.nvidia.com/api/v3/`, so simsnap's Air
 * adapter, its tests and `npm start` meet Air's paths, fields, states, paging, Bearer auth and
 * error answers without an Air account. State is in memory; simulations move through Air's
 * documented states after configurable delays, and every step is visible through GET.
 *
 * ```ts
 * const air = await startAirServer({
 *   tokens: { "test-token": ["air:simulation_read", "air:simulation_edit",
 *                            "air:simulation_start_stop", "air:simulation_create",
 *                            "air:simulation_delete"] },
 *   delays: 0,                      // ms per timed state (or per state; "manual" = until advance())
 *   maxCheckpointsPerSimulation: 3, // Air deletes older non-favorites beyond this on shutdown
 *   simulations: [{ name: "demo", state: "ACTIVE", checkpoints: [{ name: "first" }] }],
 * });
 * await fetch(`${air.baseUrl}simulations/?name=demo`, {
 *   headers: { authorization: "Bearer test-token" },
 * });
 * await air.close();
 * ```
 *
 * ## Served (base `${endpoint}/api/v3/`, trailing slash required)
 * - `GET simulations/` (`id`, `name`, `creator`, `state`, `ordering`, `limit`, `offset`),
 *   `GET simulations/{id}/` — scope `air:simulation_read`.
 * - `DELETE simulations/{id}/` — `air:simulation_delete`; 204 without a body, the simulation
 *   DELETING, then gone with its runs and checkpoints (404); 400 `{"detail"}` when already DELETING.
 * - `PATCH simulations/{id}/start/` `{checkpoint?}` and `PATCH simulations/{id}/shutdown/`
 *   `{create_checkpoint?}` — `air:simulation_start_stop`; 200 with the simulation.
 * - `POST simulations/clone/` `{simulation, checkpoint?, attempt_start?, name?}` —
 *   `air:simulation_create` (as the reference says); 201 with the new simulation.
 * - `GET simulations/runs/` (`simulation`, `ordering`), `GET simulations/runs/{id}/` — read.
 * - `GET simulations/runs/checkpoints/` (`simulation`, `run`, `state`, `favorite`, `search`,
 *   `ordering`), `GET …/checkpoints/{id}/` — read; `PATCH …/checkpoints/{id}/` `{name, favorite}`
 *   (other fields ignored, as DRF does) and `DELETE …/checkpoints/{id}/` (COMPLETE only → 204,
 *   state DELETED) — `air:simulation_edit`.
 *
 * Paths: start INACTIVE → REQUESTING → PROVISIONING → PREPARE_BOOT → BOOTING → ACTIVE (a new run
 * each time); shutdown ACTIVE → PREPARE_SHUTDOWN → SHUTTING_DOWN → SAVING (checkpoint PENDING,
 * older ones deleted to make room) → INACTIVE (checkpoint COMPLETE); with `create_checkpoint:
 * false` ACTIVE → PREPARE_PURGE → PURGING → INACTIVE; clone CLONING → INACTIVE (→ the start path
 * with `attempt_start`); delete (any state but DELETING) DELETING → gone.
 *
 * Answers: lists `{count, next, previous, results}` with absolute `next`/`previous` URLs;
 * 401 `{"detail"}` + `WWW-Authenticate: Bearer` without or with an unknown token; 403
 * `{"detail": "… Required scope: air:…"}`; 404 `{"detail"}` for unknown or malformed ids; 400
 * `{"field": ["…"]}` for invalid input, `{"detail"}` for a request the state forbids (start when
 * not INACTIVE, shutdown when not ACTIVE, DELETE of a non-COMPLETE checkpoint); 405, 415 `{"detail"}`.
 *
 * ## Test hooks (on the returned `AirServer`)
 * `simulations()` (ids of seeded ones), `addSimulation(seed)`, `deleteCheckpointByAir(id)` (Air
 * deleting on its own), `setState(id, state)` (e.g. INVALID; abandons the current path),
 * `advance(id)` (leave the current state now), `idle(id?)` (resolves at the end of the path),
 * and the `onRequest` option (told method, path and status of every answered request).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod";
import {
  AIR_CHECKPOINT_STATES,
  AIR_SCOPES,
  AIR_SIMULATION_STATES,
  AIR_TIMED_STATES,
  type AirCheckpointJson,
  type AirScope,
  type AirSimulationJson,
  type AirSimulationState,
  type AirTimedState,
} from "./model.ts";
import { AirStore, type AirDelays, type AirSimulationSeed } from "./store.ts";
import { createAirRequestHandler, type AirRequestRecord } from "./wire.ts";

export type { AirRequestRecord } from "./wire.ts";
export type { AirCheckpointSeed, AirSimulationSeed } from "./store.ts";
export type {
  AirCheckpointJson,
  AirPage,
  AirRunJson,
  AirScope,
  AirSimulationJson,
  AirSimulationState,
} from "./model.ts";

/** How long each timed state lasts when `delays` does not say: quick enough for the local demo. */
export const DEFAULT_AIR_STATE_DELAY_MS = 250;

/** How many checkpoints (PENDING or COMPLETE) a simulation keeps before Air makes room. */
export const DEFAULT_MAX_CHECKPOINTS_PER_SIMULATION = 10;

/** How the local Air server listens, whom it lets in, and how its simulations behave. */
export interface AirServerOptions {
  /** Bearer tokens the server accepts, each with its scopes (`air:simulation_read`, …). */
  tokens: Record<string, readonly AirScope[]>;
  /**
   * Milliseconds each timed state lasts (one number for all, or per state), or `manual`: the
   * state lasts until `advance`. Default `DEFAULT_AIR_STATE_DELAY_MS` each.
   */
  delays?: number | Partial<Record<AirTimedState, number | "manual">>;
  /** Default `DEFAULT_MAX_CHECKPOINTS_PER_SIMULATION`. */
  maxCheckpointsPerSimulation?: number;
  /** Simulations present from the start. */
  simulations?: AirSimulationSeed[];
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Told of every request answered, e.g. so the local runtime can show a DELETE reaching Air. */
  onRequest?: (record: AirRequestRecord) => void;
}

const delaySchema = z.union([z.number().int().nonnegative(), z.literal("manual")]);

const SeedSchema = z.object({
  id: z.guid().optional(),
  name: z.string().trim().min(1).max(128),
  state: z.enum(AIR_SIMULATION_STATES).optional(),
  creator: z.string().min(1).optional(),
  created: z.date().optional(),
  sleepAt: z.date().nullable().optional(),
  expiresAt: z.date().nullable().optional(),
  metadata: z.string().nullable().optional(),
  checkpoints: z
    .array(
      z.object({
        id: z.guid().optional(),
        name: z.string().trim().min(1).max(128).optional(),
        favorite: z.boolean().optional(),
        state: z.enum(AIR_CHECKPOINT_STATES).optional(),
        metadata: z.unknown().optional(),
        created: z.date().optional(),
      }),
    )
    .optional(),
});

const OptionsSchema = z.object({
  tokens: z.record(z.string().min(1), z.array(z.enum(AIR_SCOPES))),
  delays: z
    .union([z.number().int().nonnegative(), z.partialRecord(z.enum(AIR_TIMED_STATES), delaySchema)])
    .optional(),
  maxCheckpointsPerSimulation: z.number().int().positive().optional(),
  simulations: z.array(SeedSchema).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
});

/** A running local Air server and the hooks tests use to stage what Air does on its own. */
export interface AirServer {
  /** `http://127.0.0.1:<port>`, the origin. */
  readonly endpoint: string;
  /** `${endpoint}/api/v3/`, the API base a client is configured with. */
  readonly baseUrl: string;
  /** Every simulation in the API's shape, in the order added (to learn seeded ones' ids). */
  simulations(): AirSimulationJson[];
  /** Adds a simulation as if created earlier (INACTIVE unless `state` says otherwise). */
  addSimulation(seed: AirSimulationSeed): AirSimulationJson;
  /** Air deleting a checkpoint by itself: it becomes DELETED without any request. */
  deleteCheckpointByAir(checkpointId: string): AirCheckpointJson;
  /** Forces a simulation's state (e.g. INVALID), abandoning the rest of its current path. */
  setState(simulationId: string, state: AirSimulationState): AirSimulationJson;
  /** Moves a simulation to the next state of its path now; returns that state. */
  advance(simulationId: string): AirSimulationState;
  /** Resolves once the simulation (or every one) has reached the end of its path. */
  idle(simulationId?: string): Promise<void>;
  /** Cancels pending transitions and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the local NVIDIA Air v3 server on loopback (a free port unless `port` is given); resolves
 * once `endpoint` is reachable. Throws on options that do not parse (an unknown scope, say).
 */
export async function startAirServer(options: AirServerOptions): Promise<AirServer> {
  const parsed = OptionsSchema.parse(options);
  const perState = typeof parsed.delays === "object" ? parsed.delays : {};
  const fallback = typeof parsed.delays === "number" ? parsed.delays : DEFAULT_AIR_STATE_DELAY_MS;
  const delays = Object.fromEntries(
    AIR_TIMED_STATES.map((state) => [state, perState[state] ?? fallback]),
  ) as AirDelays;
  const store = new AirStore(
    delays,
    parsed.maxCheckpointsPerSimulation ?? DEFAULT_MAX_CHECKPOINTS_PER_SIMULATION,
  );
  for (const seed of parsed.simulations ?? []) store.seed(seed);
  const tokens = new Map(
    Object.entries(parsed.tokens).map(([token, scopes]) => [token, new Set(scopes)] as const),
  );
  const server = createServer(createAirRequestHandler(store, tokens, options.onRequest));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(parsed.port ?? 0, parsed.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const endpoint = `http://${host}:${address.port}`;
  return {
    endpoint,
    baseUrl: `${endpoint}/api/v3/`,
    simulations: () => store.allSimulations(),
    addSimulation: (seed) => store.seed(SeedSchema.parse(seed)),
    deleteCheckpointByAir: (checkpointId) => store.deleteByAir(checkpointId),
    setState: (simulationId, state) => store.forceState(simulationId, state),
    advance: (simulationId) => store.advance(simulationId),
    idle: (simulationId) => store.idle(simulationId),
    async close() {
      store.cancelTimers();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
