/**
 * The one description of what triggers what. The CDK stack (`infra/`) turns it into Lambda
 * functions, SQS queues with dead-letter queues, EventBridge rules and Scheduler schedules; the
 * local runtime (`lib/local/`) wires the same functions to its embedded queues, bus and
 * scheduler. Neither side declares a trigger of its own, so they cannot drift apart. Each
 * function also declares what it uses (`needs`), from which both sides derive its environment
 * and the stack its IAM grants.
 */

import type { ScheduleConfig } from "./domain/config-file.ts";
import { ValidationError } from "./domain/errors.ts";
import { snapshotFolder } from "./domain/snapshot-key.ts";
import type { VerificationConfig } from "./domain/verification.ts";

/** The functions, by name. */
export type FunctionName =
  | "request-stop"
  | "finish-stop"
  | "observe-shutdown"
  | "plan-snapshots"
  | "take-snapshot"
  | "complete-snapshot"
  | "check-snapshot"
  | "prune"
  | "api"
  | "archive-checkpoint"
  | "restore-checkpoint"
  | "prune-archives"
  | "sweep-jobs"
  | "sync-checkpoints"
  | "plan-verifications"
  | "verify-checkpoint"
  | "discover-files"
  | "purge-trash";

/** The queues, by name. */
export type QueueName =
  | "stop-requests"
  | "final-snapshots"
  | "simulation-shutdowns"
  | "snapshot-requests"
  | "snapshot-files"
  | "status-checks"
  | "prune-requests"
  | "archive-requests"
  | "restore-steps"
  | "verification-steps"
  | "file-events";

/** A Lambda function: its entry file under `functions/` and its sizing. */
export interface FunctionSpec {
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Queues this function sends to (grants and `SIMSNAP_QUEUE_*_URL` environment). */
  sendsTo: QueueName[];
  /** Everything else it uses; with `sendsTo`, the one declaration of its grants and settings. */
  needs: FunctionNeeds;
}

/**
 * SimSpace Weaver operations, by their API names (the IAM action is `simspaceweaver:<name>`).
 * Every method of the `SimulationProvider` port is one of them.
 */
export type ProviderOperation =
  | "ListSimulations"
  | "DescribeSimulation"
  | "ListTagsForResource"
  | "CreateSnapshot"
  | "StopSimulation"
  | "StartSimulation"
  | "DeleteSimulation";

/**
 * NVIDIA Air operations, by the port method a function calls (`checkpoints.*` are the platform
 * checkpoint API, `PlatformCheckpoints`). Air has no IAM: declaring any of them gives the function
 * the Air endpoint and its token's source, and in AWS `secretsmanager:GetSecretValue` on the token
 * secret; the builder in `lib/wiring/air.ts` rejects every method not declared.
 */
export type AirOperation =
  | "listSimulations"
  | "describeSimulation"
  | "stopSimulation"
  | "startSimulation"
  | "stopWithCheckpoint"
  | "deleteSimulation"
  | "checkpoints.list"
  | "checkpoints.get"
  | "checkpoints.update"
  | "checkpoints.delete"
  | "checkpoints.restore";

/** What a function may do with archive copies, as the S3 actions it is granted on them. */
export type ArchiveAction =
  | "s3:GetObject"
  | "s3:PutObject"
  | "s3:AbortMultipartUpload"
  | "s3:RestoreObject"
  | "s3:DeleteObject";

/** Access to the snapshot bucket, never beyond the prefixes simsnap owns (`ownedPrefixes`). */
export interface SnapshotAccess {
  /** HeadObject and GetObject under the owned prefixes, listing the bucket. */
  read?: boolean;
  /** DeleteObject in the snapshot folders of the owned prefixes (`<prefix>/snapshot/*`). */
  delete?: boolean;
  /** PutObject of plan reports under the destination prefix's `reports/` folder. */
  reports?: boolean;
  /** PutObject (multipart) of copied-back archives under the destination prefix's `restore/`. */
  restoreCopies?: boolean;
  /**
   * The trash (`lib/domain/trash.ts`) under each owned prefix's `trash/`: `write` is PutObject,
   * AbortMultipartUpload and DeleteObject (a deleted file copied in, an undeleted copy removed),
   * `delete` DeleteObject alone (the purge).
   */
  trash?: "write" | "delete";
  /** PutObject and AbortMultipartUpload in the snapshot folders: an undeleted file copied back. */
  undelete?: boolean;
}

/**
 * Access to the files bucket (config `providers.files`), never beyond the configured sources'
 * prefixes: the checkpoints other tools write there are simsnap's to catalog, prune and restore,
 * the rest of the bucket is not.
 */
