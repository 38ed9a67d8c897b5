import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimsnapApp } from "../../infra/app.ts";
import type { StatelessStack } from "../../infra/stateless-stack.ts";
import {
  METRICS_NAMESPACE,
  SCHEDULE_DIMENSION,
  SIMSNAP_METRICS,
} from "../../lib/observability/metric-names.ts";
import { topology, type QueueName } from "../../lib/topology.ts";

type Json = Record<string, unknown>;
interface AlarmProps {
  AlarmName: string;
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: unknown }[];
  Statistic: string;
  Period: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
}

const HOUR = 3600;
// The CLI's context (feature flags); only templates are read here, so nothing is bundled.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context?: Record<string, unknown>;
};
const withoutBundling = { ...cdkJson.context, "aws:cdk:bundling-stacks": [] };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "simsnap-observability-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let stack: StatelessStack;
let template: Template;
let alarms: AlarmProps[];

beforeAll(() => {
  const config = join(tempDir(), "simsnap.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      schedules: [
        { name: "hourly", expression: "cron(0 * * * ? *)" },
        {
          name: "weekdays",
          expression: "cron(0 9 ? * MON-FRI *)",
          timeZone: "Europe/Berlin",
        },
        { name: "half-hourly", expression: "rate(30 minutes)" },
        { name: "paused", expression: "rate(1 day)", enabled: false },
      ],
    }),
  );
  const built = createSimsnapApp({
    outdir: tempDir(),
    context: { ...withoutBundling, config, alarmEmail: "ops@example.com" },
  });
  stack = built.stateless;
  template = Template.fromStack(stack);
  alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
    (r) => r.Properties as AlarmProps,
  );
});

const logicalId = (element: unknown): string => {
  const cfn = element as CfnElement;
  return cfn.stack.getLogicalId(cfn);
};
const topicRef = () => ({ Ref: logicalId(stack.observability.topic.node.defaultChild) });
const alarmOn = (metricName: string, dimension?: { Name: string; Value: unknown }) =>
  alarms.filter(
    (a) =>
      a.MetricName === metricName &&
      (dimension === undefined ||
        a.Dimensions.some((d) => JSON.stringify(d) === JSON.stringify(dimension))),
  );

