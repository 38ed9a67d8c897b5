import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { afterAll, describe, expect, it } from "vitest";
import { asOwnInvocations } from "../../../lib/local/invoke-store.ts";
import { lambdaContext } from "../../../lib/local/queue-poller.ts";
import { logger } from "../../../lib/observability/logger.ts";
import { captureLogs, type LogLine } from "../../support/log-capture.ts";

type Handler = (event: { simulation: string }, context: Context) => Promise<void>;

/**
 * Two functions as the local runtime runs them, in one process on the one shared logger: the
 * first appends its key and waits; the second sets its own context and key, logs, ends (resetting
 * keys) and lets the first go on to log.
 */
async function overlap(wrap: (handler: Handler) => Handler): Promise<Record<string, LogLine>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const handler = (wait: boolean) =>
    wrap(
      middy(async (event: { simulation: string }) => {
        logger.appendKeys({ simulation: event.simulation });
        if (wait) await released;
        logger.info(`${event.simulation} done`);
        if (!wait) release();
      }).use(injectLambdaContext(logger, { resetKeys: true })),
    );
  const first = lambdaContext("plan-snapshots");
  const second = lambdaContext("sweep-jobs");
  const logs = captureLogs();
  try {
    await Promise.all([
      handler(true)({ simulation: "ocean" }, first),
      handler(false)({ simulation: "city" }, second),
    ]);
  } finally {
    logs.restore();
  }
  return Object.fromEntries(
    logs
      .lines()
      .filter((line) => line.level === "INFO")
      .map((line) => [String(line.message), line]),
  );
}

const identity = (line: LogLine | undefined) => ({
  function_name: line?.function_name,
  simulation: line?.simulation,
});

afterAll(() => {
  delete process.env.AWS_LAMBDA_MAX_CONCURRENCY;
});

describe("asOwnInvocations", () => {
  it("without it, a waiting invocation logs with the context and keys of one that ran meanwhile", async () => {
    const lines = await overlap((handler) => handler);
    // What the local runtime did before: plan-snapshots' line said it came from sweep-jobs, and
    // named sweep-jobs' simulation.
    expect(identity(lines["ocean done"])).toEqual({
      function_name: "sweep-jobs",
      simulation: "city",
    });
  });

  it("gives each invocation its own logger context and keys, as Lambda does for concurrent invocations", async () => {
    const lines = await overlap(asOwnInvocations);
    expect(identity(lines["ocean done"])).toEqual({
      function_name: "plan-snapshots",
      simulation: "ocean",
    });
    expect(identity(lines["city done"])).toEqual({
      function_name: "sweep-jobs",
      simulation: "city",
    });
  });
});