export interface FilesAccess {
  /** ListBucket (with an `s3:prefix` condition per source), GetObject, ListBucketMultipartUploads. */
  read?: boolean;
  /** DeleteObject under the sources' prefixes (pruning and deleting a checkpoint's objects). */
  delete?: boolean;
  /** PutObject and AbortMultipartUpload under the sources' prefixes (restores into a source). */
  write?: boolean;
}

/**
 * Settings a function reads beyond those of its resources, each an environment variable the
 * deployment sets only for the functions that declare it: `retention` (`SIMSNAP_RETENTION`),
 * `pruneDebounce` (`SIMSNAP_PRUNE_DEBOUNCE_SECONDS`), `archiveRetention`
 * (`SIMSNAP_ARCHIVE_RETENTION`), `archiveBucket` (the archive bucket's name without access to it,
 * `SIMSNAP_ARCHIVE_BUCKET`), `simulationRole` (the role's ARN without passing it,
 * `SIMSNAP_SIMULATION_ROLE_ARN`), `fileSources` (the files sources and their bucket without access
 * to them, `SIMSNAP_FILE_SOURCES` and `SIMSNAP_FILES_BUCKET`; a `files` need implies it),
 * `freshnessWatches` (the snapshot schedules' staleness thresholds, `SIMSNAP_FRESHNESS_WATCHES`),
 * `trashDays` (how long a deleted snapshot file stays in the trash, `SIMSNAP_TRASH_DAYS`).
 */
export type SettingNeed =
  | "retention"
  | "pruneDebounce"
  | "archiveRetention"
  | "archiveBucket"
  | "simulationRole"
  | "fileSources"
  | "freshnessWatches"
  | "trashDays";

/**
 * What a function uses, declared once. The stack derives its IAM grants and its environment
 * from it, the local runtime its environment, and the builders in `lib/wiring/` refuse to build
 * an adapter, call an operation or read a setting it does not declare, so a handler that
 * outgrows its declaration fails in tests and locally, not with an AccessDenied in AWS.
 */
export interface FunctionNeeds {
  /**
   * The catalog table: `read` (GetItem, BatchGetItem, Query); `cache`, reading and keeping what
   * is derived from the records, never a record (the tag cache's BatchWriteItem, the registry's
   * one-time backfill by UpdateItem); or `write` (conditional PutItem and UpdateItem too).
   */
  catalog: "read" | "cache" | "write";
  /**
   * A listing across simulations, the only Scan allowed: `jobs` scans the table (`GET /jobs`,
   * jobs have no registry), `openJobs` the sparse index of RUNNING jobs (the sweeper).
   */
  scan?: "jobs" | "openJobs";
  /** Publishes on the simsnap bus. */
  events: boolean;
  /**
   * SimSpace Weaver operations it calls. With none (and no `air`), it bundles no provider client;
   * a function that only reads providers' capabilities (whether a checkpoint is archivable)
   * declares neither.
   */
  provider: readonly ProviderOperation[];
  /**
   * NVIDIA Air operations it calls, when a deployment configures Air (`providers.air`): the
   * simulations of a function's provider directory are those of SimSpace Weaver and, for a
   * function that declares some, NVIDIA Air.
   */
  air?: readonly AirOperation[];
  snapshots?: SnapshotAccess;
  /** Checkpoint files of other tools, under the configured sources' prefixes only. */
  files?: FilesAccess;
  /** Actions on archive copies, anywhere in the archive bucket. */
  archive?: readonly ArchiveAction[];
  /** Passes the simulation role to SimSpace Weaver (a restore's StartSimulation). */
  passRole?: boolean;
  /**
   * Runs the restore tests' user check (config `verification.check`): gets its setting
   * (`SIMSNAP_VERIFICATION_CHECK`) and, in AWS, `lambda:InvokeFunction` on that one function.
   */
  userCheck?: boolean;
  settings?: readonly SettingNeed[];
}

/** An SQS queue consumed by one function, with its dead-letter policy. */
export interface QueueSpec {
  consumer: FunctionName;
  /** Must exceed the consumer's timeout so a message is not redelivered while in flight. */
  visibilityTimeoutSeconds: number;
  /** Deliveries before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  batchSize: number;
  /** Delay of every message (SQS `DelaySeconds`), e.g. to let a burst of triggers coalesce. */
  deliveryDelaySeconds?: number;
  /**
   * Most invocations of the consumer the queue's event source mapping runs at once (2 to 1000;
   * unset: as many as the backlog calls for), for a consumer whose provider must not be flooded.
   */
  maxConcurrency?: number;
}

/** Placeholders resolved by each side: real names in AWS, local names in the embedded runtime. */
export interface TopologyNames {
  snapshotBucket: string;
  /** The prefixes simsnap owns (`ownedPrefixes`): only files under these are routed to it. */
  snapshotPrefixes: readonly string[];
  /**
   * The files bucket and its sources' prefixes (config `providers.files`), when configured: only
   * objects under these are routed to discovery. Absent, the rules about them are not deployed.
   */
  files?: { bucket: string; prefixes: readonly string[] };
  /** False when the deployment turns SimSpace Weaver off: its CloudTrail rule is not deployed. */
  simSpaceWeaver?: boolean;
}

