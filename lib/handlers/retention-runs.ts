import type { Logger } from "@aws-lambda-powertools/logger";
import { logger } from "../observability/logger.ts";

/** What both retention runs (hot prune and archive prune) report per simulation. */
export interface RetentionRunResult {
  simulation: string;
  outcome: string;
  jobId?: string;
  removed: readonly unknown[];
  failed: readonly unknown[];
  plan: { refused: string | null };
}

/**
 * Logs each simulation's retention run and returns the short summary a handler answers with;
 * shared so that the hot and the archive prune report runs the same way. `log` is the logger of
 * the work at hand (an SQS record's own, with its keys); the shared one otherwise.
 */
export function reportRetentionRuns(
  message: string,
  results: readonly RetentionRunResult[],
  options: { keys?: Record<string, string>; log?: Logger } = {},
) {
  const { keys = {}, log = logger } = options;
  for (const result of results) {
    log.info(message, {
      ...keys,
      simulation: result.simulation,
      jobId: result.jobId,
      outcome: result.outcome,
      removed: result.removed.length,
      failed: result.failed.length,
      refused: result.plan.refused,
    });
  }
  return results.map(({ simulation, outcome, removed, failed }) => ({
    simulation,
    outcome,
    removed: removed.length,
    failed: failed.length,
  }));
}
