import type { Checkpoint } from "../domain/checkpoint.ts";
import { checkpointCompleted } from "../domain/events.ts";
import { deterministicId } from "../domain/ids.ts";
import type { Job } from "../domain/job.ts";
import {
  normalizePrefix,
  parseSnapshotKey,
  type ParsedSnapshotKey,
} from "../domain/snapshot-key.ts";
import type { ObjectInfo } from "../ports/object-store.ts";
import type { SimulationProvider } from "../ports/simulation-provider.ts";
import {
  completeSnapshotJob,
  SNAPSHOT_TIME_SKEW_MS,
  type SnapshotJobPorts,
} from "./snapshot-job.ts";

/** What complete-snapshot needs. */
export interface CompleteSnapshotDeps extends SnapshotJobPorts {
  provider: Pick<SimulationProvider, "name">;
}

/** What one file event led to. */
export interface CompleteSnapshotResult {
  outcome: "completed" | "discovered" | "duplicate" | "ignored";
  checkpointId?: string;
  /** When the completed job started, so its age at completion can be measured. */
  startedAt?: string;
}

/**
 * The open snapshot jobs that may have produced this file: same simulation, same destination,
 * started no later than the file's own time stamp (give or take clock skew), oldest first.
 */
export function jobsMatchingFile(jobs: Job[], file: ObjectInfo, parsed: ParsedSnapshotKey): Job[] {
  return jobs.filter(
    (job) =>
      job.kind === "snapshot" &&
      job.destination?.bucket === file.bucket &&
      normalizePrefix(job.destination.prefix) === parsed.prefix &&
      new Date(job.startTime).getTime() - SNAPSHOT_TIME_SKEW_MS <= parsed.time.getTime(),
  );
}

/**
 * Handles a snapshot file that appeared in S3: completes the oldest open job that asked for it,
 * or, when no job did (another tool wrote it, or its job already gave up), registers it as a
 * `discovered` COMPLETE checkpoint so it is cataloged, pruned and archived like the others.
 * Ids and location claims make any number of deliveries of the event produce one outcome.
 */
export async function completeSnapshot(
  file: ObjectInfo,
  deps: CompleteSnapshotDeps,
): Promise<CompleteSnapshotResult> {
  const parsed = parseSnapshotKey(file.key);
  if (!parsed) return { outcome: "ignored" };

  const open = await deps.jobs.listOpen(parsed.simulation, "snapshot");
  for (const job of jobsMatchingFile(open, file, parsed)) {
    if (await completeSnapshotJob(job, file, deps)) {
      return { outcome: "completed", checkpointId: job.checkpointId, startedAt: job.startTime };
    }
  }
  return registerDiscovered(file, parsed, deps);
}

async function registerDiscovered(
  file: ObjectInfo,
  parsed: ParsedSnapshotKey,
  deps: CompleteSnapshotDeps,
): Promise<CompleteSnapshotResult> {
  const id = deterministicId("discovered", file.bucket, file.key);
  const owner = await deps.checkpoints.claimLocation(file, id);
  if (owner !== id) return { outcome: "duplicate", checkpointId: owner };
  const now = deps.clock.now().toISOString();
  const checkpoint: Checkpoint = {
    id,
    version: 1,
    simulation: parsed.simulation,
    provider: deps.provider.name,
    name: file.key.slice(file.key.lastIndexOf("/") + 1),
    description: "",
    tags: [],
    favorite: false,
    state: "COMPLETE",
    trigger: "discovered",
    createdAt: parsed.time.toISOString(),
    modifiedAt: now,
    completedAt: now,
    location: { bucket: file.bucket, key: file.key },
    size: file.size,
    etag: file.etag,
  };
  if (!(await deps.checkpoints.create(checkpoint)))
    return { outcome: "duplicate", checkpointId: id };
  await deps.events.publish([checkpointCompleted(checkpoint)]);
  return { outcome: "discovered", checkpointId: id };
}