/** EventBridge's wildcard operand matching `text` literally (`*` and `\` escaped). */
const literalWildcard = (text: string): string => text.replace(/[\\*]/g, "\\$&");

/** An EventBridge rule on a bus, sending matched events to a queue. */
export interface RuleSpec {
  name: string;
  description: string;
  bus: "default" | "simsnap";
  /**
   * The rule's event pattern with the deployment's names; undefined when the deployment lacks
   * what the rule is about (no files sources), and then neither side deploys it.
   */
  pattern: (names: TopologyNames) => Record<string, unknown> | undefined;
  targetQueue: QueueName;
}

/** A schedule that invokes a function with a fixed input. */
export interface ScheduleSpec {
  name: string;
  description: string;
  /** EventBridge Scheduler expression: `cron(…)`, `rate(…)` or `at(…)`. */
  expression: string;
  /** What the local runtime runs instead (seconds allowed), where the AWS period is too slow. */
  localExpression?: string;
  timeZone: string;
  target: FunctionName;
  /**
   * The export of the target's entry that the schedule invokes; `DEFAULT_HANDLER` when absent,
   * as for queues and the HTTP API. A function fed by a queue and a schedule has one export per
   * source, so neither guesses what it was given (AWS runs each export as a Lambda of its own).
   */
  handler?: string;
  /** Fields added to the schedule's input beside `schedule` and `scheduledTime`. */
  extraInput?: Record<string, unknown>;
  /** A disabled schedule is deployed in state `DISABLED` and not armed locally; default enabled. */
  enabled?: boolean;
}

/**
 * How a schedule's tick is retried, read by the stack (which sets both explicitly) and by the
 * local scheduler (which mirrors `invocation`). Two layers: EventBridge Scheduler invokes a
 * Lambda target asynchronously, so its `delivery` policy only covers handing the event to Lambda
 * (its defaults: 185 tries with exponential backoff within 24 h); a target that throws is retried
 * by Lambda's asynchronous invocation (its defaults: 2 more tries, one minute and then two
 * minutes later, within 6 h). The delays are Lambda's fixed, documented ones, not a setting.
 */
export const SCHEDULE_RETRY = {
  delivery: { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 },
  invocation: { retryAttempts: 2, maxEventAgeSeconds: 21_600, retryDelaysSeconds: [60, 120] },
} as const;

/** The export of a function's entry that its queue, the HTTP API and most schedules invoke. */
export const DEFAULT_HANDLER = "handler";

/** Completions of a simulation within this window trigger one prune, this long after the window. */
export const PRUNE_DEBOUNCE_SECONDS = 60;

