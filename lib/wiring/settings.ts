import { compileFileSource, type FileSource } from "../domain/file-source.ts";
import type { SnapshotOwnership } from "../domain/snapshot-key.ts";
import { ownedPrefixes } from "../domain/snapshot-key.ts";
import type { SnapshotDestination } from "../ports/simulation-provider.ts";
import { loadSettings, undeclaredSettings, type Settings } from "../settings.ts";
import type { FunctionName } from "../topology.ts";
import type { ArchiveSettings } from "../usecases/archive/archive-checkpoint.ts";
import type { RestoreSettings } from "../usecases/restore/restore-checkpoint.ts";
import type { SnapshotTiming } from "../usecases/snapshot/take-snapshot.ts";
import { once, undeclared } from "./declared.ts";

/** The environment, read and validated once per process (at the first builder's call, at init). */
export const processSettings = once(() => loadSettings());

/**
 * The settings as function `name` may read them: a setting the deployment sets only for functions
 * that declare it throws when this one does not, since in AWS it would silently be the default.
 */
export function settingsFor(name: FunctionName): Settings {
  // Copies the descriptors, not the values: a default is parsed when read (see `loadSettings`).
  const view = Object.defineProperties(
    {},
    Object.getOwnPropertyDescriptors(processSettings()),
  ) as Settings;
  for (const setting of undeclaredSettings(name)) {
    Object.defineProperty(view, setting, {
      enumerable: false,
      get: () => {
        throw undeclared(name, `the setting ${setting}`);
      },
    });
  }
  return view;
}

/** The prefixes whose snapshot files simsnap treats as its own, in the snapshot bucket. */
export const snapshotOwnership = (settings: Settings): SnapshotOwnership => ({
  bucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
  prefixes: ownedPrefixes(settings.SIMSNAP_SNAPSHOT_PREFIX, settings.SIMSNAP_ADOPTED_PREFIXES),
});

/** Where new snapshots (and, under its `reports/`, prune reports) are written. */
export const snapshotDestination = (settings: Settings): SnapshotDestination => ({
  bucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
  prefix: settings.SIMSNAP_SNAPSHOT_PREFIX,
});

const compiledSources = new WeakMap<object, { bucket: string; sources: FileSource[] }>();

/**
 * The files sources of the deployment, compiled (layouts, commit rules, metric paths) once per
 * settings object, with their bucket; undefined when the deployment configures none. Reading it
 * in a function that declares neither `files` nor `fileSources` throws (see `settingsFor`).
 */
export function fileSourcesOf(
  settings: Settings,
): { bucket: string; sources: FileSource[] } | undefined {
  const configs = settings.SIMSNAP_FILE_SOURCES;
  const bucket = settings.SIMSNAP_FILES_BUCKET;
  if (configs === undefined || bucket === undefined) return undefined;
  let compiled = compiledSources.get(configs);
  if (compiled === undefined) {
    compiled = { bucket, sources: configs.map(compileFileSource) };
    compiledSources.set(configs, compiled);
  }
  return compiled;
}

/** How long a snapshot job waits, checks and retries. */
export const snapshotTiming = (settings: Settings): SnapshotTiming => ({
  firstCheckSeconds: settings.SIMSNAP_STATUS_CHECK_FIRST_SECONDS,
  maxCheckSeconds: settings.SIMSNAP_STATUS_CHECK_MAX_SECONDS,
  deadlineSeconds: settings.SIMSNAP_SNAPSHOT_DEADLINE_SECONDS,
  conflictRetrySeconds: settings.SIMSNAP_CONFLICT_RETRY_SECONDS,
  conflictMaxAttempts: settings.SIMSNAP_CONFLICT_MAX_ATTEMPTS,
});

/** Archiving as configured, or undefined without an archive bucket (archiving then fails loudly). */
export const archiveSettings = (settings: Settings): ArchiveSettings | undefined =>
  settings.SIMSNAP_ARCHIVE_BUCKET
    ? {
        bucket: settings.SIMSNAP_ARCHIVE_BUCKET,
        storageClass: settings.SIMSNAP_ARCHIVE_STORAGE_CLASS,
        checksumAlgorithm: settings.SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM,
        retrySeconds: settings.SIMSNAP_ARCHIVE_RETRY_SECONDS,
      }
    : undefined;

/** What a restore reads: the role, both buckets, its waits and how a cold archive is thawed. */
export const restoreSettings = (settings: Settings): RestoreSettings => ({
  roleArn: settings.SIMSNAP_SIMULATION_ROLE_ARN,
  snapshotBucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
  snapshotPrefix: settings.SIMSNAP_SNAPSHOT_PREFIX,
  archiveBucket: settings.SIMSNAP_ARCHIVE_BUCKET,
  checksumAlgorithm: settings.SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM,
  deadlineSeconds: settings.SIMSNAP_RESTORE_DEADLINE_SECONDS,
  firstCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_FIRST_SECONDS,
  maxCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_MAX_SECONDS,
  thaw: {
    days: settings.SIMSNAP_ARCHIVE_RESTORE_DAYS,
    tier: settings.SIMSNAP_ARCHIVE_RESTORE_TIER,
  },
});
