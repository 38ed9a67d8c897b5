import { Aws, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  type Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
  TreatMissingData,
  type IWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Key } from "aws-cdk-lib/aws-kms";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { longestScheduleInterval } from "../lib/domain/schedule-period.ts";
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  SCHEDULE_DIMENSION,
  type SimsnapMetricName,
} from "../lib/observability/metric-names.ts";
import {
  DEFAULT_HANDLER,
  SNAPSHOT_SCHEDULE_TARGET,
  topology,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
} from "../lib/topology.ts";
import type { SimsnapFunction } from "./simsnap-function.ts";
import { constructId, mapNames, names } from "./names.ts";

/** What is watched, and who hears about it. */
export interface SimsnapObservabilityProps {
  functions: Record<FunctionName, SimsnapFunction>;
  queues: Record<QueueName, Queue>;
  /** The deployed schedules; each enabled, periodic snapshot schedule gets a staleness alarm. */
  schedules: readonly ScheduleSpec[];
  /** Subscribed to the alarm topic by email (AWS asks the address to confirm first). */
  alarmEmail?: string;
}

/**
 * How alarms and graphs name a Lambda function: its topology name, with the export it runs when
 * that is not `handler` (`prune-dailyHandler`: prune's daily schedule entry).
 */
const entryPointLabel = (name: FunctionName, exportName: string): string =>
  exportName === DEFAULT_HANDLER ? name : `${name}-${exportName}`;

/** Every Lambda function of every topology function, labelled by `entryPointLabel`. */
const entryPoints = (functions: Record<FunctionName, SimsnapFunction>): [string, IFunction][] =>
  names(functions).flatMap((name) =>
    [...functions[name].entryPoints].map(([exportName, fn]): [string, IFunction] => [
      entryPointLabel(name, exportName),
      fn,
    ]),
  );

/** Alarms that look at five-minute sums and maxima: soon enough, and one email per episode. */
const ALARM_PERIOD = Duration.minutes(5);
/**
 * Longest staleness alarm period. CloudWatch lets an alarm look back seven days at most, too short
 * for a monthly schedule; as periods without a tick are ignored, a day loses nothing.
 */
const MAX_ALARM_PERIOD_SECONDS = 86_400;

/** One of simsnap's own metrics, with the `service` dimension Powertools puts on all of them. */
function simsnapMetric(
  name: SimsnapMetricName,
  statistic: "Sum" | "Maximum" | "Average",
  period: Duration,
  dimensions: Record<string, string> = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic,
    period,
  });
}

/**
 * A schedule's staleness alarm period: its longest interval, in whole minutes, at most a day. With
 * one data point per tick and missing periods ignored, each tick's figure decides the state.
 */
function stalenessPeriod(intervalMs: number): Duration {
  const minutes = Math.ceil(intervalMs / 60_000);
  return Duration.seconds(Math.min(minutes * 60, MAX_ALARM_PERIOD_SECONDS));
}

/** The snapshot schedules a staleness alarm can watch, with their longest interval. */
function watchedSchedules(schedules: readonly ScheduleSpec[]) {
  return schedules.flatMap((spec) => {
    if (spec.target !== SNAPSHOT_SCHEDULE_TARGET || spec.enabled === false) return [];
    const intervalMs = longestScheduleInterval(spec.expression, spec.timeZone);
    return intervalMs === undefined ? [] : [{ spec, intervalMs }];
  });
}

/**
 * What tells an operator that simsnap needs them, and where to look: an alarm on every dead-letter
 * queue (a message there is work simsnap gave up on), on failed jobs (snapshot, stop, prune,
 * restore), on errors of the functions nothing retries into a dead-letter queue (schedule and
 * HTTP API targets), and per snapshot schedule on a simulation with no completed checkpoint for
 * longer than twice the schedule's period; all of them notify one SNS topic, encrypted with a key
 * of its own (CloudWatch cannot publish to a topic under the AWS managed SNS key) and refusing
 * plain HTTP. One dashboard shows the same figures.
 *
 * Staleness is measured, not inferred: at every tick plan-snapshots publishes, per schedule, the
 * age of the stalest selected simulation's newest completed checkpoint (`CheckpointAge`), and the
 * alarm fires above twice the schedule's longest interval. Counting `SnapshotsCompleted` over two
 * periods instead would stay quiet while one simulation of several stopped completing, alarms
 * cannot be declared per simulation (they are found at run time), and a Metrics Insights query
 * grouped by simulation only sees the last three hours, too short for a daily schedule.
 */