const functions = {
  "plan-snapshots": {
    entry: "functions/plan-snapshots.ts",
    description: "Schedule tick: one snapshot (or cycle) request per running simulation",
    timeoutSeconds: 60,
    memoryMb: 256,
    // stop-requests: a `cycle` schedule stops an Air simulation with a checkpoint and restarts it.
    sendsTo: ["snapshot-requests", "stop-requests"],
    needs: {
      // Reads each simulation's checkpoint age from the registry; keeps the tag cache (tags read
      // for selectors) and, once per simulation cataloged before the registry kept ages, its
      // backfill; never a record. Publishes nothing.
      catalog: "cache",
      events: false,
      provider: ["ListSimulations", "DescribeSimulation", "ListTagsForResource"],
      // Air cannot snapshot a running simulation: its simulations are listed to cycle them (a
      // `cycle` schedule) or to report them skipped.
      air: ["listSimulations"],
    },
  },
  "take-snapshot": {
    entry: "functions/take-snapshot.ts",
    description: "Records a PENDING checkpoint and a RUNNING job, then calls CreateSnapshot",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: ["snapshot-requests", "status-checks"],
    needs: { catalog: "write", events: true, provider: ["CreateSnapshot"] },
  },
  "complete-snapshot": {
    entry: "functions/complete-snapshot.ts",
    description: "Completes the matching job when a snapshot file appears in S3",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: [],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      // HeadObject confirms the file before its checkpoint completes. The reconciling scan lists
      // the snapshot folders and keeps its place in a cursor object under `reports/`.
      snapshots: { read: true, reports: true },
    },
  },
  "check-snapshot": {
    entry: "functions/check-snapshot.ts",
    description: "Delayed status check: completes a job whose S3 event was missed, or fails it",
    timeoutSeconds: 30,
    memoryMb: 256,
    // restore-steps: a cycle's stop, its checkpoint COMPLETE, starts the restart's restore job.
    sendsTo: ["status-checks", "restore-steps"],
    needs: {
      catalog: "write",
      events: true,
      provider: ["DescribeSimulation"],
      // A stop through Air is re-checked here: its checkpoints are mirrored (names and favorites
      // pushed), and a stop call whose request was lost is made again.
      air: [
        "describeSimulation",
        "stopWithCheckpoint",
        "checkpoints.list",
        "checkpoints.get",
        "checkpoints.update",
      ],
      snapshots: { read: true },
    },
  },
  prune: {
    entry: "functions/prune.ts",
    description: "Applies the retention policy: daily, and after snapshots complete (debounced)",
    timeoutSeconds: 300,
    memoryMb: 512,
    // A run larger than one invocation's budget sends the rest of itself to its own queue.
    sendsTo: ["prune-requests"],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      // An Air checkpoint is removed with Air's DELETE, read before and after.
      air: ["checkpoints.get", "checkpoints.delete"],
      // A snapshot file is moved to the trash: read (the copy's source), copied there, deleted.
      snapshots: { read: true, delete: true, reports: true, trash: "write" },
      // A files checkpoint's objects are listed and deleted (marker first, then batches).
      files: { read: true, delete: true },
      // With an archive bucket, a checkpoint leaves the hot bucket only once it is archived.
      settings: ["retention", "pruneDebounce", "archiveBucket", "trashDays"],
    },
  },
  api: {
    entry: "functions/api.ts",
    description: "Catalog HTTP API: checkpoints, simulations, jobs; snapshot, stop, restore, prune",
    timeoutSeconds: 29,
    memoryMb: 512,
    sendsTo: ["snapshot-requests", "prune-requests", "restore-steps", "status-checks"],
    needs: {
      catalog: "write",
      scan: "jobs",
      events: true,
      provider: ["ListSimulations", "DescribeSimulation", "StopSimulation"],
      // Renames, favorites and deletions of Air checkpoints are made on Air itself; a stop with a
      // checkpoint is Air's shutdown, told apart from the checkpoints before it.
      air: [
        "listSimulations",
        "describeSimulation",
        "stopSimulation",
        "stopWithCheckpoint",
        "checkpoints.list",
        "checkpoints.get",
        "checkpoints.update",
        "checkpoints.delete",
      ],
      // POST /checkpoints/{id}/restore checks that the file is there; DELETE moves it to the
      // trash (or removes it), POST /checkpoints/{id}/undelete copies it back.
      snapshots: { read: true, delete: true, trash: "write", undelete: true },
      // DELETE of a files checkpoint lists and deletes its objects (copied to the trash first);
      // its undelete copies them back (write); a restore's target prefix is checked against the
      // sources.
      files: { read: true, delete: true, write: true },
      // POST /prune plans with the prune function's policy; a restore request is checked at once;
      // GET /simulations says fresh or late by the staleness alarms' thresholds.
      settings: ["retention", "archiveBucket", "simulationRole", "freshnessWatches", "trashDays"],
    },
  },
  "request-stop": {
    entry: "functions/request-stop.ts",
    description: "Stop request: records a stop job and asks for the final snapshot",
    timeoutSeconds: 30,
    memoryMb: 256,
    // status-checks: the re-checks of a stop through a platform that checkpoints while stopping.
    sendsTo: ["snapshot-requests", "status-checks"],
    needs: {
      catalog: "write",
      events: true,
      provider: ["DescribeSimulation", "StopSimulation"],
      // Air's final checkpoint is taken by its shutdown, told apart from the ones before it.
      air: ["describeSimulation", "stopSimulation", "stopWithCheckpoint", "checkpoints.list"],
    },
  },
  "finish-stop": {
    entry: "functions/finish-stop.ts",
    description: "Final snapshot ended: calls StopSimulation, or fails the stop and reports why",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: [],
    needs: {
      catalog: "write",
      events: true,
      provider: ["DescribeSimulation", "StopSimulation"],
    },
  },
  "observe-shutdown": {
    entry: "functions/observe-shutdown.ts",
    description: "A simulation was stopped or deleted: fails its open snapshot jobs",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: [],
    needs: { catalog: "write", events: true, provider: [] },
  },
  "archive-checkpoint": {
    entry: "functions/archive-checkpoint.ts",
    description: "Copies a completed checkpoint's file to the archive bucket and verifies it",
    // Copies are server-side, but a streamed verification of a large file reads it twice.
    timeoutSeconds: 900,
    memoryMb: 1024,
    sendsTo: [],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      // The copy is server-side: reading its source is GetObject on the snapshot file.
      snapshots: { read: true },
      // A files checkpoint's objects are listed and copied (GetObject) the same way.
      files: { read: true },
      archive: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
    },
  },
  "restore-checkpoint": {
    entry: "functions/restore-checkpoint.ts",
    description: "Runs restore jobs: thaws and copies back archives, starts the simulation, waits",
    timeoutSeconds: 900,
    memoryMb: 1024,
    sendsTo: ["restore-steps"],
    needs: {
      catalog: "write",
      events: true,
      provider: ["StartSimulation", "DescribeSimulation"],
      // Air restores its own checkpoints: the same simulation started from one, or a clone.
      air: ["describeSimulation", "checkpoints.get", "checkpoints.restore"],
      snapshots: { read: true, restoreCopies: true },
      // A files checkpoint is copied back under a prefix of its source: the target is listed,
      // written, and a copy that does not match its manifest is deleted again.
      files: { read: true, write: true, delete: true },
      archive: ["s3:GetObject", "s3:RestoreObject"],
      passRole: true,
    },
  },
  "prune-archives": {
    entry: "functions/prune-archives.ts",
    description: "Applies the archive retention policy to the archive bucket once a day",
    timeoutSeconds: 900,
    memoryMb: 512,
    sendsTo: [],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      archive: ["s3:DeleteObject"],
      settings: ["archiveRetention"],
    },
  },
  "sweep-jobs": {
    entry: "functions/sweep-jobs.ts",
    description: "Finds open jobs whose messages were lost: re-sends their step or fails them",
    timeoutSeconds: 120,
    memoryMb: 256,
    sendsTo: [
      "snapshot-requests",
      "status-checks",
      "restore-steps",
      "final-snapshots",
      "verification-steps",
    ],
    needs: {
      catalog: "write",
      scan: "openJobs",
      events: true,
      // Re-sent steps are carried out by their own functions: the sweeper calls no provider.
      provider: [],
    },
  },
  "sync-checkpoints": {
    entry: "functions/sync-checkpoints.ts",
    description: "Mirrors the checkpoints platforms hold (NVIDIA Air) into the catalog",
    timeoutSeconds: 300,
    memoryMb: 256,
    sendsTo: [],
    needs: {
      // Open stop jobs tell which new checkpoint a stop of simsnap's asked for.
      catalog: "write",
      events: true,
      provider: [],
      air: ["listSimulations", "checkpoints.list", "checkpoints.get", "checkpoints.update"],
    },
  },
  "plan-verifications": {
    entry: "functions/plan-verifications.ts",
    description:
      "Verification tick: a restore test job per chosen checkpoint, within the cost guard",
    timeoutSeconds: 120,
    memoryMb: 256,
    sendsTo: ["verification-steps"],
    needs: {
      catalog: "write",
      // The cost guard counts the open verification jobs, across simulations.
      scan: "openJobs",
      events: false,
      // Only the providers' capabilities (can they host a restore test): no call.
      provider: [],
    },
  },
  "verify-checkpoint": {
    entry: "functions/verify-checkpoint.ts",
    description:
      "Runs restore tests: a throwaway simulation from the checkpoint, checked, then stopped and deleted",
    // A user check may take up to 600 s (its own timeout), within one step.
    timeoutSeconds: 900,
    memoryMb: 512,
    sendsTo: ["verification-steps"],
    needs: {
      catalog: "write",
      events: true,
      // ListTagsForResource: a throwaway is stopped and deleted only when it carries its job's tag.
      provider: [
        "StartSimulation",
        "DescribeSimulation",
        "ListTagsForResource",
        "StopSimulation",
        "DeleteSimulation",
      ],
      // NVIDIA Air: a clone of the checkpoint is the throwaway (deleteSimulation: throwaways only).
      air: ["checkpoints.restore", "describeSimulation", "stopSimulation", "deleteSimulation"],
      passRole: true,
      userCheck: true,
    },
  },
  "discover-files": {
    entry: "functions/discover-files.ts",
    description:
      "Catalogs the checkpoints other tools write under the files sources: S3 events and a scan",
    // A scan lists every source's prefix and reads the PENDING records of every simulation.
    timeoutSeconds: 300,
    memoryMb: 512,
    // Its own queue: a checkpoint left settling is looked at again when its period ends.
    sendsTo: ["file-events"],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      files: { read: true },
    },
  },
  "purge-trash": {
    entry: "functions/purge-trash.ts",
    description:
      "Makes deletions final: removes trashed checkpoints' bytes past their purgeAfter, and orphans",
    timeoutSeconds: 300,
    memoryMb: 256,
    sendsTo: [],
    needs: {
      catalog: "write",
      events: true,
      provider: [],
      // A checkpoint NVIDIA Air kept while in the trash is deleted there, read before and after.
      air: ["checkpoints.get", "checkpoints.delete"],
      // Lists the trash folders; removes a purged copy and any original a move left behind.
      snapshots: { read: true, delete: true, trash: "delete" },
      // A set's objects a move left at its key (listed, then deleted, marker first).
      files: { read: true, delete: true },
    },
  },
} as const satisfies Record<FunctionName, FunctionSpec>;