describe("alarms", () => {
  it("alarms on every dead-letter queue as soon as it holds a message", () => {
    for (const name of Object.keys(topology.queues) as QueueName[]) {
      const deadLetters = stack.queues[name].deadLetterQueue?.queue;
      expect(deadLetters, name).toBeDefined();
      const dimension = {
        Name: "QueueName",
        Value: { "Fn::GetAtt": [logicalId(deadLetters?.node.defaultChild), "QueueName"] },
      };
      expect(alarmOn("ApproximateNumberOfMessagesVisible", dimension), name).toEqual([
        expect.objectContaining({
          Namespace: "AWS/SQS",
          Statistic: "Maximum",
          Threshold: 0,
          ComparisonOperator: "GreaterThanThreshold",
          TreatMissingData: "notBreaching",
        }),
      ]);
    }
    expect(alarmOn("ApproximateNumberOfMessagesVisible")).toHaveLength(
      Object.keys(topology.queues).length,
    );
  });

  it("alarms on any failed job, from the metric the functions publish", () => {
    expect(SIMSNAP_METRICS.JobsFailed).toBe("Count");
    expect(alarmOn("JobsFailed")).toEqual([
      expect.objectContaining({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: "service", Value: "simsnap" }],
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      }),
    ]);
  });

  it("alarms on any failed restore test, from the metric verify-checkpoint publishes", () => {
    expect(SIMSNAP_METRICS.VerificationsFailed).toBe("Count");
    expect(alarmOn("VerificationsFailed")).toEqual([
      expect.objectContaining({
        Namespace: METRICS_NAMESPACE,
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      }),
    ]);
  });

  it("alarms per enabled snapshot schedule when a checkpoint is older than twice its longest interval", () => {
    const stale = alarmOn("CheckpointAge");
    const bySchedule = Object.fromEntries(
      stale.map((a) => [a.Dimensions.find((d) => d.Name === SCHEDULE_DIMENSION)?.Value, a]),
    );
    expect(Object.keys(bySchedule).sort()).toEqual(["half-hourly", "hourly", "weekdays"]);
    const common = {
      Namespace: METRICS_NAMESPACE,
      Statistic: "Maximum",
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "ignore",
    };
    expect(bySchedule.hourly).toMatchObject({ ...common, Threshold: 2 * HOUR, Period: HOUR });
    expect(bySchedule["half-hourly"]).toMatchObject({ ...common, Threshold: HOUR, Period: 1800 });
    // Friday 09:00 to Monday 09:00, plus the hour Berlin's clocks go back; alarm periods stop at a day.
    expect(bySchedule.weekdays).toMatchObject({
      ...common,
      Threshold: 2 * 73 * HOUR,
      Period: 24 * HOUR,
    });
  });

  it("alarms on errors of the functions invoked directly, whose failures reach no queue", () => {
    const errors = alarmOn("Errors").map((a) => a.Dimensions[0]?.Value);
    // prune's schedule runs its own export (dailyHandler), complete-snapshot's its scan; their
    // queues' exports reach a DLQ.
    const expected = [
      stack.functions.api.function,
      stack.functions["complete-snapshot"].entryPoint("scanHandler"),
      stack.functions["plan-snapshots"].function,
      stack.functions.prune.entryPoint("dailyHandler"),
      stack.functions["prune-archives"].function,
      stack.functions["purge-trash"].function,
      stack.functions["sweep-jobs"].function,
      stack.functions["sync-checkpoints"].function,
    ].map((fn) => ({ Ref: logicalId(fn.node.defaultChild) }));
    expect(errors).toEqual(expect.arrayContaining(expected));
    expect(errors).toHaveLength(expected.length);
  });

  it("sends every alarm to the alarm topic, and every alarm has a name and a description", () => {
    // Failed jobs and failed verifications, beside the per-queue, per-schedule and per-function ones.
    expect(alarms).toHaveLength(Object.keys(topology.queues).length + 2 + 3 + 8);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([topicRef()]);
    }
    for (const resource of Object.values(template.findResources("AWS::CloudWatch::Alarm"))) {
      const props = resource.Properties as Json;
      expect(String(props.AlarmDescription).length).toBeGreaterThan(60);
    }
  });
});

describe("the alarm topic", () => {
  it("is encrypted with a rotated key CloudWatch may use, and refuses plain HTTP", () => {
    const key = logicalId(
      stack.node.findChild("Observability").node.findChild("AlarmTopicKey").node.defaultChild,
    );
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: { "Fn::GetAtt": [key, "Arn"] },
    });
    template.hasResource("AWS::KMS::Key", {
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            }),
          ]),
        },
      },
    });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [topicRef()],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Condition: Match.objectLike({
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
            }),
          }),
        ]),
      },
    });
  });

  it("mails the address from -c alarmEmail, and nobody without it", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
      TopicArn: topicRef(),
    });
    const plain = createSimsnapApp({ outdir: tempDir(), context: withoutBundling });
    Template.fromStack(plain.stateless).resourceCountIs("AWS::SNS::Subscription", 0);
    expect(() =>
      createSimsnapApp({
        outdir: tempDir(),
        context: { ...withoutBundling, alarmEmail: "ops at example" },
      }),
    ).toThrow(/alarmEmail "ops at example" is not an email address/);
  });
});

describe("the dashboard", () => {
  it("is one dashboard showing every alarm and every simsnap metric", () => {
    const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties);
    for (const alarm of Object.values(stack.observability.deadLetterAlarms)) {
      expect(body).toContain(logicalId(alarm.node.defaultChild));
    }
    expect(body).toContain(logicalId(stack.observability.failedJobsAlarm.node.defaultChild));
    expect(body).toContain(
      logicalId(stack.observability.failedVerificationsAlarm.node.defaultChild),
    );
    for (const metric of Object.keys(SIMSNAP_METRICS)) expect(body).toContain(metric);
  });
});