export class SimsnapObservability extends Construct {
  readonly topic: Topic;
  readonly deadLetterAlarms: Record<QueueName, Alarm>;
  readonly failedJobsAlarm: Alarm;
  /** A restore test FAILED: a checkpoint did not restore (or its user check said it was wrong). */
  readonly failedVerificationsAlarm: Alarm;
  /** By schedule name: enabled snapshot schedules with a period (not one-time `at(…)`). */
  readonly staleCheckpointAlarms: Record<string, Alarm>;
  /**
   * Lambda functions invoked directly (schedules, the HTTP API), whose failures reach no queue,
   * by `entryPointLabel`.
   */
  readonly functionErrorAlarms: Record<string, Alarm>;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SimsnapObservabilityProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    const key = new Key(this, "AlarmTopicKey", {
      description: "Encrypts simsnap's alarm notifications",
      enableKeyRotation: true,
      // It guards notifications in flight only: nothing kept needs it once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: "CloudWatchAlarmsPublish",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
      }),
    );
    this.topic = new Topic(this, "Alarms", {
      displayName: "simsnap alarms",
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "CloudWatchAlarmsPublish",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
          StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(this.topic);
    const notifying = (created: Alarm): Alarm => {
      created.addAlarmAction(notify);
      return created;
    };

    this.deadLetterAlarms = mapNames(props.queues, (queueName, queue) => {
      const deadLetters = queue.deadLetterQueue?.queue;
      if (!deadLetters) throw new Error(`Queue ${queueName} has no dead-letter queue`);
      return notifying(
        deadLetters
          .metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: "Maximum" })
          .createAlarm(this, `${constructId(queueName)}DeadLetters`, {
            alarmName: `${stackName}-dead-letters-${queueName}`,
            alarmDescription:
              `Messages of the ${queueName} queue that ${topology.queues[queueName].consumer} ` +
              `failed ${topology.queues[queueName].maxReceiveCount} times are in its dead-letter ` +
              "queue. Read the function's logs for the error, fix the cause, then redrive them.",
            threshold: 0,
            comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      );
    });

    this.failedJobsAlarm = notifying(
      simsnapMetric("JobsFailed", "Sum", ALARM_PERIOD).createAlarm(this, "FailedJobs", {
        alarmName: `${stackName}-failed-jobs`,
        alarmDescription:
          "A snapshot, stop, prune or restore job ended FAILED. GET /jobs?status=FAILED (or the " +
          "`simsnap jobs list --status FAILED`) lists them with the provider's error.",
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    this.failedVerificationsAlarm = notifying(
      simsnapMetric("VerificationsFailed", "Sum", ALARM_PERIOD).createAlarm(
        this,
        "FailedVerifications",
        {
          alarmName: `${stackName}-failed-verifications`,
          alarmDescription:
            "A restore test FAILED: a checkpoint did not restore into a throwaway simulation, or " +
            "the user check rejected it. `simsnap jobs list --kind verify --status FAILED` and " +
            "the checkpoint's `verification.detail` say why (docs/verification.md).",
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        },
      ),
    );

    const watched = watchedSchedules(props.schedules);
    this.staleCheckpointAlarms = Object.fromEntries(
      watched.map(({ spec, intervalMs }) => {
        const limitSeconds = (2 * intervalMs) / 1000;
        const created = notifying(
          simsnapMetric("CheckpointAge", "Maximum", stalenessPeriod(intervalMs), {
            [SCHEDULE_DIMENSION]: spec.name,
          }).createAlarm(this, `${constructId(spec.name)}StaleCheckpoints`, {
            alarmName: `${stackName}-stale-checkpoints-${spec.name}`,
            alarmDescription:
              `A simulation selected by schedule ${spec.name} (${spec.expression}, ` +
              `${spec.timeZone}) has had no completed checkpoint for longer than ${limitSeconds} s, ` +
              "twice the schedule's longest interval. plan-snapshots logs each simulation's " +
              "checkpointAgeSeconds; its failed snapshot jobs carry the provider's error.",
            threshold: limitSeconds,
            comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            // One figure per tick: periods between ticks keep the state the last tick set.
            treatMissingData: TreatMissingData.IGNORE,
          }),
        );
        return [spec.name, created];
      }),
    );

    const directlyInvoked = new Map<string, IFunction>(
      [
        ...props.schedules.map((s) => [s.target, s.handler ?? DEFAULT_HANDLER] as const),
        [topology.httpApi.target, DEFAULT_HANDLER] as const,
      ].map(([name, exportName]) => [
        entryPointLabel(name, exportName),
        props.functions[name].entryPoint(exportName),
      ]),
    );
    this.functionErrorAlarms = Object.fromEntries(
      [...directlyInvoked]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, fn]) => [
          label,
          notifying(
            fn
              .metricErrors({ period: ALARM_PERIOD, statistic: "Sum" })
              .createAlarm(this, `${constructId(label)}Errors`, {
                alarmName: `${stackName}-errors-${label}`,
                alarmDescription:
                  `${label} failed (an exception, a timeout, or a crash at start). It is invoked ` +
                  "directly, so no dead-letter queue keeps what failed: read its logs.",
                threshold: 1,
                comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluationPeriods: 1,
                treatMissingData: TreatMissingData.NOT_BREACHING,
              }),
          ),
        ]),
    );

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: `simsnap-${Aws.REGION}`,
      widgets: dashboardRows(props, watched, [
        ...Object.values(this.deadLetterAlarms),
        this.failedJobsAlarm,
        this.failedVerificationsAlarm,
        ...Object.values(this.staleCheckpointAlarms),
        ...Object.values(this.functionErrorAlarms),
      ]),
    });
  }
}