const queues = {
  "snapshot-requests": {
    consumer: "take-snapshot",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 12,
    batchSize: 10,
    // SimSpace Weaver's control plane publishes no request quota and throttles bursts; a schedule
    // tick over many simulations is a burst. Two at a time (the mapping's minimum) spreads it, and
    // the queue holds the rest: unlike reserved concurrency, throttled deliveries do not count
    // toward maxReceiveCount, and no account concurrency has to be set aside (which accounts with
    // the default limit of 10 cannot).
    maxConcurrency: 2,
  },
  "snapshot-files": {
    consumer: "complete-snapshot",
    visibilityTimeoutSeconds: 180,
    // A file stamped while a CreateSnapshot call may still be answering waits for that call
    // (a few seconds per delivery, for as long as its claim lasts), and every wait is a receive:
    // enough receives to outlast the claim, so the event is not dead-lettered meanwhile.
    maxReceiveCount: 20,
    batchSize: 10,
  },
  "status-checks": {
    consumer: "check-snapshot",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    batchSize: 10,
  },
  "prune-requests": {
    consumer: "prune",
    visibilityTimeoutSeconds: 900,
    maxReceiveCount: 5,
    batchSize: 1,
    deliveryDelaySeconds: PRUNE_DEBOUNCE_SECONDS,
  },
  "stop-requests": {
    consumer: "request-stop",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    batchSize: 10,
  },
  "final-snapshots": {
    consumer: "finish-stop",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 8,
    batchSize: 10,
  },
  "simulation-shutdowns": {
    consumer: "observe-shutdown",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    batchSize: 10,
  },
  // Long-running consumers: one message per invocation, and a visibility timeout well above the
  // 900 s function timeout so a copy in progress is not delivered to a second consumer.
  "archive-requests": {
    consumer: "archive-checkpoint",
    visibilityTimeoutSeconds: 1800,
    maxReceiveCount: 6,
    batchSize: 1,
  },
  "restore-steps": {
    consumer: "restore-checkpoint",
    visibilityTimeoutSeconds: 1800,
    maxReceiveCount: 6,
    batchSize: 1,
  },
  // One restore test step at a time: a user check may run for minutes.
  "verification-steps": {
    consumer: "verify-checkpoint",
    visibilityTimeoutSeconds: 1800,
    maxReceiveCount: 6,
    batchSize: 1,
  },
  // S3 events of the files sources and delayed re-checks: each re-lists one checkpoint.
  "file-events": {
    consumer: "discover-files",
    visibilityTimeoutSeconds: 600,
    maxReceiveCount: 5,
    batchSize: 10,
  },
} as const satisfies Record<QueueName, QueueSpec>;

