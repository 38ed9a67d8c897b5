import type { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import {
  PruneRequestSchema,
  pruneRunFor,
  ScheduledPruneRequestSchema,
  type PruneRequest,
  type ScheduledPruneRequest,
} from "../lib/domain/prune-request.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { reportRetentionRuns } from "../lib/handlers/retention-runs.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordPrune } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { prune } from "../lib/usecases/retention/prune.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { archiveStore, fileObjects, snapshotObjects } from "../lib/wiring/objects.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue, redelivery } from "../lib/wiring/queues.ts";
import { retentionBaseStore } from "../lib/wiring/retention-bases.ts";
import {
  fileSourcesOf,
  settingsFor,
  snapshotDestination,
  snapshotOwnership,
} from "../lib/wiring/settings.ts";

const name = "prune";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  objects: snapshotObjects(name),
  // A checkpoint a platform holds (NVIDIA Air) is removed with that platform's own delete.
  providers: providerDirectory(name),
  events: eventPublisher(name),
  clock: systemClock,
  retention: settings.SIMSNAP_RETENTION,
  // The share guard measures each plan against the simulation's last approved run.
  bases: retentionBaseStore(name),
  reports: snapshotDestination(settings),
  archiveFirst: settings.SIMSNAP_ARCHIVE_BUCKET !== undefined,
  owned: snapshotOwnership(settings),
  // A files checkpoint (a set of objects another tool wrote) is deleted object by object.
  files: fileSourcesOf(settings),
  fileObjects: fileObjects(name),
  // Snapshot files go to the trash (server-side copies) for destination.trashDays.
  trash: { days: settings.SIMSNAP_TRASH_DAYS, store: archiveStore(name) },
  pruneDebounceSeconds: settings.SIMSNAP_PRUNE_DEBOUNCE_SECONDS,
  redelivery: redelivery(name),
  // A run larger than one invocation's budget (PRUNE_BUDGET) continues through this queue.
  continuation: queue<PruneRequest>(name, "prune-requests"),
};

async function run(request: PruneRequest, log: Logger) {
  const results = await prune(pruneRunFor(request, adapters.pruneDebounceSeconds), adapters).then(
    recordPrune,
  );
  return reportRetentionRuns("Prune run", results, { log });
}

/** SQS consumer of the prune-requests queue: completions (debounced) and people's requests. */
export const handler = middy(
  sqsBatchHandler({
    what: "prune request",
    schema: PruneRequestSchema,
    redelivery: adapters.redelivery,
    handle: (request, _record, log) => run(request, log),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

/** EventBridge Scheduler target of `prune-daily` (see lib/topology.ts): every simulation, daily. */
export const dailyHandler = middy(async (request: ScheduledPruneRequest) => run(request, logger))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduledPruneRequestSchema, "scheduled prune request"));
