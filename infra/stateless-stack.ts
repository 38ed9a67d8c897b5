import { Aws, Duration, Fn, Stack, Validations, type StackProps } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, type EventPattern, type IEventBus } from "aws-cdk-lib/aws-events";
import { SqsQueue } from "aws-cdk-lib/aws-events-targets";
import { Policy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { CfnSchedule } from "aws-cdk-lib/aws-scheduler";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { normalizePrefix, ownedPrefixes, snapshotFolder } from "../lib/domain/snapshot-key.ts";
import type { RetentionConfigInput } from "../lib/domain/retention.ts";
import {
  PRUNE_DEBOUNCE_SECONDS,
  SCHEDULE_RETRY,
  scheduleInput,
  topology,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
} from "../lib/topology.ts";
import { bindEventBus, bindQueue, bindTable } from "./bindings.ts";
import { SimsnapHttpApi } from "./http-api.ts";
import { SimsnapObservability } from "./observability.ts";
import { SimsnapFunction } from "./simsnap-function.ts";
import { constructId, mapNames, names } from "./names.ts";

/** The stateful resources the functions work on, and where in the bucket snapshots go. */
export interface StatelessStackProps extends StackProps {
  snapshotBucket: IBucket;
  /** Export name of the snapshot bucket's ARN (see `StatefulStack.snapshotBucketArnExport`). */
  snapshotBucketArnExport: string;
  catalogTable: ITable;
  eventBus: IEventBus;
  snapshotPrefix: string;
  /**
   * Further prefixes simsnap manages as its own (config `destination.adoptPrefixes`): their
   * snapshot files are routed to it and may be deleted by it. None when absent.
   */
  adoptedPrefixes?: readonly string[];
  /** Retention settings for the prune function; the functions' documented default when absent. */
  retention?: RetentionConfigInput;
  /**
   * The schedules to deploy: `schedulesFor(config, "aws")`, simsnap's own plus the config file's
   * snapshot schedules; simsnap's own alone when absent.
   */
  schedules?: ScheduleSpec[];
  archiveBucket: IBucket;
  /** Export name of the archive bucket's ARN (see `StatefulStack.archiveBucketArnExport`). */
  archiveBucketArnExport: string;
  /** Storage class of archive copies (config `archive.storageClass`); the functions' default if absent. */
  archiveStorageClass?: string;
  /** Role restored simulations run with; restores fail with a clear error without it. */
  simulationRoleArn?: string;
  /** Archive retention (config `archive.retention`) for prune-archives; archives kept if absent. */
  archiveRetention?: RetentionConfigInput;
  /** Subscribed by email to the alarm topic (context `alarmEmail`); no subscription if absent. */
  alarmEmail?: string;
}

/** SimSpace Weaver actions each function calls; anything not listed here is denied. */
const simulationActions: Record<FunctionName, string[]> = {
  "plan-snapshots": [
    "simspaceweaver:ListSimulations",
    "simspaceweaver:DescribeSimulation",
    "simspaceweaver:ListTagsForResource",
  ],
  "request-stop": ["simspaceweaver:DescribeSimulation", "simspaceweaver:StopSimulation"],
  "finish-stop": ["simspaceweaver:DescribeSimulation", "simspaceweaver:StopSimulation"],
  "observe-shutdown": [],
  "take-snapshot": ["simspaceweaver:CreateSnapshot", "simspaceweaver:DescribeSimulation"],
  "check-snapshot": ["simspaceweaver:DescribeSimulation"],
  "complete-snapshot": [],
  prune: [],
  api: [
    "simspaceweaver:ListSimulations",
    "simspaceweaver:DescribeSimulation",
    "simspaceweaver:StopSimulation",
  ],
  "archive-checkpoint": [],
  "restore-checkpoint": ["simspaceweaver:StartSimulation", "simspaceweaver:DescribeSimulation"],
  "prune-archives": [],
  // Re-sent steps are carried out by their own functions: the sweeper calls no provider.
  "sweep-jobs": [],
};

/**
 * What each function does with archive copies: copy them in (server-side, so reading the source
 * is `s3:GetObject` on the snapshot bucket), read and thaw them for restores, delete them by
 * retention. Every one may list the bucket, so that HEAD on a missing key is a 404, not a 403.
 */
const archiveActions: Partial<Record<FunctionName, string[]>> = {
  "archive-checkpoint": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
  "restore-checkpoint": ["s3:GetObject", "s3:RestoreObject"],
  "prune-archives": ["s3:DeleteObject"],
};

/** Functions that look at snapshot files themselves (HeadObject, ListObjectsV2). */
const readsSnapshotFiles: readonly FunctionName[] = [
  "complete-snapshot",
  "check-snapshot",
  "archive-checkpoint",
  "restore-checkpoint",
  // POST /checkpoints/{id}/restore checks that the file to restore from is still there.
  "api",
];

/**
 * Functions that list every job (the API's `GET /jobs` without a simulation): jobs have no
 * registry of their own, so this one listing scans; no other function may.
 */
const scansJobs: readonly FunctionName[] = ["api"];

/** Functions that list the open jobs of every simulation: the sparse `openJobs` index, no more. */
const scansOpenJobs: readonly FunctionName[] = ["sweep-jobs"];

/** Functions that delete single snapshot files on a person's request (`DELETE /checkpoints/{id}`). */
const deletesSnapshotFiles: readonly FunctionName[] = ["api"];

/**
 * Everything that can be replaced without losing data (functions, queues, rules, schedules),
 * generated from `lib/topology.ts` alone: this stack declares no trigger of its own, so the AWS
 * wiring and the local runtime's cannot drift apart.
 */
export class StatelessStack extends Stack {
  readonly functions: Record<FunctionName, SimsnapFunction>;
  readonly queues: Record<QueueName, Queue>;
  /** The schedules this stack deployed, one `AWS::Scheduler::Schedule` each. */
  readonly schedules: readonly ScheduleSpec[];
  readonly httpApi: SimsnapHttpApi;
  /** Alarms on dead letters, failed jobs, stale checkpoints and function errors; the dashboard. */
  readonly observability: SimsnapObservability;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const adopted = props.adoptedPrefixes ?? [];
    const owned = ownedPrefixes(props.snapshotPrefix, adopted);
    const environment = {
      SIMSNAP_SNAPSHOT_BUCKET: props.snapshotBucket.bucketName,
      SIMSNAP_SNAPSHOT_PREFIX: props.snapshotPrefix,
      ...(adopted.length > 0 ? { SIMSNAP_ADOPTED_PREFIXES: adopted.join(",") } : {}),
      SIMSNAP_ARCHIVE_BUCKET: props.archiveBucket.bucketName,
      ...(props.archiveStorageClass
        ? { SIMSNAP_ARCHIVE_STORAGE_CLASS: props.archiveStorageClass }
        : {}),
      ...(props.simulationRoleArn ? { SIMSNAP_SIMULATION_ROLE_ARN: props.simulationRoleArn } : {}),
    };

    this.functions = mapNames(topology.functions, (name) => {
      const fn = new SimsnapFunction(this, constructId(name), { name, environment });
      bindTable(fn, props.catalogTable, {
        scan: scansJobs.includes(name),
        scanOpenJobs: scansOpenJobs.includes(name),
      });
      bindEventBus(fn, props.eventBus);
      grantSimulations(fn, name);
      if (readsSnapshotFiles.includes(name)) {
        grantSnapshotRead(fn, props.snapshotBucketArnExport, owned);
      }
      const archive = archiveActions[name];
      if (archive) grantArchive(fn, archive, props.archiveBucketArnExport);
      if (name === "restore-checkpoint") grantRestore(fn, props);
      if (name === "prune-archives" && props.archiveRetention) {
        fn.function.addEnvironment(
          "SIMSNAP_ARCHIVE_RETENTION",
          JSON.stringify(props.archiveRetention),
        );
      }
      if (deletesSnapshotFiles.includes(name)) {
        grantSnapshotDelete(fn, props.snapshotBucketArnExport, owned);
      }
      if (name === "prune") {
        grantSnapshotPrune(fn, props.snapshotBucketArnExport, props.snapshotPrefix, owned);
        fn.function.addEnvironment(
          "SIMSNAP_PRUNE_DEBOUNCE_SECONDS",
          String(PRUNE_DEBOUNCE_SECONDS),
        );
        if (props.retention)
          fn.function.addEnvironment("SIMSNAP_RETENTION", JSON.stringify(props.retention));
      }
      // The API's dry run (POST /prune) plans with the very policy the prune function applies.
      if (name === topology.httpApi.target && props.retention) {
        fn.function.addEnvironment("SIMSNAP_RETENTION", JSON.stringify(props.retention));
      }
      return fn;
    });

    this.queues = mapNames(topology.queues, (name, spec) => {
      const id = constructId(name);
      const deadLetters = new Queue(this, `${id}DeadLetters`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new Queue(this, `${id}Queue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: spec.maxReceiveCount },
        deliveryDelay:
          "deliveryDelaySeconds" in spec ? Duration.seconds(spec.deliveryDelaySeconds) : undefined,
      });
      this.functions[spec.consumer].function.addEventSource(
        new SqsEventSource(queue, {
          batchSize: spec.batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: "maxConcurrency" in spec ? spec.maxConcurrency : undefined,
        }),
      );
      return queue;
    });

    for (const name of names(topology.functions)) {
      const fn = this.functions[name];
      for (const queueName of topology.functions[name].sendsTo) {
        bindQueue(fn, queueName, this.queues[queueName]);
      }
    }

    this.httpApi = new SimsnapHttpApi(this, "HttpApi", {
      handler: this.functions[topology.httpApi.target],
      description: topology.httpApi.description,
    });

    const topologyNames = {
      snapshotBucket: props.snapshotBucket.bucketName,
      snapshotPrefixes: owned,
    };
    for (const spec of topology.rules) {
      new Rule(this, `${constructId(spec.name)}Rule`, {
        description: spec.description,
        eventBus: spec.bus === "simsnap" ? props.eventBus : undefined,
        // Topology patterns are EventBridge's own JSON; CDK passes unknown keys such as
        // `detail-type` through unchanged.
        eventPattern: spec.pattern(topologyNames) as EventPattern,
        targets: [new SqsQueue(this.queues[spec.targetQueue])],
      });
    }

    this.schedules = props.schedules ?? topology.schedules;
    for (const spec of this.schedules) {
      const id = constructId(spec.name);
      const target = this.functions[spec.target].function;
      // A role of our own and the L1 schedule: the L2 Lambda target's grantInvoke would also
      // allow every version and alias of the function (`<arn>:*`).
      const role = new Role(this, `${id}ScheduleRole`, {
        assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
          conditions: { StringEquals: { "aws:SourceAccount": this.account } },
        }),
        description: `Lets the ${spec.name} schedule invoke ${spec.target}, nothing else`,
      });
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ["lambda:InvokeFunction"],
          resources: [target.functionArn],
        }),
      );
      new CfnSchedule(this, `${id}Schedule`, {
        description: spec.description,
        scheduleExpression: spec.expression,
        scheduleExpressionTimezone: spec.timeZone,
        flexibleTimeWindow: { mode: "OFF" },
        state: spec.enabled === false ? "DISABLED" : "ENABLED",
        target: {
          arn: target.functionArn,
          roleArn: role.roleArn,
          input: JSON.stringify(scheduleInput(spec)),
          retryPolicy: SCHEDULE_RETRY.delivery,
        },
      });
    }
    // A target that throws is retried by Lambda's asynchronous invocation, as the local scheduler
    // mirrors; set explicitly, once per function, so both read SCHEDULE_RETRY.
    for (const name of new Set(this.schedules.map((s) => s.target))) {
      this.functions[name].function.configureAsyncInvoke({
        retryAttempts: SCHEDULE_RETRY.invocation.retryAttempts,
        maxEventAge: Duration.seconds(SCHEDULE_RETRY.invocation.maxEventAgeSeconds),
      });
    }

    this.observability = new SimsnapObservability(this, "Observability", {
      functions: this.functions,
      queues: this.queues,
      schedules: this.schedules,
      alarmEmail: props.alarmEmail,
    });
  }
}

/**
 * `s3:DeleteObject` on the snapshot folders of the owned prefixes only (`<prefix>/snapshot/*`):
 * simsnap deletes nothing but snapshot files it owns, and IAM holds that line even if a catalog
 * record (from an older version that cataloged any prefix) names another tool's file.
 */
function grantOwnedSnapshotDelete(
  fn: SimsnapFunction,
  bucketArnExport: string,
  owned: readonly string[],
  reason: string,
): void {
  const bucketArn = Fn.importValue(bucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:DeleteObject"],
      resources: owned.map((prefix) => `${bucketArn}/${snapshotFolder(prefix)}*`),
    }),
  );
  for (const prefix of owned) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArnExport}/${snapshotFolder(prefix)}*]`,
      reason,
    });
  }
}

/** Deleting a snapshot file a person chose (`DELETE /checkpoints/{id}`). */
function grantSnapshotDelete(
  fn: SimsnapFunction,
  bucketArnExport: string,
  owned: readonly string[],
): void {
  grantOwnedSnapshotDelete(
    fn,
    bucketArnExport,
    owned,
    "DELETE /checkpoints/{id} removes the checkpoint's snapshot file, whose key is only known " +
      "from the catalog at run time; limited to the snapshot folders of the owned prefixes.",
  );
}

function grantSimulations(fn: SimsnapFunction, name: FunctionName): void {
  const actions = simulationActions[name];
  const scoped = actions.filter((action) => action !== "simspaceweaver:ListSimulations");
  if (scoped.length > 0) {
    // Pseudo parameters even when the stack has a region, so the acknowledgment below matches.
    const simulations = `arn:${Aws.PARTITION}:simspaceweaver:${Aws.REGION}:${Aws.ACCOUNT_ID}:simulation/*`;
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: scoped, resources: [simulations] }),
    );
    Validations.of(fn.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:simspaceweaver:<AWS::Region>:<AWS::AccountId>:simulation/*]",
      reason:
        "Simulations are started outside simsnap and found at run time (schedule selectors), " +
        "so their names are not known at deploy time; the statement is limited to this " +
        "account's simulations in this region.",
    });
  }
  if (actions.includes("simspaceweaver:ListSimulations")) {
    // A policy of its own, so that its acknowledgment cannot hide another `Resource *`.
    const listing = new Policy(fn, "ListSimulations", {
      statements: [
        new PolicyStatement({ actions: ["simspaceweaver:ListSimulations"], resources: ["*"] }),
      ],
    });
    fn.role.attachInlinePolicy(listing);
    Validations.of(listing).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "simspaceweaver:ListSimulations supports no resource-level permissions.",
    });
  }
}

/**
 * Read access under the owned prefixes (`<prefix>/*`: snapshot files, restored copies, reports);
 * the rule routes only files in their snapshot folders, and nothing else is ever read. Listing
 * is on the bucket, so that HEAD on a missing key is a 404, not a 403.
 */
function grantSnapshotRead(
  fn: SimsnapFunction,
  bucketArnExport: string,
  owned: readonly string[],
): void {
  const bucketArn = Fn.importValue(bucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucketArn] }),
  );
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:GetObject"],
      resources: owned.map((prefix) => `${bucketArn}/${ownedFolder(prefix)}*`),
    }),
  );
  for (const prefix of owned) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArnExport}/${ownedFolder(prefix)}*]`,
      reason:
        "HeadObject on snapshot files, whose keys are only known from events and listings at " +
        "run time; limited to the prefixes simsnap owns.",
    });
  }
}

/** `<prefix>/`, or nothing for the bucket's root. */
const ownedFolder = (prefix: string): string => {
  const clean = normalizePrefix(prefix);
  return clean === "" ? "" : `${clean}/`;
};

/**
 * Deleting snapshot files of the owned prefixes (retention) and writing plan reports under the
 * destination prefix's `reports/` folder.
 */
function grantSnapshotPrune(
  fn: SimsnapFunction,
  bucketArnExport: string,
  prefix: string,
  owned: readonly string[],
): void {
  const bucketArn = Fn.importValue(bucketArnExport);
  grantOwnedSnapshotDelete(
    fn,
    bucketArnExport,
    owned,
    "Retention deletes snapshot files named in the catalog at run time; limited to the " +
      "snapshot folders of the owned prefixes.",
  );
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:PutObject"],
      resources: [`${bucketArn}/${normalizePrefix(prefix)}/reports/*`],
    }),
  );
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${bucketArnExport}/${normalizePrefix(prefix)}/reports/*]`,
    reason: "Plan reports are written under one key per run, named at run time.",
  });
}

/** Access to archive copies anywhere in the archive bucket (`<simulation>/<yyyy>/<mm>/…`). */
function grantArchive(fn: SimsnapFunction, actions: string[], bucketArnExport: string): void {
  const bucketArn = Fn.importValue(bucketArnExport);
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucketArn] }),
  );
  fn.role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [`${bucketArn}/*`] }));
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${bucketArnExport}/*]`,
    reason:
      "Archive keys are <simulation>/<yyyy>/<mm>/<file>, one per checkpoint, known only at run " +
      "time; the bucket holds nothing but archive copies and their manifests.",
  });
}

/**
 * A restore copies an archived file back under `<prefix>/restore/`, where the simulation reads
 * it, and starts the simulation with the simulation role, which it must be allowed to pass.
 */
function grantRestore(fn: SimsnapFunction, props: StatelessStackProps): void {
  const bucketArn = Fn.importValue(props.snapshotBucketArnExport);
  const restored = `${normalizePrefix(props.snapshotPrefix)}/restore/*`;
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
      resources: [`${bucketArn}/${restored}`],
    }),
  );
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${props.snapshotBucketArnExport}/${restored}]`,
    reason: "One copied-back file per restored checkpoint, under a key named at run time.",
  });
  if (props.simulationRoleArn) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [props.simulationRoleArn],
        conditions: { StringEquals: { "iam:PassedToService": "simspaceweaver.amazonaws.com" } },
      }),
    );
  }
}
