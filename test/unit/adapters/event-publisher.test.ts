import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
} from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  EventBridgePublisher,
  EventPublishError,
} from "../../../lib/adapters/eventbridge/event-publisher.ts";
import { isAppError } from "../../../lib/domain/errors.ts";
import type { DomainEvent } from "../../../lib/domain/events.ts";

const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

const events = (count: number): DomainEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    detailType: "Checkpoint Completed",
    detail: { version: "1", checkpoint: { id: `cp-${i}` } },
  }));

const sentEntries = () =>
  eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

afterEach(() => {
  eventBridge.reset();
});

describe("EventBridgePublisher", () => {
  it("sends 25 events as PutEvents batches of 10, 10 and 5, in order, on the bus with the source", async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })),
    }));

    await new EventBridgePublisher(client, "simsnap-bus").publish(events(25));

    const batches = sentEntries();
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    const ids = batches.flat().map((entry) => JSON.parse(entry.Detail ?? "{}").checkpoint.id);
    expect(ids).toEqual(events(25).map((e) => (e.detail.checkpoint as { id: string }).id));
    expect(batches[0]?.[0]).toEqual({
      EventBusName: "simsnap-bus",
      Source: "simsnap",
      DetailType: "Checkpoint Completed",
      Detail: JSON.stringify({ version: "1", checkpoint: { id: "cp-0" } }),
    });
  });

  it("uses a custom source and sends nothing for no events", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "1" }] });
    const publisher = new EventBridgePublisher(client, "bus", "simsnap.test");

    await publisher.publish([]);
    expect(sentEntries()).toEqual([]);
    await publisher.publish(events(1));
    expect(sentEntries()[0]?.[0]?.Source).toBe("simsnap.test");
  });

  it("throws a retryable AppError naming the error codes of a partial failure", async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 0,
        Entries: events(10).map((_, i) => ({ EventId: `${i}` })),
      })
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: "a" },
          { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" },
          { EventId: "c" },
          { ErrorCode: "InternalFailure", ErrorMessage: "oops" },
        ],
      });

    const error = await new EventBridgePublisher(client, "bus")
      .publish(events(14))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect(isAppError(error)).toBe(true);
    expect((error as EventPublishError).retryable).toBe(true);
    expect((error as Error).message).toContain("2 of 4");
    expect((error as Error).message).toContain("ThrottlingException");
    expect((error as Error).message).toContain("InternalFailure");
    expect(sentEntries()).toHaveLength(2);
  });

  it("wraps a throttled call in a retryable AppError and stops before later batches", async () => {
    const throttled = new EventBridgeServiceException({
      name: "ThrottlingException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
      message: "Rate exceeded",
    });
    eventBridge.on(PutEventsCommand).rejects(throttled);

    const error = await new EventBridgePublisher(client, "bus")
      .publish(events(15))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).retryable).toBe(true);
    expect((error as Error).message).toContain("ThrottlingException");
    expect((error as Error).cause).toBe(throttled);
    expect(sentEntries()).toHaveLength(1);
  });

  it("does not mark a rejected request as retryable", async () => {
    eventBridge.on(PutEventsCommand).rejects(
      new EventBridgeServiceException({
        name: "ValidationException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "Detail is not valid JSON",
      }),
    );

    const error = await new EventBridgePublisher(client, "bus")
      .publish(events(1))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).retryable).toBe(false);
  });
});
