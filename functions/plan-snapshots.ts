import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import {
  ScheduleTickSchema,
  type ScheduleTick,
  type SnapshotRequest,
  type StopRequestedEvent,
} from "../lib/domain/messages.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { retryTransient, SCHEDULED_RETRY } from "../lib/handlers/retry-transient.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics, recordSchedulePlanned } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { checkpointFreshness } from "../lib/usecases/snapshot/checkpoint-freshness.ts";
import { planSnapshots } from "../lib/usecases/snapshot/plan-snapshots.ts";
import { catalog, tagCache } from "../lib/wiring/catalog.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue } from "../lib/wiring/queues.ts";

const name = "plan-snapshots";
const adapters = {
  checkpoints: catalog(name).checkpoints,
  providers: providerDirectory(name),
  clock: systemClock,
  tags: { cache: tagCache(name), clock: systemClock },
};
const requests = queue<SnapshotRequest>(name, "snapshot-requests");
// A `cycle` schedule's stops, read by request-stop as `Simulation Stop Requested` events.
const stops = queue<StopRequestedEvent>(name, "stop-requests");

/** EventBridge Scheduler target: one schedule tick. */
export const handler = middy(async (tick: ScheduleTick) => {
  // A tick is one invocation: a transient provider fault is retried here, within seconds.
  const result = await retryTransient(
    () =>
      planSnapshots(tick, { providers: adapters.providers, requests, stops, tags: adapters.tags }),
    { what: "schedule tick", ...SCHEDULED_RETRY },
  );
  // How stale each selected simulation is, for the schedule's no-completed-checkpoint alarm; a
  // cycled one is checkpointed by this schedule too.
  const freshness = await checkpointFreshness([...result.requested, ...result.cycled], adapters);
  recordSchedulePlanned(tick.schedule, result.requested.length, freshness);
  logger.info("Snapshots planned", {
    schedule: tick.schedule,
    simulations: result.requested,
    // Stopped with a checkpoint and started again from it (a `cycle` schedule on NVIDIA Air).
    ...(result.cycled.length > 0 ? { cycled: result.cycled } : {}),
    // Picked, but on a platform that cannot snapshot a running simulation (with the reason).
    skipped: result.skipped,
    // With a tag selector: tags read from the provider now, taken from the cache, and when the
    // oldest cached ones were read (how stale this tick's view of tags may be).
    ...(result.tags ? { tags: result.tags } : {}),
    checkpointAgeSeconds: Object.fromEntries(freshness.map((f) => [f.simulation, f.ageSeconds])),
  });
  return result;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(parseEvent(ScheduleTickSchema, "schedule tick"));
