import type { SnapshotRequest } from "../../lib/domain/messages.ts";
import type { PruneRequest } from "../../lib/domain/prune-request.ts";
import type { RestoreStep } from "../../lib/domain/restore.ts";
import { RetentionConfigSchema } from "../../lib/domain/retention.ts";
import type { SimulationStatus } from "../../lib/ports/simulation-provider.ts";
import type { RestoreSettings } from "../../lib/usecases/restore/restore-checkpoint.ts";
import { MemoryArchiveStore } from "./memory-archive.ts";
import { MemoryQueue } from "./memory.ts";
import { snapshotWorld } from "./snapshot-world.ts";

/** Restore settings as a deployment with a simulation role has them. */
export const restoreSettings: RestoreSettings = {
  roleArn: "arn:aws:iam::123456789012:role/simulation",
  snapshotBucket: "snapshots",
  snapshotPrefix: "simsnap",
  archiveBucket: "archive",
  checksumAlgorithm: "CRC64NVME",
  deadlineSeconds: 3600,
  firstCheckSeconds: 5,
  maxCheckSeconds: 60,
  thaw: { days: 1, tier: "Standard" },
};

/**
 * Every port the API's use cases take, in memory, wired as the API function wires the real ones:
 * the snapshot world plus the queues the API sends to, the archive store, restore and retention
 * settings (retention keeps the newest two).
 */
export function apiWorld(
  simulations: Record<string, SimulationStatus> = { "sim-a": "STARTED", "sim-off": "STOPPED" },
) {
  const world = snapshotWorld(simulations);
  return {
    ...world,
    storage: new MemoryArchiveStore({ clock: world.clock }),
    requests: new MemoryQueue<SnapshotRequest>(),
    restoreSteps: new MemoryQueue<RestoreStep>(),
    pruneRequests: new MemoryQueue<PruneRequest>(),
    restore: restoreSettings,
    retention: RetentionConfigSchema.parse({ default: { keepLast: 2 } }),
    reports: { bucket: "snapshots", prefix: "simsnap" },
    archiveFirst: false,
  };
}
