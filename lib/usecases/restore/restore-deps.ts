import type { ChecksumAlgorithm } from "../../domain/archive.ts";
import type { Checkpoint, ErrorInfo, S3Location } from "../../domain/checkpoint.ts";
import { AppError, ConfigError } from "../../domain/errors.ts";
import type { Job } from "../../domain/job.ts";
import type { RestoreProgress, RestoreStep } from "../../domain/restore.ts";
import { ownershipRefusal, type SnapshotOwnership } from "../../domain/snapshot-key.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import type { ArchiveStore, RestoreTier } from "../../ports/archive-store.ts";
import type { CheckpointStore, JobStore } from "../../ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../ports/messaging.ts";
import type { ProviderDirectory, SimulationProvider } from "../../ports/simulation-provider.ts";

/** How restores run, from the function's settings. */
export interface RestoreSettings {
  /** Role the restored simulation runs with; restoring fails loudly without it. */
  roleArn?: string;
  /** Where archived files are copied back to: the bucket and prefix SimSpace Weaver reads. */
  snapshotBucket: string;
  snapshotPrefix: string;
  /**
   * The archive bucket: the only place an archive copy is read from. Unset (no archive bucket
   * configured), no archive copy is read and a checkpoint restores from its hot file alone.
   */
  archiveBucket?: string;
  checksumAlgorithm: ChecksumAlgorithm;
  /** A restore still running after this long fails (a DEEP_ARCHIVE thaw takes up to 48 h). */
  deadlineSeconds: number;
  /** First wait between checks (thaw, simulation start), doubling up to `maxCheckSeconds`. */
  firstCheckSeconds: number;
  maxCheckSeconds: number;
  /** How an archive in a cold storage class is made readable. */
  thaw: { days: number; tier: RestoreTier };
}

/**
 * What restoring needs: the catalog, the buckets, the providers (a checkpoint is restored by the
 * provider it names) and the restore queue.
 */
export interface RestoreDeps {
  checkpoints: CheckpointStore;
  jobs: JobStore;
  storage: ArchiveStore;
  providers: ProviderDirectory;
  restoreSteps: MessageQueue<RestoreStep>;
  events: EventPublisher;
  clock: Clock;
  restore: RestoreSettings;
  /** A hot file is read only from here; see `ownershipRefusal`. */
  owned: SnapshotOwnership;
  /**
   * The files sources a set of files another tool wrote may be restored into (under a prefix of
   * one of them, `restoreTargetRefusal`); undefined when none are configured.
   */
  files?: FileOwnership;
}

/**
 * What a restore phase decided: go on at once, wait for S3 or the provider, or end the job. The
 * contract between the step loop (restore-steps) and the phases it runs, so each phase can be
 * read and changed on its own.
 */
export type PhaseResult =
  | { kind: "next"; changes: Partial<RestoreProgress> }
  | { kind: "wait"; changes: Partial<RestoreProgress> }
  | { kind: "done"; changes: Partial<RestoreProgress>; stats?: Job["stats"] }
  | { kind: "fail"; error: ErrorInfo };

/**
 * The role restored simulations run with; checked both when a restore is requested (a precise
 * error at once) and when the simulation is started (the settings may have changed since).
 */
export function requireRoleArn(settings: RestoreSettings): string {
  if (!settings.roleArn) {
    throw new ConfigError(
      "Restoring needs SIMSNAP_SIMULATION_ROLE_ARN, the IAM role restored simulations run with: it is not set",
    );
  }
  return settings.roleArn;
}

/**
 * Why no copy of the checkpoint may be read, or undefined when one may: a hot file only from the
 * locations simsnap owns, an archive copy only from its archive bucket. Copying from anywhere else
 * would let a catalog record (one an older version took from another tool's prefix) make simsnap
 * read, and copy beside its own files, data it does not own.
 */
export function sourceRefusal(checkpoint: Checkpoint, deps: RestoreDeps): string | undefined {
  const hot =
    checkpoint.state === "COMPLETE" && checkpoint.location
      ? ownershipRefusal(checkpoint.location, deps.owned)
      : "no hot file";
  if (hot === undefined || (checkpoint.archive && isOwnArchive(checkpoint.archive, deps))) {
    return undefined;
  }
  const archive = checkpoint.archive
    ? `its archive copy s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} is not in the archive bucket ${deps.restore.archiveBucket ?? "(none configured)"}`
    : "it was never archived";
  return `Checkpoint ${checkpoint.id} has no copy simsnap may restore from: ${hot}; ${archive}`;
}

/** An archive copy is read only from the configured archive bucket; see `sourceRefusal`. */
export const isOwnArchive = (archive: S3Location, deps: RestoreDeps): boolean =>
  deps.restore.archiveBucket !== undefined && archive.bucket === deps.restore.archiveBucket;

/**
 * The provider a restore job starts its simulation on: the one its checkpoint names, recorded on
 * the job when it was requested. Older records name none: their checkpoint's, or, with the
 * checkpoint gone, the only provider configured (they were written when there was only one).
 */
export async function restoreProvider(
  job: Pick<Job, "id" | "provider" | "checkpointId">,
  deps: Pick<RestoreDeps, "checkpoints" | "providers">,
): Promise<SimulationProvider> {
  const name =
    job.provider ??
    (job.checkpointId ? (await deps.checkpoints.get(job.checkpointId))?.provider : undefined);
  if (name) return deps.providers.byName(name);
  const [only, ...others] = deps.providers.all();
  if (!only || others.length > 0) {
    throw new AppError(`Restore job ${job.id} names no provider, and its checkpoint is gone`);
  }
  return only;
}
