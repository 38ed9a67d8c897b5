import { createAdapters } from "../lib/composition.ts";
import { loadSettings } from "../lib/config.ts";
import type { SnapshotRequest } from "../lib/domain/messages.ts";
import type { PruneRequest } from "../lib/domain/prune-request.ts";
import type { RestoreStep } from "../lib/domain/restore.ts";
import { apiRoutes } from "../lib/http/api-routes.ts";
import { httpApi } from "../lib/http/router.ts";

const adapters = createAdapters(loadSettings());

/** The catalog HTTP API (API Gateway HTTP API, payload format 2.0). */
export const handler = httpApi(
  apiRoutes({
    ...adapters,
    requests: adapters.queue<SnapshotRequest>("snapshot-requests"),
    pruneRequests: adapters.queue<PruneRequest>("prune-requests"),
    restoreSteps: adapters.queue<RestoreStep>("restore-steps"),
  }),
);
