import type { Context, SQSEvent } from "aws-lambda";
import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import { PruneRequestSchema, pruneRunFor, type PruneRequest } from "../lib/domain/prune-request.ts";
import { parseInput } from "../lib/domain/validation.ts";
import { reportRetentionRuns } from "../lib/handlers/retention-runs.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { recordPrune } from "../lib/observability/metrics.ts";
import { prune } from "../lib/usecases/prune.ts";

const adapters = createAdapters(loadSettings());

async function run(request: PruneRequest) {
  const results = await prune(pruneRunFor(request, adapters.pruneDebounceSeconds), adapters).then(
    recordPrune,
  );
  return reportRetentionRuns("Prune run", results);
}

const fromQueue = sqsBatchHandler({
  what: "prune request",
  schema: PruneRequestSchema,
  redelivery: adapters.redelivery,
  handle: run,
});

const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === "object" && event !== null && Array.isArray((event as SQSEvent).Records);

/** Consumer of the prune-requests queue, and target of the daily schedule (invoked directly). */
export const handler = async (event: unknown, context: Context) =>
  isSqsEvent(event)
    ? fromQueue(event, context)
    : run(parseInput(PruneRequestSchema, event, "prune request"));
