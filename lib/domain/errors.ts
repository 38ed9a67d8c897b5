/**
 * The one error hierarchy of simsnap. Every error a use case or adapter raises on purpose is an
 * `AppError`, so that one place (`toHttpError`, the SQS batch wrapper) can decide what a caller
 * sees and whether a message is retried, without string-matching messages.
 */
export class AppError extends Error {
  /** HTTP status the error maps to; 4xx messages are shown to callers, 5xx are not. */
  readonly status: number = 500;
  /** Stable, machine-readable code for clients and events. */
  readonly code: string = "InternalError";
  /** Whether trying the same work again later may succeed. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule; `details` names each field and the rule it broke. */
export class ValidationError extends AppError {
  override readonly status = 400;
  override readonly code = "ValidationError";

  constructor(
    message: string,
    readonly details: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A record the caller named does not exist. */
export class NotFoundError extends AppError {
  override readonly status = 404;
  override readonly code = "NotFound";
}

/** A state machine refused a transition (e.g. completing a FAILED checkpoint). */
export class IllegalTransitionError extends AppError {
  override readonly status = 409;
  override readonly code = "IllegalTransition";
}

/**
 * A conditional write lost a race: the record changed since it was read. Callers re-read and
 * decide again; this is how double completion and lost updates are prevented.
 */
export class ConcurrentModificationError extends AppError {
  override readonly status = 409;
  override readonly code = "ConcurrentModification";
  override readonly retryable = true;
}

/** Configuration is missing or invalid; raised at init so a function fails loudly at cold start. */
export class ConfigError extends AppError {
  override readonly code = "ConfigError";
}

/**
 * An error reported by the simulation provider, with the provider's own code and message, so a
 * failed job can tell the user exactly what the service said.
 */
export class ProviderError extends AppError {
  override readonly code: string;
  override readonly status: number;
  override readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { status: number; retryable?: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? options.status >= 500;
  }
}

/** Narrowing helper for `catch (e: unknown)` blocks. */
export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/**
 * The work cannot be done yet (a snapshot already in progress, a lost race, a throttled call) and
 * should be tried again after `delaySeconds`; the queue wrapper turns it into a delayed redelivery.
 */
export class RetryLaterError extends AppError {
  override readonly status = 503;
  override readonly code = "RetryLater";
  override readonly retryable = true;

  constructor(
    message: string,
    readonly delaySeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The request is valid but the record's state forbids it (restoring a checkpoint that was never
 * completed, or was deleted without an archive). Unlike `IllegalTransitionError` no state machine
 * is involved: the message says what state the record is in and what would make it possible.
 */
export class ConflictError extends AppError {
  override readonly status = 409;
  override readonly code = "Conflict";
}
