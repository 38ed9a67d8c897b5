import type { Checkpoint } from "../../domain/checkpoint.ts";
import { ConflictError, ValidationError } from "../../domain/errors.ts";
import type { Job } from "../../domain/job.ts";
import { restoreTargetRefusal, targetPrefixOf } from "../../domain/object-set.ts";
import type { RestoreProgress, RestoreRequest } from "../../domain/restore.ts";
import type { SimulationProvider } from "../../ports/simulation-provider.ts";
import { restoreObjectSet } from "../files/restore-object-set.ts";
import { isOwnArchive, type PhaseResult, type RestoreDeps } from "./restore-deps.ts";

/**
 * The largest manifest a restore reads: about 200 bytes an object, so room for a checkpoint of a
 * hundred thousand objects, and a cap so an edited manifest cannot make a function buffer more.
 */
const MAX_MANIFEST_BYTES = 64 * 1024 ** 2;

const invalid = (path: string, message: string): ValidationError =>
  new ValidationError("Invalid restore request", [{ path, message }]);

/**
 * Why a checkpoint has no archive a prefix restore may copy from, or undefined: it must be
 * COMPLETE or DELETED (a PENDING set was never whole, a FAILED one never written), archived as a
 * set (its record's `archive` names a manifest with its object count) in the configured archive
 * bucket. A set that was never archived is refused rather than copied from the live objects: a
 * tool may be rewriting or pruning them at that moment, and only an archive was proven whole.
 */
function archiveRefusal(checkpoint: Checkpoint, deps: RestoreDeps): string | undefined {
  const id = checkpoint.id;
  if (checkpoint.state === "PENDING" || checkpoint.state === "FAILED") {
    return `Checkpoint ${id} is ${checkpoint.state}: it was never whole, so there is nothing to restore`;
  }
  if (!checkpoint.archive) {
    return `Checkpoint ${id} was never archived: a checkpoint of files is restored from its archive copy (verified against its manifest), and it has none yet`;
  }
  if (checkpoint.archive.objects === undefined) {
    return `Checkpoint ${id}'s archive s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} is not the archive of a set of files`;
  }
  if (!isOwnArchive(checkpoint.archive, deps)) {
    return `Checkpoint ${id}'s archive s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} is not in the archive bucket ${deps.restore.archiveBucket ?? "(none configured)"}`;
  }
  return undefined;
}

/**
 * The checks of a restore under a prefix (a provider with `restoreInto.prefix`: files another tool
 * wrote), made when it is requested so the caller gets a precise 4xx: the request names
 * `target.prefix` and none of a simulation restore's fields, the prefix is one a restore may write
 * under (`restoreTargetRefusal`: inside a configured source, not inside another checkpoint), and
 * the checkpoint has an archive to copy from (`archiveRefusal`). Answers the prefix, normalized.
 */
export function checkPrefixRestore(
  checkpoint: Checkpoint,
  provider: SimulationProvider,
  request: RestoreRequest,
  deps: RestoreDeps,
): string {
  for (const field of ["simulationName", "maximumDuration"] as const) {
    if (request[field] !== undefined) {
      throw invalid(
        field,
        `starts a simulation; ${provider.name} restores checkpoint ${checkpoint.id} by copying its files under target.prefix`,
      );
    }
  }
  if (request.target === undefined) {
    throw invalid(
      "target.prefix",
      `is required: ${provider.name} restores checkpoint ${checkpoint.id} by copying its files under a prefix`,
    );
  }
  if (deps.files === undefined) {
    throw new ConflictError(
      `Checkpoint ${checkpoint.id} is a set of files, and this deployment configures no files sources to restore into`,
    );
  }
  const prefix = targetPrefixOf(request.target.prefix);
  const refusal =
    prefix === undefined
      ? 'must name a prefix, not the bucket\'s root ("/")'
      : restoreTargetRefusal({ bucket: deps.files.bucket, prefix }, deps.files);
  if (refusal !== undefined || prefix === undefined) throw invalid("target.prefix", refusal ?? "");
  const unavailable = archiveRefusal(checkpoint, deps);
  if (unavailable !== undefined) throw new ConflictError(unavailable);
  return prefix;
}

/**
 * The `locating` phase of a prefix restore: the checkpoint, read again, must still have its
 * archive (archive retention may have removed it since the request); the copy reads its manifest.
 */
export async function locateArchivedSet(job: Job, deps: RestoreDeps): Promise<PhaseResult> {
  const checkpoint = job.checkpointId ? await deps.checkpoints.get(job.checkpointId) : undefined;
  if (!checkpoint) {
    return {
      kind: "fail",
      error: { code: "NotFound", message: `Checkpoint ${job.checkpointId} no longer exists` },
    };
  }
  const refusal = archiveRefusal(checkpoint, deps);
  if (refusal !== undefined || !checkpoint.archive) {
    return { kind: "fail", error: { code: "NothingToRestore", message: refusal ?? "" } };
  }
  const { bucket, key } = checkpoint.archive;
  return { kind: "next", changes: { phase: "copying", from: "archive", source: { bucket, key } } };
}

/**
 * The `thawing` and `copying` phases of a prefix restore, in one: reads the manifest and lets
 * `restoreObjectSet` check the archive against it, ask S3 to thaw cold objects (then wait and run
 * again), and copy every object under the prefix, each checked against the manifest, the commit
 * marker last. Done with the prefix's `s3://` URI and the set's object count and bytes; a missing
 * or unreadable manifest, or a refusal (the archive disagrees with its manifest, the target holds
 * other objects), fails the job with the reason.
 */
export async function restoreArchivedSet(
  job: Job,
  progress: RestoreProgress,
  deps: RestoreDeps,
): Promise<PhaseResult> {
  const fail = (code: string, message: string): PhaseResult => ({
    kind: "fail",
    error: { code, message },
  });
  const source = progress.source;
  if (!source || !progress.prefix || !deps.files) {
    return fail(
      "NothingToRestore",
      `Restore job ${job.id} has no manifest, prefix or files sources`,
    );
  }
  const where = `s3://${source.bucket}/${source.key}`;
  const text = await deps.storage.getText(source, MAX_MANIFEST_BYTES);
  if (text === undefined) {
    return fail("ArchiveMissing", `The manifest ${where} is missing (or larger than 64 MiB)`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return fail("ManifestInvalid", `The manifest ${where} is not JSON`);
  }
  const named = (manifest as { checkpointId?: unknown } | null)?.checkpointId;
  if (named !== job.checkpointId) {
    return fail("ManifestInvalid", `The manifest ${where} is not checkpoint ${job.checkpointId}'s`);
  }
  let result;
  try {
    result = await restoreObjectSet(
      { manifest, targetPrefix: progress.prefix },
      {
        storage: deps.storage,
        owned: deps.files,
        archiveBucket: deps.restore.archiveBucket,
        checksumAlgorithm: deps.restore.checksumAlgorithm,
        thaw: deps.restore.thaw,
        retrySeconds: deps.restore.firstCheckSeconds,
      },
    );
  } catch (error) {
    if (error instanceof ValidationError) return fail("ManifestInvalid", error.message);
    throw error;
  }
  switch (result.outcome) {
    case "refused":
      return fail("RestoreRefused", result.reason);
    case "thawing":
      return {
        kind: "wait",
        changes: {
          phase: "thawing",
          thawRequestedAt: progress.thawRequestedAt ?? deps.clock.now().toISOString(),
        },
      };
    case "restored":
      return {
        kind: "done",
        changes: { phase: "copying", uri: result.uri },
        stats: { objects: result.objects, bytes: result.bytes },
      };
  }
}
