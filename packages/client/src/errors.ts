/** One field and the rule it broke, as the API lists them. */
export interface SimsnapErrorDetail {
  path: string;
  message: string;
}

/** Every error the client throws, so callers can catch the client's failures as one kind. */
export class SimsnapError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The API answered with an error: its HTTP status, the API's stable `code`, the message and the
 * fields at fault, and the correlation id to quote when reporting a server error.
 */
export class SimsnapApiError extends SimsnapError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: readonly SimsnapErrorDetail[] = [],
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

/** 400: the request broke a rule; `details` names each field. */
export class SimsnapValidationError extends SimsnapApiError {}
/** 404: the simulation, checkpoint, job or route does not exist. */
export class SimsnapNotFoundError extends SimsnapApiError {}
/** 409: the record's state forbids the request (e.g. deleting a PENDING checkpoint). */
export class SimsnapConflictError extends SimsnapApiError {}

/** The API could not be reached at all (nothing listening, DNS, TLS, a dropped connection). */
export class SimsnapConnectionError extends SimsnapError {}

/** `jobs.wait` ran out of time; `job` is the job as last seen, still running. */
export class SimsnapTimeoutError extends SimsnapError {
  constructor(
    message: string,
    readonly job: unknown,
  ) {
    super(message);
  }
}

/** The typed exception for an error response. */
export function apiError(
  status: number,
  body: { code?: string; message?: string; details?: SimsnapErrorDetail[]; correlationId?: string },
  correlationId: string | undefined,
): SimsnapApiError {
  const message = body.message ?? `HTTP ${status}`;
  const code = body.code ?? `Http${status}`;
  const details = body.details ?? [];
  const id = body.correlationId ?? correlationId;
  const Kind =
    status === 400
      ? SimsnapValidationError
      : status === 404
        ? SimsnapNotFoundError
        : status === 409
          ? SimsnapConflictError
          : SimsnapApiError;
  return new Kind(message, status, code, details, id);
}
