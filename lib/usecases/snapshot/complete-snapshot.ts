import type { Checkpoint } from "../../domain/checkpoint.ts";
import { RetryLaterError } from "../../domain/errors.ts";
import { checkpointCompleted } from "../../domain/events.ts";
import { bindSnapshotFile } from "../../domain/snapshot-binding.ts";
import {
  parseOwnedSnapshot,
  type ParsedSnapshotKey,
  type SnapshotOwnership,
} from "../../domain/snapshot-key.ts";
import type { ObjectInfo } from "../../ports/object-store.ts";
import type { SimulationProvider } from "../../ports/simulation-provider.ts";
import {
  completeSnapshotJob,
  confirmSnapshotFile,
  discoveredCheckpointId,
  snapshotJobsAround,
  type SnapshotBindingPorts,
  type SnapshotCompletionPorts,
} from "./snapshot-job.ts";

/** What complete-snapshot needs. */
export interface CompleteSnapshotDeps extends SnapshotCompletionPorts, SnapshotBindingPorts {
  provider: Pick<SimulationProvider, "name">;
  /** Files outside it are not simsnap's snapshots: ignored, never cataloged. */
  owned: SnapshotOwnership;
}

/** What one file event led to. */
export interface CompleteSnapshotResult {
  /** `missing`: no such object in S3 (a forged or stale event), so nothing was cataloged. */
  outcome: "completed" | "discovered" | "duplicate" | "ignored" | "missing";
  checkpointId?: string;
  /** When the completed job started, so its age at completion can be measured. */
  startedAt?: string;
}

/**
 * Handles a snapshot file that appeared in S3: completes the one open job whose CreateSnapshot
 * window holds the file's stamp (`bindSnapshotFile`), or, when no job or several could have made
 * it (another tool wrote it, its job gave up, its call's answer was lost), registers it as a
 * `discovered` COMPLETE checkpoint so it is cataloged, pruned and archived like the others. While
 * a call that may have made it has not answered, the event is retried a few seconds later
 * (`RetryLaterError`) rather than judged. Either way the object is confirmed with a HEAD first.
 * Ids and location claims make any number of deliveries of the event produce one outcome.
 */
export async function completeSnapshot(
  file: ObjectInfo,
  deps: CompleteSnapshotDeps,
): Promise<CompleteSnapshotResult> {
  const parsed = parseOwnedSnapshot(file, deps.owned);
  if (!parsed) return { outcome: "ignored" };

  const stamps = { from: parsed.time, to: parsed.time };
  const jobs = await snapshotJobsAround(parsed.simulation, stamps, deps);
  const binding = bindSnapshotFile({ bucket: file.bucket, ...parsed }, jobs, deps.clock.now());
  if (binding.kind === "wait") {
    throw new RetryLaterError(`${file.key}: ${binding.reason}`, binding.seconds);
  }
  if (binding.kind === "bind") {
    const { job } = binding;
    const completion = await completeSnapshotJob(job, file, deps);
    if (completion === "missing") return { outcome: "missing" };
    if (completion === "completed") {
      return { outcome: "completed", checkpointId: job.checkpointId, startedAt: job.startTime };
    }
  }
  // A file an ended job's window holds is most likely that job's: the record says so.
  const note =
    binding.kind === "none" && binding.ended.length > 0
      ? `Not bound to a job: ${binding.reason}.`
      : undefined;
  return registerDiscovered(file, parsed, deps, note);
}

/**
 * Catalogs a file as `discovered`, unless its claim (`claimLocation`) already gave it to another
 * checkpoint. A claim held by a PENDING checkpoint is a binding decision a completion made on
 * this very file and did not finish (it died before the checkpoint's write): it is finished now,
 * whatever the binding would say today. A claim held by a FAILED checkpoint that never recorded
 * the file (its job failed meanwhile) is taken over, and the record says so: a failed checkpoint
 * is never brought back to life, and the file is not left held by a record that never names it.
 */
async function registerDiscovered(
  file: ObjectInfo,
  parsed: ParsedSnapshotKey,
  deps: CompleteSnapshotDeps,
  note: string | undefined,
): Promise<CompleteSnapshotResult> {
  const confirmed = await confirmSnapshotFile(file, deps.objects);
  if (!confirmed) return { outcome: "missing" };
  const id = discoveredCheckpointId(file);
  const owner = await deps.checkpoints.claimLocation(confirmed.location, id);
  let description = note;
  if (owner !== id) {
    const holder = await deps.checkpoints.get(owner);
    if (holder?.state === "PENDING" && holder.jobId !== undefined) {
      const job = await deps.jobs.get(holder.jobId);
      const completion = job && (await completeSnapshotJob(job, file, deps));
      if (job && completion === "completed") {
        return { outcome: "completed", checkpointId: owner, startedAt: job.startTime };
      }
      if (completion === "missing") return { outcome: "missing" };
    }
    if (holder?.state !== "FAILED" || holder.location !== undefined) {
      return { outcome: "duplicate", checkpointId: owner };
    }
    const after = await deps.checkpoints.reassignLocation(confirmed.location, owner, id);
    if (after !== id) return { outcome: "duplicate", checkpointId: after ?? owner };
    description =
      `Claimed by checkpoint ${owner} of job ${holder.jobId ?? "(none)"}, which failed ` +
      `(${holder.error?.code ?? "no reason recorded"}) before recording it; cataloged on its own.` +
      (note ? ` ${note}` : "");
  }
  const now = deps.clock.now().toISOString();
  const checkpoint: Checkpoint = {
    id,
    version: 1,
    simulation: parsed.simulation,
    provider: deps.provider.name,
    name: file.key.slice(file.key.lastIndexOf("/") + 1),
    description: (description ?? "").slice(0, 1024),
    tags: [],
    favorite: false,
    state: "COMPLETE",
    trigger: "discovered",
    createdAt: parsed.time.toISOString(),
    modifiedAt: now,
    completedAt: now,
    location: confirmed.location,
    size: confirmed.size,
    etag: confirmed.etag,
    checksum: confirmed.checksum,
  };
  if (!(await deps.checkpoints.create(checkpoint)))
    return { outcome: "duplicate", checkpointId: id };
  await deps.events.publish([checkpointCompleted(checkpoint)]);
  return { outcome: "discovered", checkpointId: id };
}
