import type { Checkpoint, S3Location } from "../../domain/checkpoint.ts";
import { ConfigError } from "../../domain/errors.ts";
import { objectSetSource, type FileOwnership } from "../../domain/object-set.ts";
import type { ProviderDirectory } from "../../ports/simulation-provider.ts";

/**
 * True when the checkpoint is a set of objects another tool wrote (its provider declares
 * `checkpointStorage: "object-set"`): retention, deletes, archives and restores then act on every
 * object under its key with the object-set operations, never on `location` as one file. Asked of
 * the provider's capabilities, never its name, so a second provider of sets needs no change here.
 */
export function isObjectSetCheckpoint(
  checkpoint: Pick<Checkpoint, "provider" | "platformId">,
  providers: Pick<ProviderDirectory, "byName">,
): boolean {
  if (checkpoint.platformId !== undefined) return false;
  try {
    return providers.byName(checkpoint.provider).capabilities.checkpointStorage === "object-set";
  } catch (error) {
    // A provider this function's directory does not list (every one lists `files`) keeps what a
    // record with a location always meant: one snapshot file, which ownership rules still guard.
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

/**
 * Why simsnap will not act on an object-set checkpoint at `location`, or undefined when it may:
 * no files sources are configured for this function, or the key is not one whole checkpoint of a
 * configured source (see `objectSetSource`). A record naming another bucket or a shorter prefix
 * must never make simsnap delete or copy objects it does not own.
 */
export function objectSetRefusal(
  location: S3Location,
  files: FileOwnership | undefined,
): string | undefined {
  if (files === undefined) {
    return `s3://${location.bucket}/${location.key} is a set of files, and no files sources are configured (SIMSNAP_FILE_SOURCES)`;
  }
  const owner = objectSetSource(location, files);
  return "refusal" in owner ? owner.refusal : undefined;
}