const rules: RuleSpec[] = [
  {
    name: "simulation-stop-requested",
    description: "Someone asked on the simsnap bus to stop a simulation (after a final snapshot)",
    bus: "simsnap",
    pattern: () => ({ "detail-type": ["Simulation Stop Requested"] }),
    targetQueue: "stop-requests",
  },
  {
    name: "final-snapshot-ended",
    description: "A shutdown snapshot completed or failed: the stop waiting for it goes on",
    bus: "simsnap",
    pattern: () => ({
      source: ["simsnap"],
      "detail-type": ["Checkpoint Completed", "Checkpoint Failed"],
      detail: { checkpoint: { trigger: ["shutdown"] } },
    }),
    targetQueue: "final-snapshots",
  },
  {
    name: "simulation-shut-down",
    description: "CloudTrail saw StopSimulation or DeleteSimulation succeed",
    bus: "default",
    pattern: (names) =>
      names.simSpaceWeaver === false
        ? undefined
        : {
            source: ["aws.simspaceweaver"],
            "detail-type": ["AWS API Call via CloudTrail"],
            detail: {
              eventSource: ["simspaceweaver.amazonaws.com"],
              eventName: ["StopSimulation", "DeleteSimulation"],
              errorCode: [{ exists: false }],
            },
          },
    targetQueue: "simulation-shutdowns",
  },
  {
    name: "snapshot-file-created",
    description: "A snapshot file was written under a prefix simsnap owns",
    bus: "default",
    // Only the snapshot folders of the owned prefixes: a `.zip` another tool writes elsewhere in
    // the bucket never reaches simsnap (the parser and the use cases check it again).
    pattern: (names) => ({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: {
        bucket: { name: [names.snapshotBucket] },
        object: {
          key: names.snapshotPrefixes.map((prefix) => ({
            wildcard: `${literalWildcard(snapshotFolder(prefix))}*.zip`,
          })),
        },
      },
    }),
    targetQueue: "snapshot-files",
  },
  {
    name: "checkpoint-file-changed",
    description: "An object was written or deleted under a files source (a tool's checkpoint)",
    bus: "default",
    // Under the sources' prefixes only, never the rest of the bucket: discovery checks the
    // layout of each key (and skips temporary names) itself.
    pattern: (names) =>
      names.files && {
        source: ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        detail: {
          bucket: { name: [names.files.bucket] },
          object: { key: names.files.prefixes.map((prefix) => ({ prefix: `${prefix}/` })) },
        },
      },
    targetQueue: "file-events",
  },
  {
    name: "prune-after-completion",
    description: "A checkpoint completed: prune its simulation once the debounce delay has passed",
    bus: "simsnap",
    pattern: () => ({ source: ["simsnap"], "detail-type": ["Checkpoint Completed"] }),
    targetQueue: "prune-requests",
  },
  {
    name: "archive-after-completion",
    description: "A checkpoint completed: copy its file to the archive bucket",
    bus: "simsnap",
    pattern: () => ({ source: ["simsnap"], "detail-type": ["Checkpoint Completed"] }),
    targetQueue: "archive-requests",
  },
];

