/**
 * The one description of what triggers what. The CDK stack (`infra/`) turns it into Lambda
 * functions, SQS queues with dead-letter queues, EventBridge rules and Scheduler schedules; the
 * local runtime (`lib/local/`) wires the same functions to its embedded queues, bus and
 * scheduler. Neither side declares a trigger of its own, so they cannot drift apart.
 */

/** The functions, by name. */
export type FunctionName =
  "plan-snapshots" | "take-snapshot" | "complete-snapshot" | "check-snapshot" | "prune";

/** The queues, by name. */
export type QueueName = "snapshot-requests" | "snapshot-files" | "status-checks" | "prune-requests";

/** A Lambda function: its entry file under `functions/` and its sizing. */
export interface FunctionSpec {
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Queues this function sends to (grants and `SIMSNAP_QUEUE_*_URL` environment). */
  sendsTo: QueueName[];
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
}

/** Placeholders resolved by each side: real names in AWS, local names in the embedded runtime. */
export interface TopologyNames {
  snapshotBucket: string;
}

/** An EventBridge rule on a bus, sending matched events to a queue. */
export interface RuleSpec {
  name: string;
  description: string;
  bus: "default" | "simsnap";
  pattern: (names: TopologyNames) => Record<string, unknown>;
  targetQueue: QueueName;
}

/** A schedule that invokes a function with a fixed input. */
export interface ScheduleSpec {
  name: string;
  description: string;
  /** EventBridge Scheduler expression: `cron(…)`, `rate(…)` or `at(…)`. */
  expression: string;
  timeZone: string;
  target: FunctionName;
  /** Fields added to the schedule's input beside `schedule` and `scheduledTime`. */
  extraInput?: Record<string, string>;
}

/** Completions of a simulation within this window trigger one prune, this long after the window. */
export const PRUNE_DEBOUNCE_SECONDS = 60;

const functions = {
  "plan-snapshots": {
    entry: "functions/plan-snapshots.ts",
    description: "Schedule tick: one snapshot request per running simulation",
    timeoutSeconds: 60,
    memoryMb: 256,
    sendsTo: ["snapshot-requests"],
  },
  "take-snapshot": {
    entry: "functions/take-snapshot.ts",
    description: "Records a PENDING checkpoint and a RUNNING job, then calls CreateSnapshot",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: ["snapshot-requests", "status-checks"],
  },
  "complete-snapshot": {
    entry: "functions/complete-snapshot.ts",
    description: "Completes the matching job when a snapshot file appears in S3",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: [],
  },
  "check-snapshot": {
    entry: "functions/check-snapshot.ts",
    description: "Delayed status check: completes a job whose S3 event was missed, or fails it",
    timeoutSeconds: 30,
    memoryMb: 256,
    sendsTo: ["status-checks"],
  },
  prune: {
    entry: "functions/prune.ts",
    description: "Applies the retention policy: daily, and after snapshots complete (debounced)",
    timeoutSeconds: 300,
    memoryMb: 512,
    sendsTo: [],
  },
} as const satisfies Record<FunctionName, FunctionSpec>;

const queues = {
  "snapshot-requests": {
    consumer: "take-snapshot",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 12,
    batchSize: 10,
  },
  "snapshot-files": {
    consumer: "complete-snapshot",
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
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
} as const satisfies Record<QueueName, QueueSpec>;

const rules: RuleSpec[] = [
  {
    name: "snapshot-file-created",
    description: "A snapshot file was written to the snapshot bucket",
    bus: "default",
    pattern: (names) => ({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: {
        bucket: { name: [names.snapshotBucket] },
        object: { key: [{ suffix: ".zip" }] },
      },
    }),
    targetQueue: "snapshot-files",
  },
  {
    name: "prune-after-completion",
    description: "A checkpoint completed: prune its simulation once the debounce delay has passed",
    bus: "simsnap",
    pattern: () => ({ source: ["simsnap"], "detail-type": ["Checkpoint Completed"] }),
    targetQueue: "prune-requests",
  },
];

const schedules: ScheduleSpec[] = [
  {
    name: "snapshot-hourly",
    description: "Snapshots every running simulation once an hour",
    expression: "rate(1 hour)",
    timeZone: "UTC",
    target: "plan-snapshots",
  },
  {
    name: "prune-daily",
    description: "Applies the retention policy to every simulation in the catalog once a day",
    expression: "cron(0 3 * * ? *)",
    timeZone: "UTC",
    target: "prune",
    extraInput: { source: "schedule" },
  },
];

/** The whole wiring, read by `infra/` and `lib/local/`. */
export const topology = { functions, queues, rules, schedules } as const;

/** Environment variable holding a queue's URL, e.g. `SIMSNAP_QUEUE_STATUS_CHECKS_URL`. */
export const queueUrlEnv = (queue: QueueName): string =>
  `SIMSNAP_QUEUE_${queue.toUpperCase().replace(/-/g, "_")}_URL`;
