import { Aws, Duration, Fn, Stack, type StackProps } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, type EventPattern, type IEventBus } from "aws-cdk-lib/aws-events";
import { SqsQueue } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { CfnSchedule } from "aws-cdk-lib/aws-scheduler";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { FileSourceConfig } from "../lib/domain/file-source.ts";
import { freshnessWatches } from "../lib/domain/freshness.ts";
import { ownedPrefixes } from "../lib/domain/snapshot-key.ts";
import type { RetentionConfigInput } from "../lib/domain/retention.ts";
import {
  PRUNE_DEBOUNCE_SECONDS,
  SCHEDULE_RETRY,
  scheduleInput,
  SNAPSHOT_SCHEDULE_TARGET,
  topology,
  type FunctionName,
  type QueueName,
  type QueueSpec,
  type ScheduleSpec,
  type TopologyNames,
} from "../lib/topology.ts";
import { environmentFor, type DeploymentValues } from "../lib/settings.ts";
import { grantNeeds, type GrantableResources } from "./grants.ts";
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
  /** Days a deleted snapshot file stays in the trash (config `destination.trashDays`); 7 if absent. */
  trashDays?: number;
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
  /**
   * NVIDIA Air (config `providers.air`): its endpoint, and its token's secret (asked for as
   * `tokenSecret`, granted to the functions that declare Air operations by `policyArn`). No Air
   * when absent.
   */
  air?: { endpoint: string; tokenSecret: string; policyArn: string };
  /**
   * Checkpoint files other tools write (config `providers.files`): their bucket (the snapshot
   * bucket when absent) and sources. No files functions, rules or grants when absent.
   */
  files?: { bucket?: string; sources: readonly FileSourceConfig[] };
  /**
   * The restore tests' user check in AWS (config `verification.check.lambdaArn`), invoked by
   * verify-checkpoint alone. No user check when absent.
   */
  verificationCheck?: { lambdaArn: string; timeoutSeconds: number };
  /**
   * False when the config turns SimSpace Weaver off (`simSpaceWeaverEnabled`): no function gets
   * its grants or iam:PassRole, every one is told so (`SIMSNAP_SIMSPACEWEAVER_ENABLED`), and its
   * CloudTrail rule is not deployed. On when absent.
   */
  simSpaceWeaver?: boolean;
}

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

    this.queues = mapNames(topology.queues, (name, spec) => {
      const id = constructId(name);
      const deadLetters = new Queue(this, `${id}DeadLetters`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      return new Queue(this, `${id}Queue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: spec.maxReceiveCount },
        deliveryDelay:
          "deliveryDelaySeconds" in spec ? Duration.seconds(spec.deliveryDelaySeconds) : undefined,
      });
    });

    // Each function's environment and grants come from its declaration in lib/topology.ts alone.
    const deployment: DeploymentValues = {
      table: props.catalogTable.tableName,
      snapshotBucket: props.snapshotBucket.bucketName,
      snapshotPrefix: props.snapshotPrefix,
      adoptedPrefixes: adopted,
      trashDays: props.trashDays,
      eventBus: props.eventBus.eventBusName,
      queueUrls: mapNames(this.queues, (_name, queue) => queue.queueUrl),
      pruneDebounceSeconds: PRUNE_DEBOUNCE_SECONDS,
      archiveBucket: props.archiveBucket.bucketName,
      archiveStorageClass: props.archiveStorageClass,
      simulationRoleArn: props.simulationRoleArn,
      retention: props.retention,
      freshnessWatches: freshnessWatches(
        props.schedules ?? topology.schedules,
        SNAPSHOT_SCHEDULE_TARGET,
      ),
      archiveRetention: props.archiveRetention,
      air: props.air && { endpoint: props.air.endpoint, tokenSecret: props.air.tokenSecret },
      files: props.files && {
        bucket: props.files.bucket ?? props.snapshotBucket.bucketName,
        sources: props.files.sources,
      },
      verificationCheck: props.verificationCheck,
      simSpaceWeaver: props.simSpaceWeaver,
    };
    const resources: GrantableResources = {
      table: props.catalogTable,
      eventBus: props.eventBus,
      queues: this.queues,
      snapshotBucketArnExport: props.snapshotBucketArnExport,
      snapshotPrefix: props.snapshotPrefix,
      ownedPrefixes: owned,
      archiveBucketArnExport: props.archiveBucketArnExport,
      simulationRoleArn: props.simulationRoleArn,
      simSpaceWeaver: props.simSpaceWeaver,
      airTokenSecretArn: props.air?.policyArn,
      userCheckFunctionArn: props.verificationCheck?.lambdaArn,
      files: props.files && {
        ...(props.files.bucket === undefined
          ? {
              bucketArn: Fn.importValue(props.snapshotBucketArnExport),
              nagName: props.snapshotBucketArnExport,
            }
          : {
              bucketArn: `arn:${Aws.PARTITION}:s3:::${props.files.bucket}`,
              nagName: `arn:<AWS::Partition>:s3:::${props.files.bucket}`,
            }),
        prefixes: props.files.sources.map((source) => source.prefix),
      },
    };
    this.functions = mapNames(topology.functions, (name) => {
      const environment = environmentFor(name, deployment);
      const fn = new SimsnapFunction(this, constructId(name), { name, environment });
      grantNeeds(fn, name, resources);
      return fn;
    });

    for (const name of names(topology.queues)) {
      const spec: QueueSpec = topology.queues[name];
      this.functions[spec.consumer].function.addEventSource(
        new SqsEventSource(this.queues[name], {
          batchSize: spec.batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: spec.maxConcurrency,
        }),
      );
    }

    this.httpApi = new SimsnapHttpApi(this, "HttpApi", {
      handler: this.functions[topology.httpApi.target],
      description: topology.httpApi.description,
    });

    const topologyNames: TopologyNames = {
      snapshotBucket: props.snapshotBucket.bucketName,
      snapshotPrefixes: owned,
      files: props.files && {
        bucket: props.files.bucket ?? props.snapshotBucket.bucketName,
        prefixes: props.files.sources.map((source) => source.prefix),
      },
      simSpaceWeaver: props.simSpaceWeaver,
    };
    for (const spec of topology.rules) {
      const pattern = spec.pattern(topologyNames);
      // A rule about what this deployment does not configure (files sources) is not deployed.
      if (pattern === undefined) continue;
      new Rule(this, `${constructId(spec.name)}Rule`, {
        description: spec.description,
        eventBus: spec.bus === "simsnap" ? props.eventBus : undefined,
        // Topology patterns are EventBridge's own JSON; CDK passes unknown keys such as
        // `detail-type` through unchanged.
        eventPattern: pattern as EventPattern,
        targets: [new SqsQueue(this.queues[spec.targetQueue])],
      });
    }

    this.schedules = props.schedules ?? topology.schedules;
    for (const spec of this.schedules) {
      const id = constructId(spec.name);
      const target = this.functions[spec.target].entryPoint(spec.handler);
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
    const targets = this.schedules.map((s) => this.functions[s.target].entryPoint(s.handler));
    for (const target of new Set(targets)) {
      target.configureAsyncInvoke({
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
