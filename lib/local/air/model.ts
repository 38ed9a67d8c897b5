/**
 * The vocabulary of NVIDIA Air's v3 API as the docs and the nv-air-sdk spell it, and the error
 * answers Django REST Framework (which serves the API) gives, shared by the local server's store
 * and its wire layer so both speak exactly one dialect.
 */

/**
 * The scopes the API reference names per endpoint ("Required scope: `air:simulation_read`"), so
 * a token the local server accepts is one a real Air token could be.
 */
export const AIR_SCOPES = [
  "air:simulation_read",
  "air:simulation_edit",
  "air:simulation_start_stop",
  "air:simulation_create",
  "air:simulation_delete",
] as const;
/** One scope an Air token may carry. */
export type AirScope = (typeof AIR_SCOPES)[number];

/** Every simulation state the API reference and the SDK's `Simulation.state` list. */
export const AIR_SIMULATION_STATES = [
  "CLONING",
  "CREATING",
  "IMPORTING",
  "INVALID",
  "INACTIVE",
  "REQUESTING",
  "PENDING",
  "PROVISIONING",
  "PREPARE_BOOT",
  "BOOTING",
  "ACTIVE",
  "PREPARE_SHUTDOWN",
  "SHUTTING_DOWN",
  "SAVING",
  "PREPARE_REBUILD",
  "REBUILDING",
  "DELETING",
  "PREPARE_PURGE",
  "PURGING",
  "DEMO",
  "TRAINING",
] as const;
/** One state of an Air simulation. */
export type AirSimulationState = (typeof AIR_SIMULATION_STATES)[number];

/**
 * The states the local server passes through on its own after a delay (start, shutdown, purge,
 * clone, delete); the others are only entered by a request or by a test forcing them.
 */
export const AIR_TIMED_STATES = [
  "CLONING",
  "REQUESTING",
  "PROVISIONING",
  "PREPARE_BOOT",
  "BOOTING",
  "PREPARE_SHUTDOWN",
  "SHUTTING_DOWN",
  "SAVING",
  "PREPARE_PURGE",
  "PURGING",
  "DELETING",
] as const;
/** A state the server leaves by itself once its delay has passed. */
export type AirTimedState = (typeof AIR_TIMED_STATES)[number];

/** A checkpoint's states; only COMPLETE ones can be started from, cloned or deleted. */
export const AIR_CHECKPOINT_STATES = ["PENDING", "COMPLETE", "DELETED"] as const;
/** One state of an Air checkpoint. */
export type AirCheckpointState = (typeof AIR_CHECKPOINT_STATES)[number];

/** A simulation exactly as `GET /api/v3/simulations/{id}/` returns it. */
export interface AirSimulationJson {
  id: string;
  created: string;
  modified: string;
  name: string;
  state: AirSimulationState;
  creator: string;
  auto_oob_enabled: boolean | null;
  enable_dhcp: boolean | null;
  sleep_at: string | null;
  expires_at: string | null;
  documentation: string | null;
  complete_checkpoint_count: number;
  metadata: string | null;
}

/** A run exactly as `GET /api/v3/simulations/runs/{id}/` returns it. */
export interface AirRunJson {
  id: string;
  name: string;
  simulation: string;
  started_from: string | null;
  started_at: string;
  ended_at: string | null;
  created: string;
  modified: string;
}

/** A checkpoint exactly as `GET /api/v3/simulations/runs/checkpoints/{id}/` returns it. */
export interface AirCheckpointJson {
  id: string;
  run: string;
  state: AirCheckpointState;
  metadata: unknown;
  created: string;
  modified: string;
  name: string;
  favorite: boolean;
}

/** One page of a list endpoint, in DRF's LimitOffsetPagination shape. */
export interface AirPage<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/**
 * A refusal in DRF's shape: `{"detail": "..."}` for 401/403/404/405/415 and refusals not tied to
 * one input field, `{"field": ["..."]}` for field errors. Thrown by the store and the schemas,
 * written by the wire layer as is.
 */
export class AirApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.detail === "string" ? body.detail : JSON.stringify(body));
  }
}

/** DRF's 404 for an unknown or malformed id, worded as Django's get_object_or_404 words it. */
export const notFound = (model: "Simulation" | "Run" | "Checkpoint"): AirApiError =>
  new AirApiError(404, { detail: `No ${model} matches the given query.` });

/** A 400 that is about the request as a whole (a state that forbids it), not one field. */
export const badRequest = (detail: string): AirApiError => new AirApiError(400, { detail });

/** A 400 naming the fields at fault, each with DRF's list of messages. */
export const fieldErrors = (errors: Record<string, string[]>): AirApiError =>
  new AirApiError(400, errors);
