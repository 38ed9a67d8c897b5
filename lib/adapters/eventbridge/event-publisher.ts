import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { AppError } from "../../domain/errors.ts";
import type { DomainEvent } from "../../domain/events.ts";
import type { EventPublisher } from "../../ports/messaging.ts";

/** PutEvents accepts at most this many entries per call. */
export const PUT_EVENTS_BATCH_SIZE = 10;

/**
 * Events could not (all) be published. Publishing happens after the state change it reports is
 * saved, so the caller's retry re-publishes: consumers see an event at least once.
 */
export class EventPublishError extends AppError {
  override readonly status = 502;
  override readonly code = "EventPublishFailed";
  override readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** Throttling, server faults and network errors pass with time; a rejected request does not. */
const isTransient = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const details = error as {
    $fault?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    details.$fault === "server" ||
    details.$retryable !== undefined ||
    /Throttl|TooManyRequests|RequestLimitExceeded|Timeout|ECONNRESET|ECONNREFUSED/i.test(
      `${error.name} ${error.message}`,
    ) ||
    (details.$metadata?.httpStatusCode ?? 0) >= 500
  );
};

/** Publishes domain events on an EventBridge bus, where other systems subscribe with rules. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source = "simsnap",
  ) {}

  /**
   * Sends batches in order and checks each response's `FailedEntryCount`: PutEvents reports
   * per-entry failures with a 200, so an unchecked response silently drops events.
   */
  async publish(events: DomainEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += PUT_EVENTS_BATCH_SIZE) {
      const batch = events.slice(start, start + PUT_EVENTS_BATCH_SIZE);
      const entries: PutEventsRequestEntry[] = batch.map((event) => ({
        EventBusName: this.busName,
        Source: this.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
      }));
      const result = await this.send(entries, start);
      if ((result.FailedEntryCount ?? 0) > 0) {
        const failures = (result.Entries ?? []).flatMap((entry, position) =>
          entry.ErrorCode ? [`${batch[position]?.detailType ?? "?"}: ${entry.ErrorCode}`] : [],
        );
        throw new EventPublishError(
          `${result.FailedEntryCount} of ${batch.length} event(s) were not published to ${this.busName} (${failures.join(", ")})`,
          { retryable: true },
        );
      }
    }
  }

  private async send(
    entries: PutEventsRequestEntry[],
    published: number,
  ): Promise<PutEventsCommandOutput> {
    try {
      return await this.client.send(new PutEventsCommand({ Entries: entries }));
    } catch (error) {
      throw new EventPublishError(
        `Publishing ${entries.length} event(s) to ${this.busName} failed after ${published} were published: ${
          error instanceof Error ? error.name : String(error)
        }`,
        { retryable: isTransient(error), cause: error },
      );
    }
  }
}