function dashboardRows(
  props: SimsnapObservabilityProps,
  watched: ReturnType<typeof watchedSchedules>,
  alarms: Alarm[],
): IWidget[][] {
  const hour = Duration.hours(1);
  const graph = (title: string, left: Metric[], right: Metric[] = []) =>
    new GraphWidget({ title, left, right, width: 8, height: 6 });
  const sums = (names: SimsnapMetricName[]) => names.map((n) => simsnapMetric(n, "Sum", hour));
  return [
    [
      new TextWidget({
        markdown:
          "# simsnap\nSnapshots, checkpoint staleness, retention and archives " +
          `(namespace \`${METRICS_NAMESPACE}\`), dead-letter queues and function errors.`,
        width: 24,
        height: 2,
      }),
    ],
    [new AlarmStatusWidget({ title: "Alarms", alarms, width: 24, height: 4 })],
    [
      graph(
        "Snapshots per hour",
        sums([
          "SnapshotsRequested",
          "SnapshotsCompleted",
          "SnapshotsDiscovered",
          "SnapshotsFailed",
        ]),
      ),
      new GraphWidget({
        title: "Checkpoint age by schedule (s)",
        left: watched.map(({ spec }) =>
          simsnapMetric("CheckpointAge", "Maximum", hour, { [SCHEDULE_DIMENSION]: spec.name }).with(
            { label: spec.name },
          ),
        ),
        leftAnnotations: watched.map(({ spec, intervalMs }) => ({
          value: (2 * intervalMs) / 1000,
          label: `${spec.name} alarm`,
        })),
        width: 8,
        height: 6,
      }),
      graph("Snapshot job age at completion (s)", [
        simsnapMetric("SnapshotJobAge", "Average", hour).with({ label: "average" }),
        simsnapMetric("SnapshotJobAge", "Maximum", hour).with({ label: "maximum" }),
      ]),
    ],
    [
      graph("Failed and re-driven jobs per hour", sums(["JobsFailed", "JobsResent"])),
      graph(
        "Retention per hour",
        sums(["CheckpointsPruned", "PruneDeleteFailures", "ArchivesPruned"]),
      ),
      graph(
        "Trash per hour",
        sums(["CheckpointsTrashed", "CheckpointsUndeleted", "CheckpointsPurged", "PurgeFailures"]),
        [
          simsnapMetric("TrashedBytes", "Sum", hour),
          simsnapMetric("BytesInTrash", "Maximum", hour),
        ],
      ),
      graph(
        "Archives, restores and restore tests per hour",
        sums([
          "CheckpointsArchived",
          "RestoresCompleted",
          "CheckpointsVerified",
          "VerificationsFailed",
        ]),
        [simsnapMetric("ArchivedBytes", "Sum", hour)],
      ),
    ],
    [
      graph(
        "Dead-letter queue depth",
        names(props.queues).map((name) =>
          (props.queues[name].deadLetterQueue?.queue ?? props.queues[name])
            .metricApproximateNumberOfMessagesVisible({
              period: ALARM_PERIOD,
              statistic: "Maximum",
            })
            .with({ label: name }),
        ),
      ),
      graph(
        "Function errors",
        entryPoints(props.functions).map(([label, fn]) =>
          fn.metricErrors({ period: ALARM_PERIOD, statistic: "Sum" }).with({ label }),
        ),
      ),
      graph(
        "Function throttles",
        entryPoints(props.functions).map(([label, fn]) =>
          fn.metricThrottles({ period: ALARM_PERIOD, statistic: "Sum" }).with({ label }),
        ),
      ),
    ],
  ];
}
