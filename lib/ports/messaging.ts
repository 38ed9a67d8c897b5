import type { DomainEvent } from "../domain/events.ts";

/**
 * A queue simsnap sends work to. `delaySeconds` (0–900, SQS's range) is how retries with backoff
 * and delayed status checks are scheduled without a timer in memory.
 */
export interface MessageQueue<T> {
  send(message: T, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * Sends many messages in as few requests as the queue allows (SQS: 10 a request), for a fan-out
   * such as a schedule tick over thousands of simulations. It resolves once every message is
   * accepted and rejects when one could not be; the ones accepted before stay sent, so consumers
   * must take a message twice as once, which they do for every message anyway.
   */
  sendBatch(messages: readonly T[], options?: { delaySeconds?: number }): Promise<void>;
}

/** Publishes state changes for other systems (and the local console) to react to. */
export interface EventPublisher {
  publish(events: DomainEvent[]): Promise<void>;
}

/** Time, injected so tests control deadlines and backoff. */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };
