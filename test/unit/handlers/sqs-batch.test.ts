import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fullJitterSeconds } from "../../../lib/domain/backoff.ts";
import {
  ConcurrentModificationError,
  ProviderError,
  RetryLaterError,
} from "../../../lib/domain/errors.ts";
import { sqsBatchHandler, TRANSIENT_BACKOFF } from "../../../lib/handlers/sqs-batch.ts";
import { retryTransient } from "../../../lib/handlers/retry-transient.ts";
import { lambdaContext } from "../../../lib/local/queue-poller.ts";
import { logger } from "../../../lib/observability/logger.ts";
import { captureLogs, type LogLine } from "../../support/log-capture.ts";

/** Runs `work` with its log lines captured (not printed), and gives them back with its result. */
async function logged<T>(work: () => Promise<T>): Promise<{ result: T; lines: LogLine[] }> {
  const logs = captureLogs();
  try {
    return { result: await work(), lines: logs.lines() };
  } finally {
    logs.restore();
  }
}

/** The fields of a log line a test compares. */
const fields = (lines: LogLine[], keys: string[]) =>
  lines.map((line) => Object.fromEntries(keys.map((key) => [key, line[key]])));

const record = (messageId: string, receiveCount: number): SQSRecord => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: JSON.stringify({ id: messageId }),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: "0",
    SenderId: "x",
    ApproximateFirstReceiveTimestamp: "0",
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q",
  awsRegion: "us-east-1",
});

/** A handler whose use case throws, per message id, the given error; records asked delays. */
function failingWith(errors: Record<string, Error>, random = () => 0.999) {
  const delays: Record<string, number> = {};
  const handler = sqsBatchHandler({
    what: "test message",
    schema: z.object({ id: z.string() }),
    redelivery: {
      delay: async (r, seconds) => {
        delays[r.receiptHandle.slice(3)] = seconds;
      },
    },
    random,
    handle: async (message) => {
      const error = errors[message.id];
      if (error) throw error;
    },
  });
  return { handler, delays };
}

const throttle = () =>
  new ProviderError("ThrottlingException", "Rate exceeded", { status: 400, retryable: true });
const serverError = () => new ProviderError("InternalServerException", "oops", { status: 500 });

describe("sqsBatchHandler and transient errors", () => {
  it("redelivers a retryable error after a full-jitter backoff growing with the receive count", async () => {
    const { handler, delays } = failingWith({
      first: throttle(),
      third: serverError(),
      tenth: serverError(),
      raced: new ConcurrentModificationError("lost a race"),
    });

    const { result: response, lines } = await logged(() =>
      handler(
        {
          Records: [
            record("first", 1),
            record("third", 3),
            record("tenth", 10),
            record("raced", 2),
            record("fine", 1),
          ],
        },
        lambdaContext("test"),
      ),
    );

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      "first",
      "third",
      "tenth",
      "raced",
    ]);
    // random() just under 1: the top of each window, 2 s doubling per receive, capped at 60 s.
    expect(delays).toEqual({ first: 2, third: 8, tenth: 60, raced: 4 });
    expect(TRANSIENT_BACKOFF).toEqual({ baseSeconds: 2, maxSeconds: 60 });
    // One WARN per retried record, saying what failed and when it comes back; none for "fine".
    const message = "test message hit a transient error; retrying";
    const keys = ["level", "message", "messageId", "code", "receiveCount", "delaySeconds"];
    expect(fields(lines, keys)).toEqual([
      {
        level: "WARN",
        message,
        messageId: "first",
        code: "ThrottlingException",
        receiveCount: 1,
        delaySeconds: 2,
      },
      {
        level: "WARN",
        message,
        messageId: "third",
        code: "InternalServerException",
        receiveCount: 3,
        delaySeconds: 8,
      },
      {
        level: "WARN",
        message,
        messageId: "tenth",
        code: "InternalServerException",
        receiveCount: 10,
        delaySeconds: 60,
      },
      {
        level: "WARN",
        message,
        messageId: "raced",
        code: "ConcurrentModification",
        receiveCount: 2,
        delaySeconds: 4,
      },
    ]);
  });

  it("leaves a refusal to the visibility timeout and a RetryLaterError to its own delay", async () => {
    const { handler, delays } = failingWith({
      refused: new ProviderError("ValidationException", "bad", { status: 400 }),
      conflict: new ProviderError("ConflictException", "busy", { status: 409 }),
      later: new RetryLaterError("not yet", 30),
    });

    const { lines } = await logged(() =>
      handler(
        { Records: [record("refused", 1), record("conflict", 1), record("later", 4)] },
        lambdaContext("test"),
      ),
    );

    expect(delays).toEqual({ later: 30 });
    expect(fields(lines, ["level", "message", "messageId", "code", "delaySeconds"])).toEqual([
      {
        level: "WARN",
        message: "test message rejected",
        messageId: "refused",
        code: "ValidationException",
        delaySeconds: undefined,
      },
      {
        level: "WARN",
        message: "test message rejected",
        messageId: "conflict",
        code: "ConflictException",
        delaySeconds: undefined,
      },
      {
        level: "INFO",
        message: "Retrying later",
        messageId: "later",
        code: undefined,
        delaySeconds: 30,
      },
    ]);
  });
});

describe("sqsBatchHandler's log lines", () => {
  it("carry each record's own message id and simulation while records overlap", async () => {
    let bStarted!: () => void;
    const started = new Promise<void>((resolve) => (bStarted = resolve));
    const handler = middy(
      sqsBatchHandler({
        what: "test message",
        schema: z.object({ id: z.string(), simulation: z.string() }),
        correlate: (message) => ({ simulation: message.simulation }),
        redelivery: { delay: async () => undefined },
        handle: async (message, _record, log) => {
          log.info("Started");
          // a waits until b has started (and appended its keys), b until a has gone on.
          if (message.id === "a") await started;
          else bStarted();
          await new Promise((resolve) => setImmediate(resolve));
          log.info("Finished");
          // sqs-batch's own line, written after the other record began and before it ended.
          if (message.id === "a") throw new RetryLaterError("not yet", 5);
        },
      }),
    ).use(injectLambdaContext(logger, { resetKeys: true }));
    const withBody = (id: string, simulation: string): SQSRecord => ({
      ...record(id, 1),
      body: JSON.stringify({ id, simulation }),
    });
    const context = lambdaContext("test");
    const logs = captureLogs();
    try {
      await handler({ Records: [withBody("a", "ocean"), withBody("b", "city")] }, context);
    } finally {
      logs.restore();
    }

    const lines = logs.lines();
    const of = (id: string) =>
      lines
        .filter((line) => line.messageId === id)
        .map(({ message, simulation, function_request_id }) => ({
          message,
          simulation,
          function_request_id,
        }));
    const requestId = context.awsRequestId;
    expect(of("a")).toEqual([
      { message: "Started", simulation: "ocean", function_request_id: requestId },
      { message: "Finished", simulation: "ocean", function_request_id: requestId },
      { message: "Retrying later", simulation: "ocean", function_request_id: requestId },
    ]);
    expect(of("b")).toEqual([
      { message: "Started", simulation: "city", function_request_id: requestId },
      { message: "Finished", simulation: "city", function_request_id: requestId },
    ]);
    expect(lines).toHaveLength(5);
  });
});

describe("fullJitterSeconds", () => {
  it("waits at least 1 s and at most the capped window", () => {
    const options = { baseSeconds: 2, maxSeconds: 60 };
    expect(fullJitterSeconds(1, options, () => 0)).toBe(1);
    expect(fullJitterSeconds(1, options, () => 0.4)).toBe(1);
    expect(fullJitterSeconds(1, options, () => 0.6)).toBe(2);
    expect(fullJitterSeconds(4, options, () => 0.5)).toBe(8);
    expect(fullJitterSeconds(30, options, () => 0.999)).toBe(60);
    expect(fullJitterSeconds(0, options, () => 0.999)).toBe(2);
  });
});

describe("retryTransient", () => {
  const options = (waits: number[]) => ({
    what: "tick",
    attempts: 3,
    backoff: { baseSeconds: 1, maxSeconds: 4 },
    sleep: async (seconds: number) => {
      waits.push(seconds);
    },
    random: () => 0.999,
  });

  it("tries again after short waits while the error is transient, then returns", async () => {
    const waits: number[] = [];
    let calls = 0;
    const { result, lines } = await logged(() =>
      retryTransient(async () => {
        calls += 1;
        if (calls < 3) throw calls === 1 ? throttle() : serverError();
        return "planned";
      }, options(waits)),
    );

    expect(result).toBe("planned");
    expect(waits).toEqual([1, 2]);
    const message = "tick hit a transient error; retrying";
    expect(fields(lines, ["level", "message", "code", "attempt", "delaySeconds"])).toEqual([
      { level: "WARN", message, code: "ThrottlingException", attempt: 1, delaySeconds: 1 },
      { level: "WARN", message, code: "InternalServerException", attempt: 2, delaySeconds: 2 },
    ]);
  });

  it("throws the last transient error once the attempts are spent, and a refusal at once", async () => {
    const waits: number[] = [];
    const spent = await logged(() =>
      retryTransient(async () => {
        throw serverError();
      }, options(waits)).catch((error: unknown) => error),
    );
    expect(spent.result).toMatchObject({ code: "InternalServerException" });
    expect(waits).toEqual([1, 2]);
    // A WARN before each wait; the last failure is the caller's to report.
    expect(fields(spent.lines, ["level", "attempt"])).toEqual([
      { level: "WARN", attempt: 1 },
      { level: "WARN", attempt: 2 },
    ]);

    const none: number[] = [];
    const refused = await logged(() =>
      retryTransient(async () => {
        throw new ProviderError("AccessDeniedException", "no", { status: 403 });
      }, options(none)).catch((error: unknown) => error),
    );
    expect(refused.result).toMatchObject({ code: "AccessDeniedException" });
    expect(none).toEqual([]);
    expect(refused.lines).toEqual([]);
  });
});
