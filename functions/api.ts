import { fileURLToPath } from "node:url";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SnapshotRequest, StatusCheck } from "../lib/domain/messages.ts";
import type { PruneRequest } from "../lib/domain/prune-request.ts";
import type { RestoreStep } from "../lib/domain/restore.ts";
import { parseEvent } from "../lib/handlers/parse-event.ts";
import { apiRoutes } from "../lib/http/api-routes.ts";
import { consoleFiles } from "../lib/http/console-files.ts";
import { HttpApiEventSchema } from "../lib/http/http-api-event.ts";
import { httpApi } from "../lib/http/router.ts";
import { logger } from "../lib/observability/logger.ts";
import { metrics } from "../lib/observability/metrics.ts";
import { systemClock } from "../lib/ports/messaging.ts";
import { catalog } from "../lib/wiring/catalog.ts";
import { eventPublisher } from "../lib/wiring/events.ts";
import { archiveStore, fileObjects, snapshotObjects } from "../lib/wiring/objects.ts";
import { providerDirectory } from "../lib/wiring/provider.ts";
import { queue } from "../lib/wiring/queues.ts";
import { retentionBaseStore } from "../lib/wiring/retention-bases.ts";
import {
  fileSourcesOf,
  restoreSettings,
  settingsFor,
  snapshotDestination,
  snapshotOwnership,
  snapshotTiming,
} from "../lib/wiring/settings.ts";

const name = "api";
const settings = settingsFor(name);
const adapters = {
  ...catalog(name),
  providers: providerDirectory(name),
  objects: snapshotObjects(name),
  storage: archiveStore(name),
  events: eventPublisher(name),
  clock: systemClock,
  retention: settings.SIMSNAP_RETENTION,
  // A dry run reads the bases a real run would, so it shows the very refusal that run would make.
  bases: retentionBaseStore(name),
  freshness: { watches: settings.SIMSNAP_FRESHNESS_WATCHES, clock: systemClock },
  archiveFirst: settings.SIMSNAP_ARCHIVE_BUCKET !== undefined,
  reports: snapshotDestination(settings),
  destination: snapshotDestination(settings),
  owned: snapshotOwnership(settings),
  // Checkpoints other tools write: deleted object by object, restored under a source's prefix.
  files: fileSourcesOf(settings),
  fileObjects: fileObjects(name),
  // DELETE moves a snapshot file to the trash for destination.trashDays; undelete copies it back.
  trash: { days: settings.SIMSNAP_TRASH_DAYS, store: archiveStore(name) },
  timing: snapshotTiming(settings),
  restore: restoreSettings(settings),
  requests: queue<SnapshotRequest>(name, "snapshot-requests"),
  pruneRequests: queue<PruneRequest>(name, "prune-requests"),
  restoreSteps: queue<RestoreStep>(name, "restore-steps"),
  statusChecks: queue<StatusCheck>(name, "status-checks"),
};

// The web console's files: next to this bundle in Lambda (the stack builds them there), where
// the local runtime built them otherwise.
const consoleDirectory =
  settings.SIMSNAP_CONSOLE_DIR ?? fileURLToPath(new URL("./console/", import.meta.url));

/** The catalog HTTP API (API Gateway HTTP API, payload format 2.0), and the web console at `/`. */
export const handler = middy(httpApi(apiRoutes(adapters), consoleFiles(consoleDirectory)))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(parseEvent(HttpApiEventSchema, "HTTP API event"))
  // The trash's metrics (a DELETE to the trash, an undelete).
  .use(logMetrics(metrics));
