/**
 * The names under which simsnap's functions publish CloudWatch metrics, in one place with no
 * dependencies, so that the functions that emit them (`metrics.ts`) and the alarms and dashboard
 * that read them (`infra/observability.ts`) cannot disagree on a name: CloudWatch would accept a
 * misspelt metric and the alarm would simply never see data.
 */

/** CloudWatch namespace of every simsnap metric. */
export const METRICS_NAMESPACE = "simsnap";

/**
 * Value of the `service` dimension Powertools puts on every metric. Fixed rather than read from
 * `POWERTOOLS_SERVICE_NAME`, because an alarm only matches a metric whose dimensions it names.
 */
export const METRICS_SERVICE = "simsnap";

/** Dimension of `CheckpointAge`: the snapshot schedule whose simulations were measured. */
export const SCHEDULE_DIMENSION = "Schedule";

/** Every metric simsnap publishes, with its CloudWatch unit and what one data point means. */
export const SIMSNAP_METRICS = {
  /** plan-snapshots: snapshot requests sent for one schedule tick. */
  SnapshotsRequested: "Count",
  /** complete-snapshot, check-snapshot: snapshot jobs completed with their file. */
  SnapshotsCompleted: "Count",
  /** complete-snapshot: snapshot files no job asked for, cataloged as `discovered`. */
  SnapshotsDiscovered: "Count",
  /** take-snapshot, check-snapshot, observe-shutdown, sweep-jobs: snapshot jobs failed. */
  SnapshotsFailed: "Count",
  /** complete-snapshot, check-snapshot: a snapshot job's age when it completed (request to file). */
  SnapshotJobAge: "Seconds",
  /**
   * plan-snapshots, per schedule: the longest time any simulation the schedule selected has gone
   * without a completed checkpoint, measured at each tick.
   */
  CheckpointAge: "Seconds",
  /** Jobs of any kind that ended FAILED (snapshot, stop, prune, restore; also by sweep-jobs). */
  JobsFailed: "Count",
  /** prune: checkpoints whose files retention removed. */
  CheckpointsPruned: "Count",
  /** prune: snapshot files retention could not delete (retried by the next run). */
  PruneDeleteFailures: "Count",
  /**
   * prune, api (DELETE): checkpoints moved to the trash (a file, a set of objects, or a
   * platform's checkpoint kept there), recoverable until their purgeAfter.
   */
  CheckpointsTrashed: "Count",
  /** prune, api (DELETE): bytes of the checkpoints moved to the trash (their recorded size). */
  TrashedBytes: "Bytes",
  /** api: checkpoints brought back from the trash (POST /checkpoints/{id}/undelete). */
  CheckpointsUndeleted: "Count",
  /** purge-trash: trashed checkpoints whose deletion became final (their bytes removed). */
  CheckpointsPurged: "Count",
  /** purge-trash: bytes S3 or a platform would not delete; retried by the next run. */
  PurgeFailures: "Count",
  /**
   * purge-trash, daily: bytes waiting in the trash folders after the purge (a platform's trashed
   * checkpoints are not counted: their bytes are the platform's).
   */
  BytesInTrash: "Bytes",
  /** archive-checkpoint: checkpoints copied to the archive bucket and verified. */
  CheckpointsArchived: "Count",
  /** archive-checkpoint: bytes of those copies. */
  ArchivedBytes: "Bytes",
  /** prune-archives: archive copies archive retention removed. */
  ArchivesPruned: "Count",
  /** restore-checkpoint: restores whose new simulation started. */
  RestoresCompleted: "Count",
  /**
   * sweep-jobs: steps of open jobs sent again because their message was lost (a steady count
   * means some consumer keeps losing messages: look at its dead-letter queue).
   */
  JobsResent: "Count",
  /** verify-checkpoint: restore tests that PASSED (throwaway resumed from the checkpoint). */
  CheckpointsVerified: "Count",
  /**
   * verify-checkpoint, sweep-jobs: restore tests that FAILED (the checkpoint did not restore, the
   * user check failed, or no verdict came by the deadline). Alarmed: a backup that does not
   * restore is the failure a backup tool exists to catch.
   */
  VerificationsFailed: "Count",
} as const;

/** A simsnap metric's name. */
export type SimsnapMetricName = keyof typeof SIMSNAP_METRICS;