/** The HTTP API in front of one function, which routes every request itself. */
export interface HttpApiSpec {
  target: FunctionName;
  description: string;
  /** Where the local runtime serves it; AWS gives the HTTP API its own URL. */
  localPort: number;
}

const httpApi: HttpApiSpec = {
  target: "api",
  description: "simsnap catalog API (IAM-authorized)",
  localPort: 8080,
};

const schedules: ScheduleSpec[] = [
  {
    name: "prune-daily",
    description: "Applies the retention policy to every simulation in the catalog once a day",
    expression: "cron(0 3 * * ? *)",
    timeZone: "UTC",
    target: "prune",
    handler: "dailyHandler",
    extraInput: { source: "schedule" },
  },
  {
    name: "purge-trash-daily",
    description: "Makes the deletions of trashed checkpoints past their purgeAfter final",
    expression: "cron(0 5 * * ? *)",
    timeZone: "UTC",
    target: "purge-trash",
  },
  {
    name: "archive-prune-daily",
    description: "Applies the archive retention policy (if one is configured) once a day",
    expression: "cron(30 3 * * ? *)",
    timeZone: "UTC",
    target: "prune-archives",
  },
  {
    name: "sweep-jobs",
    description: "Ends or re-drives open jobs whose messages were lost, so none stays RUNNING",
    expression: "rate(5 minutes)",
    // The local stack's jobs run in seconds, and its queues lose messages when it is killed.
    localExpression: "rate(5 seconds)",
    timeZone: "UTC",
    target: "sweep-jobs",
  },
  {
    name: "reconcile-snapshots",
    description:
      "Catalogs snapshot files of simsnap's own whose S3 event was lost and that no job bound",
    expression: "rate(15 minutes)",
    // The local stack's snapshot deadline (hence the scan's grace) is seconds, not an hour.
    localExpression: "rate(5 seconds)",
    timeZone: "UTC",
    target: "complete-snapshot",
    handler: "scanHandler",
  },
  {
    name: "sync-checkpoints",
    description:
      "Mirrors platform-held checkpoints (NVIDIA Air) into the catalog: new, completed, deleted by the platform, renamed, favorited",
    expression: "rate(15 minutes)",
    // The local Air server's simulations change state within seconds.
    localExpression: "rate(5 seconds)",
    timeZone: "UTC",
    target: "sync-checkpoints",
  },
];

/** The whole wiring, read by `infra/` and `lib/local/`. */
export const topology = { functions, queues, rules, schedules, httpApi } as const;

/** EventBridge Scheduler's placeholder for the slot's own time in a schedule's input. */
export const SCHEDULED_TIME = "<aws.scheduler.scheduled-time>";

/** Snapshot schedules come from the config file; every one of them invokes this function. */
export const SNAPSHOT_SCHEDULE_TARGET = "plan-snapshots" satisfies FunctionName;

/**
 * The input a schedule hands its target: its `extraInput`, its name and the slot's time (the
 * placeholder in AWS, the actual time locally). plan-snapshots reads it as a `ScheduleTick`.
 */
export const scheduleInput = (
  spec: ScheduleSpec,
  scheduledTime: string = SCHEDULED_TIME,
): Record<string, unknown> => ({ ...spec.extraInput, schedule: spec.name, scheduledTime });

/**
 * The configured snapshot schedules as topology schedules: each invokes plan-snapshots with its
 * selector (and a `cycle` schedule's action) in the input, so the function needs no config at run
 * time. `local` picks each
 * schedule's `localExpression` where it has one (the local runtime); AWS gets `expression`.
 */
