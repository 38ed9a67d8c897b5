import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { SIMSPACEWEAVER } from "../lib/adapters/simspaceweaver/provider.ts";
import {
  ObjectCreatedEventSchema,
  ScheduleTickSchema,
  type ScheduleTick,
} from "../lib/domain/messages.ts";
import {
  RECONCILE_MARGIN_SECONDS,
  reconcileCursorLocation,
  reconcileGraceSeconds,
} from "../lib/domain/snapshot-reconcile.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { sqsBatchHandler } from "../lib/handlers/sqs-batch.ts";
import { logger } from "../lib/observability/logger.ts";
import {
  metrics,
  recordSnapshotFile,
  recordSnapshotsReconciled,
} from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { completeSnapshot } from "../lib/usecases/snapshot/complete-snapshot.ts";
import { reconcileSnapshotFiles } from "../lib/usecases/snapshot/reconcile-snapshots.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { snapshotObjects } from "../lib/wiring/objects.ts";
import { redelivery } from "../lib/wiring/queues.ts";
import {
  settingsFor,
  snapshotDestination,
  snapshotOwnership,
  snapshotTiming,
} from "../lib/wiring/settings.ts";

const name = "complete-snapshot";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  objects: snapshotObjects(name),
  events: eventPublisher(name),
  clock: systemClock,
  // Recorded on a checkpoint it discovers; the function calls no provider operation.
  provider: { name: SIMSPACEWEAVER },
  owned: snapshotOwnership(settings),
  // How far back a job that made a file may have started (its deadline budget).
  timing: snapshotTiming(settings),
  redelivery: redelivery(name),
};

/** SQS consumer of the snapshot-files queue, fed by S3's "Object Created" events. */
export const handler = middy(
  sqsBatchHandler({
    what: "S3 Object Created event",
    schema: ObjectCreatedEventSchema,
    correlate: (event) => ({ object: `${event.detail.bucket.name}/${event.detail.object.key}` }),
    redelivery: adapters.redelivery,
    handle: (event) =>
      completeSnapshot(
        {
          bucket: event.detail.bucket.name,
          key: event.detail.object.key,
          size: event.detail.object.size ?? 0,
          etag: event.detail.object.etag,
        },
        adapters,
      ).then(recordSnapshotFile),
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));

/**
 * EventBridge Scheduler target of `reconcile-snapshots` (see lib/topology.ts): lists simsnap's own
 * snapshot folders, a bounded share per run, and sends every file past the grace that the catalog
 * does not know through the same use case as its lost S3 event.
 */
export const scanHandler = middy(async (tick: ScheduleTick) => {
  const result = await reconcileSnapshotFiles({
    ...adapters,
    cursorAt: reconcileCursorLocation(snapshotDestination(settings)),
    graceSeconds:
      settings.SIMSNAP_RECONCILE_GRACE_SECONDS ??
      reconcileGraceSeconds({
        deadlineSeconds: settings.SIMSNAP_SNAPSHOT_DEADLINE_SECONDS,
        marginSeconds: RECONCILE_MARGIN_SECONDS,
      }),
  }).then(recordSnapshotsReconciled);
  const { cataloged, ...counts } = result;
  const summary = { schedule: tick.schedule, ...counts, cataloged: cataloged.length };
  // A file cataloged here is one a lost event left behind: worth a line each time.
  if (cataloged.length > 0) logger.info("Snapshot files reconciled", { ...summary, cataloged });
  else logger.debug("Snapshot files reconciled", summary);
  return summary;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