export function snapshotSchedules(
  schedules: readonly ScheduleConfig[],
  where: "aws" | "local",
): ScheduleSpec[] {
  return schedules.map((schedule) => ({
    name: schedule.name,
    description:
      schedule.description ?? `Snapshots of the simulations selected by ${schedule.name}`,
    expression:
      where === "local" ? (schedule.localExpression ?? schedule.expression) : schedule.expression,
    timeZone: schedule.timeZone,
    target: SNAPSHOT_SCHEDULE_TARGET,
    // Only a cycle says so: a snapshot schedule's input stays what it always was.
    extraInput: {
      selector: schedule.selector,
      ...(schedule.action === "cycle" ? { action: schedule.action } : {}),
    },
    enabled: schedule.enabled,
  }));
}

/**
 * Every schedule of a deployment: simsnap's own (`topology.schedules`) and the configured
 * snapshot schedules. A configured name equal to one of simsnap's own is refused, since both
 * would answer to the same name.
 */
export function schedulesFor(
  config: {
    schedules: readonly ScheduleConfig[];
    verification?: VerificationConfig;
    providers?: { files?: unknown };
  },
  where: "aws" | "local",
): ScheduleSpec[] {
  const own = new Set([
    ...schedules.map((s) => s.name.toLowerCase()),
    VERIFICATION_SCHEDULE,
    FILES_SCAN_SCHEDULE.name,
  ]);
  const clash = config.schedules.find((s) => own.has(s.name.toLowerCase()));
  if (clash) {
    throw new ValidationError(`Schedule name ${clash.name} is reserved by simsnap`, [
      { path: "schedules.name", message: `must not be ${clash.name}, a schedule of simsnap's own` },
    ]);
  }
  const ownSchedules =
    where === "local"
      ? schedules.map(({ localExpression, ...spec }) => ({
          ...spec,
          expression: localExpression ?? spec.expression,
        }))
      : schedules;
  return [
    ...ownSchedules,
    ...snapshotSchedules(config.schedules, where),
    ...verificationSchedules(config.verification, where),
    ...(config.providers?.files === undefined
      ? []
      : [
          {
            ...FILES_SCAN_SCHEDULE,
            expression:
              where === "local"
                ? FILES_SCAN_SCHEDULE.localExpression
                : FILES_SCAN_SCHEDULE.expression,
          },
        ]),
  ];
}

/**
 * The scan of the files sources, deployed only with `providers.files` (see `schedulesFor`): S3
 * events are best effort (EventBridge notifications may be off, an event may be lost), so every
 * source is listed every five minutes, and what events missed is cataloged then.
 */
export const FILES_SCAN_SCHEDULE = {
  name: "discover-files",
  description: "Lists the files sources and makes the catalog agree with the checkpoints there",
  expression: "rate(5 minutes)",
  // The demo trainer writes a checkpoint every few seconds.
  localExpression: "rate(5 seconds)",
  timeZone: "UTC",
  target: "discover-files",
  handler: "scanHandler",
} as const satisfies ScheduleSpec;

/** The name of the restore-test schedule (config `verification`), reserved like simsnap's own. */
export const VERIFICATION_SCHEDULE = "verify-checkpoints";

/**
 * The configured restore tests as a topology schedule (none without a `verification` section):
 * it invokes plan-verifications with the selection and the cost guard in its input, so the
 * function needs no config at run time.
 */
export function verificationSchedules(
  verification: VerificationConfig | undefined,
  where: "aws" | "local",
): ScheduleSpec[] {
  if (!verification) return [];
  return [
    {
      name: VERIFICATION_SCHEDULE,
      description: "Restores chosen checkpoints into throwaway simulations to prove they restore",
      expression:
        where === "local"
          ? (verification.localExpression ?? verification.expression)
          : verification.expression,
      timeZone: verification.timeZone,
      target: "plan-verifications",
      extraInput: {
        selector: verification.selector,
        checkpoints: verification.checkpoints,
        maxConcurrent: verification.maxConcurrent,
        maximumDuration: verification.maximumDuration,
      },
      enabled: verification.enabled,
    },
  ];
}

/**
 * How long after a step was due the sweeper waits before it takes the step's message for lost:
 * the queue's visibility timeout (a delivery that failed or crashed is delivered again after it)
 * plus its consumer's timeout (a delivery in flight has ended by then). Earlier, a re-sent step
 * would only duplicate work still under way.
 */
export function stepGraceSeconds(queue: QueueName): number {
  const spec: QueueSpec = queues[queue];
  return spec.visibilityTimeoutSeconds + functions[spec.consumer].timeoutSeconds;
}

/** Environment variable holding a queue's URL, e.g. `SIMSNAP_QUEUE_STATUS_CHECKS_URL`. */
export const queueUrlEnv = (queue: QueueName): string =>
  `SIMSNAP_QUEUE_${queue.toUpperCase().replace(/-/g, "_")}_URL`;
