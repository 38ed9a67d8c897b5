import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { CfnElement } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { CfnBucket } from "aws-cdk-lib/aws-s3";
import type { CfnQueue } from "aws-cdk-lib/aws-sqs";
import {
  FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT,
  VALIDATION_REPORT_FILE,
} from "aws-cdk-lib/cx-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimsnapApp } from "../../infra/app.ts";
import { SIMSNAP_RUNTIME } from "../../infra/simsnap-function.ts";
import type { StatefulStack } from "../../infra/stateful-stack.ts";
import type { StatelessStack } from "../../infra/stateless-stack.ts";
import { catalogTable } from "../../lib/adapters/dynamodb/table-schema.ts";
import { configFilePath, loadConfigFile } from "../../lib/load-config-file.ts";
import { callsAir as declaresAir } from "../../lib/settings.ts";
import {
  DEFAULT_HANDLER,
  queueUrlEnv,
  SCHEDULE_RETRY,
  scheduleInput,
  schedulesFor,
  topology,
  type FunctionName,
  type FunctionNeeds,
  type QueueName,
  type ScheduleSpec,
} from "../../lib/topology.ts";

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

const functionNames = Object.keys(topology.functions) as FunctionName[];
/** Reads the catalog (checkpoint ages) and sends snapshot requests: no writes, no events. */
const publishesNothing: FunctionName[] = ["plan-snapshots", "plan-verifications"];
const queueNames = Object.keys(topology.queues) as QueueName[];
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context?: Json;
};

let stateful: StatefulStack;
let stateless: StatelessStack;
let data: Template;
let compute: Template;
let reportPath: string;
// Cloud assemblies hold the bundled functions (several MB a run): removed after the tests.
const outdirs: string[] = [];
const outdir = () => {
  const dir = mkdtempSync(join(tmpdir(), "simsnap-cdk-"));
  outdirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

// Bundling the functions with esbuild takes a few seconds each: synthesize once.
beforeAll(() => {
  // cdk-nag findings go to the report, read by the test below, instead of failing every test.
  const context = { ...cdkJson.context, [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false };
  const built = createSimsnapApp({ context, outdir: outdir() });
  stateful = built.stateful;
  stateless = built.stateless;
  const assembly = built.app.synth();
  reportPath = join(assembly.directory, VALIDATION_REPORT_FILE);
  data = Template.fromStack(stateful);
  compute = Template.fromStack(stateless);
}, 120_000);

const logicalId = (element: unknown): string => {
  const cfn = element as CfnElement;
  return cfn.stack.getLogicalId(cfn);
};
const resource = (template: Template, id: string): Json => {
  const found = (template.toJSON().Resources as Record<string, Json>)[id];
  if (!found) throw new Error(`No resource ${id}`);
  return found;
};
const functionId = (name: FunctionName) =>
  logicalId(stateless.functions[name].function.node.defaultChild as CfnFunction);
/** The Lambda function a schedule invokes: its target's, running the export it names. */
const scheduleTargetId = (spec: ScheduleSpec) =>
  logicalId(
    stateless.functions[spec.target].entryPoint(spec.handler).node.defaultChild as CfnFunction,
  );
const queueId = (name: QueueName) =>
  logicalId(stateless.queues[name].node.defaultChild as CfnQueue);

/** The `Fn::ImportValue` by which the stateless stack reads an output of the stateful one. */
function importOf(value: Json): Json {
  const outputs = data.toJSON().Outputs as Record<
    string,
    { Value: unknown; Export: { Name: string } }
  >;
  const output = Object.values(outputs).find(
    (o) => JSON.stringify(o.Value) === JSON.stringify(value),
  );
  if (!output) throw new Error(`The stateful stack exports no ${JSON.stringify(value)}`);
  return { "Fn::ImportValue": output.Export.Name };
}

/** Every statement of every identity policy attached to a role. */
function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = template.findResources("AWS::IAM::Policy", {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}
const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

function allStatements(template: Template): Statement[] {
  const documents: unknown[] = [];
  for (const r of Object.values(template.toJSON().Resources as Record<string, Json>)) {
    const props = (r.Properties ?? {}) as Json;
    if (props.PolicyDocument) documents.push(props.PolicyDocument);
    for (const p of (props.Policies ?? []) as Json[]) documents.push(p.PolicyDocument);
  }
  return documents.flatMap((d) => (d as { Statement: Statement[] }).Statement);
}

describe("functions", () => {
  it("creates one ARM64 function per topology function on the chosen runtime", () => {
    // Plus one per other export a schedule invokes: prune's dailyHandler, complete-snapshot's scan.
    const otherExports = new Set(
      stateless.schedules
        .filter((s) => (s.handler ?? DEFAULT_HANDLER) !== DEFAULT_HANDLER)
        .map((s) => `${s.target}.${s.handler}`),
    );
    expect([...otherExports].sort()).toEqual([
      "complete-snapshot.scanHandler",
      "prune.dailyHandler",
    ]);
    compute.resourceCountIs("AWS::Lambda::Function", functionNames.length + otherExports.size);
    for (const name of functionNames) {
      const spec = topology.functions[name];
      expect(resource(compute, functionId(name))).toMatchObject({
        Properties: {
          Runtime: SIMSNAP_RUNTIME.name,
          Architectures: ["arm64"],
          MemorySize: spec.memoryMb,
          Timeout: spec.timeoutSeconds,
          Description: spec.description,
          TracingConfig: { Mode: "Active" },
        },
      });
    }
  });

  it("runs the export a schedule names as a Lambda of its own, with its function's role and environment", () => {
    const prune = stateless.functions.prune;
    const daily = prune.entryPoint("dailyHandler");
    const main = resource(compute, functionId("prune")).Properties as Json;
    const props = resource(compute, logicalId(daily.node.defaultChild)).Properties as Json;
    expect(main.Handler).toBe("index.handler");
    expect(props).toMatchObject({
      Handler: "index.dailyHandler",
      Role: main.Role,
      LoggingConfig: main.LoggingConfig,
      Environment: main.Environment,
      MemorySize: main.MemorySize,
      Timeout: main.Timeout,
    });
    // The queue feeds the queue's export only; the schedule invokes the other.
    const mappings = Object.values(compute.findResources("AWS::Lambda::EventSourceMapping"));
    expect(mappings.map((m) => (m.Properties as Json).FunctionName)).toContainEqual({
      Ref: functionId("prune"),
    });
    expect(mappings.map((m) => (m.Properties as Json).FunctionName)).not.toContainEqual({
      Ref: logicalId(daily.node.defaultChild),
    });
    expect([...prune.entryPoints.keys()]).toEqual([DEFAULT_HANDLER, "dailyHandler"]);
  });

  it("gives every function the resource names and the URLs of the queues it sends to", () => {
    for (const name of functionNames) {
      const variables = (resource(compute, functionId(name)).Properties as Json).Environment as {
        Variables: Json;
      };
      expect(variables.Variables).toMatchObject({
        SIMSNAP_TABLE: importOf({ Ref: logicalId(stateful.catalogTable.node.defaultChild) }),
        SIMSNAP_SNAPSHOT_BUCKET: importOf({
          Ref: logicalId(stateful.snapshotBucket.node.defaultChild),
        }),
        SIMSNAP_SNAPSHOT_PREFIX: "simsnap",
        POWERTOOLS_SERVICE_NAME: "simsnap",
      });
      expect(variables.Variables.SIMSNAP_EVENT_BUS, name).toEqual(
        publishesNothing.includes(name)
          ? undefined
          : importOf({ Ref: logicalId(stateful.eventBus.node.defaultChild) }),
      );
      const queueEnv = Object.keys(variables.Variables).filter((key) =>
        key.startsWith("SIMSNAP_QUEUE_"),
      );
      expect(queueEnv.sort()).toEqual(topology.functions[name].sendsTo.map(queueUrlEnv).sort());
      for (const queue of topology.functions[name].sendsTo) {
        expect(variables.Variables[queueUrlEnv(queue)]).toEqual({ Ref: queueId(queue) });
      }
    }
  });

  it("deploys files discovery (its rule, its scan, the sources' settings) only with providers.files", () => {
    const config = join(outdir(), "simsnap.config.json");
    writeFileSync(
      config,
      JSON.stringify({
        providers: {
          files: {
            bucket: "ml-training",
            sources: [
              { prefix: "runs", preset: "huggingface" },
              { prefix: "jax", preset: "orbax" },
            ],
          },
        },
      }),
    );
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { "aws:cdk:bundling-stacks": [], config },
    });
    const template = Template.fromStack(built.stateless);
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: Match.absent(),
      EventPattern: {
        source: ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        detail: {
          bucket: { name: ["ml-training"] },
          object: { key: [{ prefix: "runs/" }, { prefix: "jax/" }] },
        },
      },
    });
    expect(built.stateless.schedules.map((s) => [s.name, s.expression, s.handler])).toContainEqual([
      "discover-files",
      "rate(5 minutes)",
      "scanHandler",
    ]);
    const fn = built.stateless.functions["discover-files"].function.node.defaultChild;
    const variables = (resource(template, logicalId(fn)).Properties as Json).Environment as {
      Variables: Json;
    };
    expect(variables.Variables.SIMSNAP_FILES_BUCKET).toBe("ml-training");
    expect(JSON.parse(String(variables.Variables.SIMSNAP_FILE_SOURCES))).toMatchObject([
      { prefix: "runs", preset: "huggingface" },
      { prefix: "jax", preset: "orbax" },
    ]);
    // Without it (the sample): no rule and no scan.
    expect(stateless.schedules.map((s) => s.name)).not.toContain("discover-files");
  });

  it("sets each setting only on the functions that read it", () => {
    const roleArn = "arn:aws:iam::123456789012:role/simulation";
    const config = join(outdir(), "simsnap.config.json");
    writeFileSync(
      config,
      JSON.stringify({
        retention: { default: { keepLast: 3 } },
        archive: { storageClass: "GLACIER_IR", retention: { default: { keepMonthly: 24 } } },
      }),
    );
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { "aws:cdk:bundling-stacks": [], config, simulationRoleArn: roleArn },
    });
    const template = Template.fromStack(built.stateless);
    const readers = (variable: string) =>
      functionNames.filter((name) => {
        const fn = built.stateless.functions[name].function.node.defaultChild;
        const properties = resource(template, logicalId(fn)).Properties as Json;
        return (properties.Environment as { Variables: Json }).Variables[variable] !== undefined;
      });
    expect(readers("SIMSNAP_RETENTION")).toEqual(["prune", "api"]);
    expect(readers("SIMSNAP_PRUNE_DEBOUNCE_SECONDS")).toEqual(["prune"]);
    expect(readers("SIMSNAP_ARCHIVE_BUCKET")).toEqual([
      "prune",
      "api",
      "archive-checkpoint",
      "restore-checkpoint",
      "prune-archives",
    ]);
    expect(readers("SIMSNAP_ARCHIVE_STORAGE_CLASS")).toEqual([
      "archive-checkpoint",
      "restore-checkpoint",
      "prune-archives",
    ]);
    expect(readers("SIMSNAP_ARCHIVE_RETENTION")).toEqual(["prune-archives"]);
    expect(readers("SIMSNAP_SIMULATION_ROLE_ARN")).toEqual([
      "api",
      "restore-checkpoint",
      "verify-checkpoint",
    ]);
    expect(readers("SIMSNAP_EVENT_BUS")).toEqual(
      functionNames.filter((name) => !publishesNothing.includes(name)),
    );
  });

  it("grants each function only the SimSpace Weaver actions it calls", () => {
    const expected: Record<FunctionName, string[]> = {
      "plan-snapshots": [
        "simspaceweaver:DescribeSimulation",
        "simspaceweaver:ListSimulations",
        "simspaceweaver:ListTagsForResource",
      ],
      "request-stop": ["simspaceweaver:DescribeSimulation", "simspaceweaver:StopSimulation"],
      "finish-stop": ["simspaceweaver:DescribeSimulation", "simspaceweaver:StopSimulation"],
      "observe-shutdown": [],
      // Its conflicts come back from CreateSnapshot itself: it never describes the simulation.
      "take-snapshot": ["simspaceweaver:CreateSnapshot"],
      "check-snapshot": ["simspaceweaver:DescribeSimulation"],
      "complete-snapshot": [],
      prune: [],
      "purge-trash": [],
      api: [
        "simspaceweaver:DescribeSimulation",
        "simspaceweaver:ListSimulations",
        "simspaceweaver:StopSimulation",
      ],
      "archive-checkpoint": [],
      "restore-checkpoint": ["simspaceweaver:DescribeSimulation", "simspaceweaver:StartSimulation"],
      "prune-archives": [],
      "sweep-jobs": [],
      "sync-checkpoints": [],
      // Its grants are on the files bucket, which this deployment does not configure.
      "discover-files": [],
      "plan-verifications": [],
      // Stop and delete only after ListTagsForResource showed the throwaway carries its job's tag.
      "verify-checkpoint": [
        "simspaceweaver:DeleteSimulation",
        "simspaceweaver:DescribeSimulation",
        "simspaceweaver:ListTagsForResource",
        "simspaceweaver:StartSimulation",
        "simspaceweaver:StopSimulation",
      ],
    };
    const s3Actions: Record<FunctionName, string[]> = {
      "plan-snapshots": [],
      "request-stop": [],
      "finish-stop": [],
      "observe-shutdown": [],
      "take-snapshot": [],
      // The reconciling scan keeps its cursor under reports/.
      "complete-snapshot": ["s3:GetObject", "s3:ListBucket", "s3:PutObject"],
      "check-snapshot": ["s3:GetObject", "s3:ListBucket"],
      // The trash: the copy's source read, the copy written, the original and purged copies deleted.
      prune: [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:PutObject",
      ],
      // DELETE moves a file to the trash, undelete copies it back into the snapshot folder.
      api: [
        "s3:AbortMultipartUpload",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:PutObject",
      ],
      // Lists the trash, deletes purged copies (and a move's leftover original): no writes.
      "purge-trash": ["s3:DeleteObject", "s3:GetObject", "s3:ListBucket"],
      // GetObject twice: on snapshot files (the copy's source) and on archive copies.
      "archive-checkpoint": [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
      ],
      "restore-checkpoint": [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:RestoreObject",
      ],
      "prune-archives": ["s3:DeleteObject", "s3:ListBucket"],
      "sweep-jobs": [],
      "sync-checkpoints": [],
      // Its grants are on the files bucket, which this deployment does not configure.
      "discover-files": [],
      "plan-verifications": [],
      "verify-checkpoint": [],
    };
    for (const name of functionNames) {
      const roleId = logicalId(stateless.functions[name].role.node.defaultChild);
      const actions = actionsOf(roleStatements(compute, roleId));
      expect(actions.filter((a) => a.startsWith("simspaceweaver:")).sort(), name).toEqual(
        expected[name],
      );
      const needs: FunctionNeeds = topology.functions[name].needs;
      if (publishesNothing.includes(name)) expect(actions, name).not.toContain("events:PutEvents");
      else expect(actions, name).toContain("events:PutEvents");
      if (needs.catalog === "write") expect(actions, name).toContain("dynamodb:PutItem");
      else expect(actions, name).not.toContain("dynamodb:PutItem");
      if (needs.scan !== undefined) expect(actions, name).toContain("dynamodb:Scan");
      else expect(actions, name).not.toContain("dynamodb:Scan");
      const s3 = actions.filter((a) => a.startsWith("s3:")).sort();
      expect(s3, name).toEqual(s3Actions[name]);
    }
  });
});

describe("queues", () => {
  it("gives every topology queue a dead-letter queue, its redrive count and a batch consumer", () => {
    for (const name of queueNames) {
      const spec = topology.queues[name];
      const queue = resource(compute, queueId(name)).Properties as {
        RedrivePolicy: {
          deadLetterTargetArn: { "Fn::GetAtt": [string, string] };
          maxReceiveCount: number;
        };
      };
      expect(queue).toMatchObject({
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { maxReceiveCount: spec.maxReceiveCount },
      });
      const [deadLetterId] = queue.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"];
      expect(resource(compute, deadLetterId)).toMatchObject({
        Type: "AWS::SQS::Queue",
        Properties: { MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true },
      });
      compute.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        EventSourceArn: { "Fn::GetAtt": [queueId(name), "Arn"] },
        FunctionName: { Ref: functionId(spec.consumer) },
        BatchSize: spec.batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig:
          "maxConcurrency" in spec ? { MaximumConcurrency: spec.maxConcurrency } : Match.absent(),
      });
      for (const id of [queueId(name), deadLetterId]) {
        compute.hasResourceProperties("AWS::SQS::QueuePolicy", {
          Queues: [{ Ref: id }],
          PolicyDocument: { Statement: Match.arrayWith([denyPlainHttp("sqs:*")]) },
        });
      }
    }
    compute.resourceCountIs("AWS::SQS::Queue", 2 * queueNames.length);
  });
});

describe("stateful resources", () => {
  it("blocks public access, encrypts and refuses plain HTTP on every bucket", () => {
    const buckets = data.findResources("AWS::S3::Bucket");
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const [id, bucket] of Object.entries(buckets)) {
      expect(bucket).toMatchObject({
        DeletionPolicy: "Retain",
        Properties: {
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
            ],
          },
        },
      });
      data.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: { Ref: id },
        PolicyDocument: { Statement: Match.arrayWith([denyPlainHttp("s3:*")]) },
      });
    }
  });

  it("sends snapshot bucket events to EventBridge and logs access to both data buckets", () => {
    const snapshots = resource(
      data,
      logicalId(stateful.snapshotBucket.node.defaultChild as CfnBucket),
    );
    expect(snapshots.Properties).toMatchObject({
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      LoggingConfiguration: { DestinationBucketName: expect.anything() },
    });
    const archive = resource(
      data,
      logicalId(stateful.archiveBucket.node.defaultChild as CfnBucket),
    );
    expect(archive.Properties).toMatchObject({
      LoggingConfiguration: { DestinationBucketName: expect.anything() },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Transitions: [
              { StorageClass: "GLACIER_IR", TransitionInDays: 30 },
              { StorageClass: "DEEP_ARCHIVE", TransitionInDays: 180 },
            ],
          }),
        ],
      },
    });
    data.resourceCountIs("Custom::S3BucketNotifications", 0);
  });

  it("builds the catalog table from the shared key design", () => {
    const index = (spec: { name: string; partitionKey: string; sortKey: string }) => ({
      IndexName: spec.name,
      KeySchema: [
        { AttributeName: spec.partitionKey, KeyType: "HASH" },
        { AttributeName: spec.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    });
    data.resourceCountIs("AWS::DynamoDB::Table", 1);
    data.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        KeySchema: [
          { AttributeName: catalogTable.partitionKey, KeyType: "HASH" },
          { AttributeName: catalogTable.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: Match.arrayEquals(Object.values(catalogTable.indexes).map(index)),
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: catalogTable.timeToLiveAttribute, Enabled: true },
      },
    });
  });

  it("creates the simsnap event bus", () => {
    data.hasResourceProperties("AWS::Events::EventBus", { Name: "simsnap" });
  });
});

describe("triggers", () => {
  it("creates one rule per topology rule, with its pattern resolved against the real bucket", () => {
    const snapshotBucket = importOf({ Ref: logicalId(stateful.snapshotBucket.node.defaultChild) });
    const simsnapBus = importOf({ Ref: logicalId(stateful.eventBus.node.defaultChild) });
    const names = {
      snapshotBucket: snapshotBucket as unknown as string,
      snapshotPrefixes: ["simsnap"],
    };
    // The sample configures no files sources: the rule about them is not deployed.
    const deployed = topology.rules.filter((spec) => spec.pattern(names) !== undefined);
    expect(topology.rules.filter((spec) => !deployed.includes(spec)).map((r) => r.name)).toEqual([
      "checkpoint-file-changed",
    ]);
    compute.resourceCountIs("AWS::Events::Rule", deployed.length);
    for (const spec of deployed) {
      compute.hasResourceProperties("AWS::Events::Rule", {
        Description: spec.description,
        EventBusName: spec.bus === "simsnap" ? simsnapBus : Match.absent(),
        EventPattern: spec.pattern(names),
        Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [queueId(spec.targetQueue), "Arn"] } })],
      });
    }
  });

  it("retries a tick as SCHEDULE_RETRY says, the policy the local scheduler mirrors", () => {
    for (const schedule of Object.values(compute.findResources("AWS::Scheduler::Schedule"))) {
      expect(schedule.Properties.Target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: SCHEDULE_RETRY.delivery.maximumEventAgeInSeconds,
        MaximumRetryAttempts: SCHEDULE_RETRY.delivery.maximumRetryAttempts,
      });
    }
    const targets = [...new Set(stateless.schedules.map(scheduleTargetId))];
    compute.resourceCountIs("AWS::Lambda::EventInvokeConfig", targets.length);
    for (const target of targets) {
      compute.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
        FunctionName: { Ref: target },
        MaximumRetryAttempts: SCHEDULE_RETRY.invocation.retryAttempts,
        MaximumEventAgeInSeconds: SCHEDULE_RETRY.invocation.maxEventAgeSeconds,
      });
    }
  });

  it("creates one schedule per topology schedule, invoking its target through a role of its own", () => {
    const schedules = compute.findResources("AWS::Scheduler::Schedule");
    expect(Object.keys(schedules)).toHaveLength(stateless.schedules.length);
    for (const spec of stateless.schedules) {
      const found = Object.values(schedules).find(
        (s) =>
          JSON.parse((s.Properties as { Target: { Input: string } }).Target.Input).schedule ===
          spec.name,
      ) as {
        Properties: { Target: { Input: string; RoleArn: { "Fn::GetAtt": [string, string] } } };
      };
      expect(found.Properties).toMatchObject({
        ScheduleExpression: spec.expression,
        ScheduleExpressionTimezone: spec.timeZone,
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: { Arn: { "Fn::GetAtt": [scheduleTargetId(spec), "Arn"] } },
      });
      expect(JSON.parse(found.Properties.Target.Input)).toEqual(scheduleInput(spec));
      const [roleId] = found.Properties.Target.RoleArn["Fn::GetAtt"];
      expect(roleStatements(compute, roleId)).toEqual([
        {
          Effect: "Allow",
          Action: "lambda:InvokeFunction",
          Resource: { "Fn::GetAtt": [scheduleTargetId(spec), "Arn"] },
        },
      ]);
    }
  });
});

describe("HTTP API", () => {
  it("bundles the web console beside the API function's code, where the function looks for it", () => {
    const api = resource(compute, functionId(topology.httpApi.target)) as {
      Properties: { Code: { S3Key: string } };
    };
    // The cloud assembly keeps each asset in `asset.<hash>`, the hash its S3 key names.
    const hash = api.Properties.Code.S3Key.replace(/\.zip$/, "");
    const bundle = join(dirname(reportPath), `asset.${hash}`);
    for (const file of ["index.html", "app.js", "app.css"]) {
      expect(existsSync(join(bundle, "console", file)), file).toBe(true);
    }
  });

  it("routes every request to the API function behind IAM auth, throttled and access-logged", () => {
    const api = topology.httpApi.target;
    compute.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    compute.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP" });
    const routes = Object.values(compute.findResources("AWS::ApiGatewayV2::Route"));
    // The web console's page and files load unsigned (a browser cannot sign a page load); they
    // hold no data, and every API call stays IAM-authorized (docs/console.md).
    expect(routes.map((r) => r.Properties)).toEqual([
      expect.objectContaining({ RouteKey: "$default", AuthorizationType: "AWS_IAM" }),
      expect.objectContaining({ RouteKey: "GET /", AuthorizationType: "NONE" }),
      expect.objectContaining({ RouteKey: "GET /console/{file}", AuthorizationType: "NONE" }),
    ]);
    compute.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [functionId(api), "Arn"] },
    });
    compute.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { "Fn::GetAtt": [Match.anyValue(), "Arn"] },
        Format: Match.stringLikeRegexp("context.identity.userArn"),
      },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    compute.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      Principal: "apigateway.amazonaws.com",
      FunctionName: { "Fn::GetAtt": [functionId(api), "Arn"] },
    });
  });

  it("lets the API function scan the table itself, for listing every job", () => {
    const roleId = logicalId(stateless.functions[topology.httpApi.target].role.node.defaultChild);
    const scans = roleStatements(compute, roleId).filter((s) =>
      actionsOf([s]).includes("dynamodb:Scan"),
    );
    // Merged with the other item actions on the same resource: the table itself, never an index.
    expect(scans).toHaveLength(1);
    expect(scans[0]?.Resource).toEqual(
      importOf({ "Fn::GetAtt": [logicalId(stateful.catalogTable.node.defaultChild), "Arn"] }),
    );
  });

  it("lets the sweeper scan the sparse openJobs index alone, never the table", () => {
    const roleId = logicalId(stateless.functions["sweep-jobs"].role.node.defaultChild);
    const scans = roleStatements(compute, roleId).filter((s) =>
      actionsOf([s]).includes("dynamodb:Scan"),
    );
    const tableArn = importOf({
      "Fn::GetAtt": [logicalId(stateful.catalogTable.node.defaultChild), "Arn"],
    });
    expect(scans).toEqual([
      {
        Effect: "Allow",
        Action: "dynamodb:Scan",
        Resource: { "Fn::Join": ["", [tableArn, `/index/${catalogTable.indexes.openJobs.name}`]] },
      },
    ]);
  });
});

describe("deployment options", () => {
  // Only templates are read here, so the functions are not bundled again.
  const withoutBundling = { "aws:cdk:bundling-stacks": [] };

  it("lets the simulation role write snapshot files under the configured prefix", () => {
    const roleArn = "arn:aws:iam::123456789012:role/simulation";
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { ...withoutBundling, snapshotPrefix: "team/sims", simulationRoleArn: roleArn },
    });
    Template.fromStack(built.stateful).hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: logicalId(built.stateful.snapshotBucket.node.defaultChild) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { AWS: roleArn },
            Action: "s3:PutObject",
            Resource: {
              "Fn::Join": ["", [Match.anyValue(), "/team/sims/snapshot/*"]],
            },
          }),
        ]),
      },
    });
    const fn = Template.fromStack(built.stateless).findResources("AWS::Lambda::Function");
    for (const f of Object.values(fn)) {
      expect(f.Properties.Environment.Variables.SIMSNAP_SNAPSHOT_PREFIX).toBe("team/sims");
    }
  });

  it("refuses a malformed prefix or role ARN", () => {
    expect(() =>
      createSimsnapApp({ outdir: outdir(), context: { snapshotPrefix: "/snapshots/" } }),
    ).toThrow(/snapshotPrefix/);
    expect(() =>
      createSimsnapApp({ outdir: outdir(), context: { snapshotPrefix: "team/../other" } }),
    ).toThrow(/snapshotPrefix.*no "\." or "\.\." segment/);
    expect(() =>
      createSimsnapApp({ outdir: outdir(), context: { simulationRoleArn: "simulation" } }),
    ).toThrow(/simulationRoleArn/);
  });
});

describe("security", () => {
  it("synthesizes without CDK warnings or errors", () => {
    for (const stack of [stateful, stateless]) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError("*", Match.anyValue()), stack.stackName).toEqual([]);
      expect(annotations.findWarning("*", Match.anyValue()), stack.stackName).toEqual([]);
    }
  });

  it("has no policy statement allowing a wildcard action", () => {
    for (const template of [data, compute]) {
      for (const statement of allStatements(template)) {
        const actions = actionsOf([statement]);
        expect(actions).not.toContain("*");
        if (statement.Effect === "Allow") {
          expect(actions.filter((action) => action.includes("*"))).toEqual([]);
        }
      }
    }
  });

  it("passes cdk-nag's AwsSolutions checks, every acknowledgment with its reason", () => {
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as {
      pluginReports: {
        pluginName: string;
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const findings = report.pluginReports
      .filter((plugin) => plugin.pluginName === "AwsSolutions")
      .flatMap((plugin) => plugin.violations)
      .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`));
    expect(findings).toEqual([]);

    for (const template of [data, compute]) {
      for (const r of Object.values(template.toJSON().Resources as Record<string, Json>)) {
        const acknowledged = (
          r.Metadata as { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } }
        )?.cdk_nag?.rules_to_suppress;
        for (const rule of acknowledged ?? []) {
          expect(rule.id).toMatch(/^AwsSolutions-/);
          expect(rule.reason.length, rule.id).toBeGreaterThan(40);
        }
      }
    }
  });
});

describe("NVIDIA Air", () => {
  // Only templates are read here, so the functions are not bundled again.
  const withoutBundling = { "aws:cdk:bundling-stacks": [] };
  const endpoint = "https://air.example.com/api/v3/";
  const callsAir = functionNames.filter((name) => declaresAir(topology.functions[name].needs));

  function appWith(token: Json, extra: Json = {}) {
    const config = join(outdir(), "simsnap.config.json");
    writeFileSync(config, JSON.stringify({ providers: { air: { endpoint, token } } }));
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { ...withoutBundling, config, ...extra },
    });
    return {
      built,
      data: Template.fromStack(built.stateful),
      compute: Template.fromStack(built.stateless),
    };
  }
  /** The functions with an Air endpoint in their environment, and their token secret. */
  function airEnvironments(built: ReturnType<typeof appWith>["built"], template: Template) {
    return Object.fromEntries(
      functionNames.flatMap((name) => {
        const fn = built.stateless.functions[name].function.node.defaultChild;
        const variables = (
          (resource(template, logicalId(fn)).Properties as Json).Environment as { Variables: Json }
        ).Variables;
        return variables.SIMSNAP_AIR_ENDPOINT === undefined
          ? []
          : [[name, [variables.SIMSNAP_AIR_ENDPOINT, variables.SIMSNAP_AIR_TOKEN_SECRET]]];
      }),
    );
  }
  /** `secretsmanager:*` grants by function, as `action → resources`. */
  function secretGrants(built: ReturnType<typeof appWith>["built"], template: Template) {
    return Object.fromEntries(
      functionNames.flatMap((name) => {
        const roleId = logicalId(built.stateless.functions[name].role.node.defaultChild);
        const statements = roleStatements(template, roleId).filter((st) =>
          actionsOf([st]).some((a) => a.startsWith("secretsmanager:")),
        );
        return statements.length === 0
          ? []
          : [[name, statements.map((st) => [st.Action, st.Resource])]];
      }),
    );
  }

  it("deploys no secret and no Air setting when the config file configures no Air", () => {
    data.resourceCountIs("AWS::SecretsManager::Secret", 0);
    expect(
      actionsOf(allStatements(compute)).filter((a) => a.startsWith("secretsmanager:")),
    ).toEqual([]);
  });

  it("creates an empty, retained token secret for the operator, readable only by the functions that call Air", () => {
    const { built, data: airData, compute: airCompute } = appWith({});
    const secret = airData.findResources("AWS::SecretsManager::Secret");
    expect(Object.keys(secret)).toHaveLength(1);
    const [secretId, created] = Object.entries(secret)[0] as [string, Json];
    expect(created.DeletionPolicy).toBe("Retain");
    expect(JSON.parse((created.Properties as { SecretString: string }).SecretString)).toEqual({
      token: "",
    });
    expect(Object.values(airData.toJSON().Outputs as Json)).toContainEqual(
      expect.objectContaining({ Value: { Ref: secretId } }),
    );

    const secretArn = { "Fn::ImportValue": expect.stringContaining("AirApiToken") as unknown };
    const environments = airEnvironments(built, airCompute);
    expect(Object.keys(environments).sort()).toEqual([...callsAir].sort());
    for (const name of callsAir) expect(environments[name]).toEqual([endpoint, secretArn]);
    const grants = secretGrants(built, airCompute);
    expect(Object.keys(grants).sort()).toEqual([...callsAir].sort());
    for (const name of callsAir) {
      expect(grants[name], name).toEqual([["secretsmanager:GetSecretValue", secretArn]]);
    }
  });

  it("passes cdk-nag's AwsSolutions checks with the created secret", () => {
    const { built } = appWith({}, { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false });
    const assembly = built.app.synth();
    const report = JSON.parse(
      readFileSync(join(assembly.directory, VALIDATION_REPORT_FILE), "utf8"),
    ) as {
      pluginReports: {
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const findings = report.pluginReports
      .flatMap((plugin) => plugin.violations)
      .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`));
    expect(findings).toEqual([]);
    for (const stack of [built.stateful, built.stateless]) {
      expect(Annotations.fromStack(stack).findWarning("*", Match.anyValue())).toEqual([]);
    }
  });

  it("imports the token secret the config names, by complete ARN or by name, granting that secret alone", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:air/token-AbCdEf";
    const byArn = appWith({ secretArn: arn });
    byArn.data.resourceCountIs("AWS::SecretsManager::Secret", 0);
    for (const [name, env] of Object.entries(airEnvironments(byArn.built, byArn.compute))) {
      expect(env, name).toEqual([endpoint, arn]);
    }
    for (const grant of Object.values(secretGrants(byArn.built, byArn.compute))) {
      expect(grant).toEqual([["secretsmanager:GetSecretValue", arn]]);
    }

    const byName = appWith({ secretName: "air/token" });
    byName.data.resourceCountIs("AWS::SecretsManager::Secret", 0);
    const grants = secretGrants(byName.built, byName.compute);
    expect(Object.keys(grants).sort()).toEqual([...callsAir].sort());
    for (const [name, env] of Object.entries(airEnvironments(byName.built, byName.compute))) {
      expect(env, name).toEqual([endpoint, "air/token"]);
      // Secrets Manager appends a 6-character suffix to a secret's name in its ARN.
      expect(JSON.stringify(grants[name])).toContain(":secret:air/token-??????");
    }
  });

  it("refuses a token named both by ARN and by name, or an endpoint that is not a URL", () => {
    expect(() =>
      appWith({
        secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a",
        secretName: "a",
      }),
    ).toThrow(/secretArn or by secretName/);
    const config = join(outdir(), "simsnap.config.json");
    writeFileSync(config, JSON.stringify({ providers: { air: { endpoint: "air.example.com" } } }));
    expect(() =>
      createSimsnapApp({ outdir: outdir(), context: { ...withoutBundling, config } }),
    ).toThrow(/providers\.air\.endpoint/);
  });
});

describe("archive", () => {
  const withoutBundling = { "aws:cdk:bundling-stacks": [] };
  const archiveOf = (built: { stateful: StatefulStack }) =>
    resource(
      Template.fromStack(built.stateful),
      logicalId(built.stateful.archiveBucket.node.defaultChild),
    ).Properties as Json;

  it("moves archives to colder classes by default, without Object Lock", () => {
    const archive = archiveOf({ stateful });
    expect(archive).toMatchObject({
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Transitions: [
              { StorageClass: "GLACIER_IR", TransitionInDays: 30 },
              { StorageClass: "DEEP_ARCHIVE", TransitionInDays: 180 },
            ],
          }),
        ],
      },
    });
    expect(archive.ObjectLockEnabled).toBeUndefined();
    expect(archive.ObjectLockConfiguration).toBeUndefined();
  });

  it("locks archives in compliance or governance mode, with versioning, from app context", () => {
    for (const mode of ["COMPLIANCE", "GOVERNANCE"]) {
      const built = createSimsnapApp({
        outdir: outdir(),
        context: {
          ...withoutBundling,
          archiveObjectLockMode: mode,
          archiveObjectLockDays: "365",
          archiveTransitions: "GLACIER:90",
        },
      });
      expect(archiveOf(built)).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: mode, Days: 365 } },
        },
        VersioningConfiguration: { Status: "Enabled" },
        LifecycleConfiguration: {
          Rules: [
            expect.objectContaining({
              Transitions: [{ StorageClass: "GLACIER", TransitionInDays: 90 }],
              NoncurrentVersionExpiration: { NoncurrentDays: 365 },
            }),
          ],
        },
      });
    }
  });

  it("refuses malformed archive options, naming the context key", () => {
    const build = (context: Json) =>
      createSimsnapApp({ outdir: outdir(), context: { ...withoutBundling, ...context } });
    expect(() => build({ archiveTransitions: "GLACIER:90,DEEP_ARCHIVE:30" })).toThrow(
      /archiveTransitions: days must increase/,
    );
    expect(() => build({ archiveTransitions: "COLD:30" })).toThrow(
      /archiveTransitions: "COLD:30" must be CLASS:DAYS/,
    );
    expect(() => build({ archiveObjectLockMode: "STRICT", archiveObjectLockDays: "30" })).toThrow(
      /archiveObjectLockMode.*must be GOVERNANCE or COMPLIANCE/,
    );
    expect(() => build({ archiveObjectLockMode: "GOVERNANCE" })).toThrow(
      /must be a number of days/,
    );
  });

  it("gives the archive functions the archive bucket, and restores the copied-back prefix only", () => {
    const archiveBucket = importOf({ Ref: logicalId(stateful.archiveBucket.node.defaultChild) });
    for (const name of ["archive-checkpoint", "restore-checkpoint", "prune-archives"] as const) {
      const variables = (resource(compute, functionId(name)).Properties as Json).Environment as {
        Variables: Json;
      };
      expect(variables.Variables.SIMSNAP_ARCHIVE_BUCKET, name).toEqual(archiveBucket);
    }
    const statements = (name: FunctionName) =>
      roleStatements(compute, logicalId(stateless.functions[name].role.node.defaultChild));
    const archiveObjects = {
      "Fn::Join": ["", [{ "Fn::ImportValue": stateful.archiveBucketArnExport }, "/*"]],
    };
    expect(statements("archive-checkpoint")).toContainEqual(
      expect.objectContaining({
        Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
        Resource: archiveObjects,
      }),
    );
    expect(statements("prune-archives")).toContainEqual(
      expect.objectContaining({ Action: "s3:DeleteObject", Resource: archiveObjects }),
    );
    expect(statements("restore-checkpoint")).toContainEqual(
      expect.objectContaining({
        Action: ["s3:AbortMultipartUpload", "s3:PutObject"],
        Resource: {
          "Fn::Join": [
            "",
            [{ "Fn::ImportValue": stateful.snapshotBucketArnExport }, "/simsnap/restore/*"],
          ],
        },
      }),
    );
    expect(actionsOf(statements("restore-checkpoint"))).not.toContain("iam:PassRole");
  });

  it("takes the archive bucket, storage class and archive retention from the config file", () => {
    const config = join(outdir(), "simsnap.config.json");
    const retention = { default: { keepMonthly: 24 }, maxRemoveFraction: 0.25 };
    writeFileSync(
      config,
      JSON.stringify({
        archive: { bucket: "team-archive", storageClass: "GLACIER_IR", retention },
      }),
    );
    const built = createSimsnapApp({ outdir: outdir(), context: { ...withoutBundling, config } });
    expect(archiveOf(built).BucketName).toBe("team-archive");
    const template = Template.fromStack(built.stateless);
    const environment = (name: FunctionName) =>
      (
        (
          resource(template, logicalId(built.stateless.functions[name].function.node.defaultChild))
            .Properties as Json
        ).Environment as { Variables: Json }
      ).Variables;
    expect(environment("archive-checkpoint").SIMSNAP_ARCHIVE_STORAGE_CLASS).toBe("GLACIER_IR");
    expect(
      JSON.parse(String(environment("prune-archives").SIMSNAP_ARCHIVE_RETENTION)),
    ).toMatchObject(retention);
    expect(environment("archive-checkpoint").SIMSNAP_ARCHIVE_RETENTION).toBeUndefined();
  });

  it("lets restores and restore tests pass the simulation role to SimSpace Weaver, and nothing else", () => {
    const roleArn = "arn:aws:iam::123456789012:role/simulation";
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { ...withoutBundling, simulationRoleArn: roleArn },
    });
    const template = Template.fromStack(built.stateless);
    const restore = built.stateless.functions["restore-checkpoint"];
    expect(roleStatements(template, logicalId(restore.role.node.defaultChild))).toContainEqual(
      expect.objectContaining({
        Action: "iam:PassRole",
        Resource: roleArn,
        Condition: { StringEquals: { "iam:PassedToService": "simspaceweaver.amazonaws.com" } },
      }),
    );
    expect(
      (resource(template, logicalId(restore.function.node.defaultChild)).Properties as Json)
        .Environment,
    ).toMatchObject({ Variables: { SIMSNAP_SIMULATION_ROLE_ARN: roleArn } });
    const passers: FunctionName[] = ["restore-checkpoint", "verify-checkpoint"];
    const verify = built.stateless.functions["verify-checkpoint"];
    expect(roleStatements(template, logicalId(verify.role.node.defaultChild))).toContainEqual(
      expect.objectContaining({ Action: "iam:PassRole", Resource: roleArn }),
    );
    for (const name of functionNames.filter((n) => !passers.includes(n))) {
      const fn = built.stateless.functions[name];
      expect(
        actionsOf(roleStatements(template, logicalId(fn.role.node.defaultChild))),
        name,
      ).not.toContain("iam:PassRole");
    }
  });
});

function denyPlainHttp(action: string) {
  return Match.objectLike({
    Effect: "Deny",
    Action: action,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

describe("the topology in the synthesized template", () => {
  // Only templates are read here, so the functions are not bundled again.
  const withoutBundling = { "aws:cdk:bundling-stacks": [] };

  /** JSON with object keys sorted, so two renderings of one value compare equal. */
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === "object" && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
    );

  const writeConfig = (config: unknown): string => {
    const file = join(outdir(), "simsnap.config.json");
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it("has every rule of lib/topology.ts, once each, and no other rule", () => {
    const snapshotBucket = importOf({ Ref: logicalId(stateful.snapshotBucket.node.defaultChild) });
    const simsnapBus = importOf({ Ref: logicalId(stateful.eventBus.node.defaultChild) });
    const inTemplate = Object.values(compute.findResources("AWS::Events::Rule")).map((rule) => {
      const props = rule.Properties as {
        EventBusName?: unknown;
        EventPattern: unknown;
        Targets: Json[];
      };
      return canonical({
        bus: props.EventBusName ?? null,
        pattern: props.EventPattern,
        targets: props.Targets.map((t) => t.Arn),
      });
    });
    const names = {
      snapshotBucket: snapshotBucket as unknown as string,
      snapshotPrefixes: ["simsnap"],
    };
    const inTopology = topology.rules
      .filter((spec) => spec.pattern(names) !== undefined)
      .map((spec) =>
        canonical({
          bus: spec.bus === "simsnap" ? simsnapBus : null,
          pattern: spec.pattern(names),
          targets: [{ "Fn::GetAtt": [queueId(spec.targetQueue), "Arn"] }],
        }),
      );
    expect(inTemplate.sort()).toEqual(inTopology.sort());
  });

  it("has every schedule of lib/topology.ts and the config file, once each, and no other schedule", () => {
    const config = loadConfigFile(configFilePath(undefined));
    const specs = schedulesFor(config, "aws");
    expect(stateless.schedules).toEqual(specs);
    expect(specs.map((s) => s.name)).toEqual(
      expect.arrayContaining(config.schedules.map((s) => s.name)),
    );
    const inTemplate = Object.values(compute.findResources("AWS::Scheduler::Schedule")).map(
      (schedule) => {
        const props = schedule.Properties as {
          ScheduleExpression: string;
          ScheduleExpressionTimezone: string;
          State: string;
          Target: { Arn: unknown; Input: string };
        };
        return canonical({
          expression: props.ScheduleExpression,
          timeZone: props.ScheduleExpressionTimezone,
          state: props.State,
          target: props.Target.Arn,
          input: JSON.parse(props.Target.Input),
        });
      },
    );
    const inTopology = specs.map((spec) =>
      canonical({
        expression: spec.expression,
        timeZone: spec.timeZone,
        state: spec.enabled === false ? "DISABLED" : "ENABLED",
        target: { "Fn::GetAtt": [scheduleTargetId(spec), "Arn"] },
        input: scheduleInput(spec),
      }),
    );
    expect(inTemplate.sort()).toEqual(inTopology.sort());
  });

  it("deploys the schedules of the config file named by -c config, in their time zones", () => {
    const file = writeConfig({
      destination: { prefix: "team/sims" },
      schedules: [
        {
          name: "oceans-nightly",
          expression: "cron(30 2 * * ? *)",
          localExpression: "rate(10 seconds)",
          timeZone: "Europe/Berlin",
          selector: { names: ["ocean-*"], tags: { team: "oceans" } },
        },
        { name: "weekly", expression: "rate(7 days)", enabled: false },
      ],
    });
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { ...withoutBundling, config: file },
    });
    const template = Template.fromStack(built.stateless);
    const schedules = Object.values(template.findResources("AWS::Scheduler::Schedule")).map(
      (s) =>
        s.Properties as {
          ScheduleExpression: string;
          ScheduleExpressionTimezone: string;
          State: string;
          Target: { Input: string };
        },
    );
    const byName = (name: string) =>
      schedules.find((s) => (JSON.parse(s.Target.Input) as { schedule: string }).schedule === name);

    expect(schedules).toHaveLength(topology.schedules.length + 2);
    expect(byName("oceans-nightly")).toMatchObject({
      ScheduleExpression: "cron(30 2 * * ? *)",
      ScheduleExpressionTimezone: "Europe/Berlin",
      State: "ENABLED",
    });
    expect(JSON.parse(byName("oceans-nightly")?.Target.Input ?? "{}")).toEqual({
      schedule: "oceans-nightly",
      scheduledTime: "<aws.scheduler.scheduled-time>",
      selector: { names: ["ocean-*"], tags: { team: "oceans" } },
    });
    expect(byName("weekly")).toMatchObject({
      ScheduleExpression: "rate(7 days)",
      State: "DISABLED",
    });
    for (const fn of Object.values(template.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.Environment.Variables.SIMSNAP_SNAPSHOT_PREFIX).toBe("team/sims");
    }
  });

  it("refuses at synth a schedule in seconds, saying that seconds are local-only", () => {
    const file = writeConfig({ schedules: [{ name: "fast", expression: "rate(10 seconds)" }] });
    expect(() =>
      createSimsnapApp({ outdir: outdir(), context: { ...withoutBundling, config: file } }),
    ).toThrow(/schedules\.0\.expression: .*only the local runtime runs/);
  });
});

describe("owned prefixes", () => {
  const withoutBundling = { "aws:cdk:bundling-stacks": [] };
  const snapshotObjects = (template: StatefulStack, path: string) => ({
    "Fn::Join": ["", [{ "Fn::ImportValue": template.snapshotBucketArnExport }, path]],
  });
  const statementsOf = (stack: StatelessStack, name: FunctionName) =>
    roleStatements(
      Template.fromStack(stack),
      logicalId(stack.functions[name].role.node.defaultChild),
    );
  const snapshotRule = (template: Template) =>
    Object.values(template.findResources("AWS::Events::Rule"))
      .map(
        (r) =>
          (r.Properties as { EventPattern: { source?: string[]; detail?: Json } }).EventPattern,
      )
      .find((pattern) => pattern.source?.[0] === "aws.s3");

  it("routes only snapshot files in the destination prefix's snapshot folder", () => {
    expect(snapshotRule(compute)?.detail).toMatchObject({
      object: { key: [{ wildcard: "simsnap/snapshot/*.zip" }] },
    });
  });

  it("lets prune and the API delete only in the snapshot and trash folders of the destination prefix", () => {
    for (const name of ["prune", "api"] as const) {
      const deletes = statementsOf(stateless, name).filter((s) =>
        actionsOf([s]).includes("s3:DeleteObject"),
      );
      expect(deletes, name).toEqual([
        expect.objectContaining({
          Action: "s3:DeleteObject",
          Resource: snapshotObjects(stateful, "/simsnap/snapshot/*"),
        }),
        // The trash: a deleted file copied in, an undeleted copy removed.
        expect.objectContaining({
          Action: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
          Resource: snapshotObjects(stateful, "/simsnap/trash/*"),
        }),
      ]);
    }
  });

  it("reads snapshot files under the destination prefix only", () => {
    const reads = statementsOf(stateless, "complete-snapshot").filter((s) =>
      actionsOf([s]).includes("s3:GetObject"),
    );
    expect(reads).toEqual([
      expect.objectContaining({ Resource: snapshotObjects(stateful, "/simsnap/*") }),
    ]);
  });

  it("extends routing, reads and deletes to the prefixes the config file adopts, and no further", () => {
    const file = join(outdir(), "simsnap.config.json");
    writeFileSync(file, JSON.stringify({ destination: { adoptPrefixes: ["otherteam"] } }));
    const built = createSimsnapApp({
      outdir: outdir(),
      context: { ...withoutBundling, config: file },
    });
    const template = Template.fromStack(built.stateless);
    expect(snapshotRule(template)?.detail).toMatchObject({
      object: {
        key: [{ wildcard: "simsnap/snapshot/*.zip" }, { wildcard: "otherteam/snapshot/*.zip" }],
      },
    });
    for (const f of Object.values(template.findResources("AWS::Lambda::Function"))) {
      expect(f.Properties.Environment.Variables.SIMSNAP_ADOPTED_PREFIXES).toBe("otherteam");
    }
    const deletes = statementsOf(built.stateless, "prune").filter((s) =>
      actionsOf([s]).includes("s3:DeleteObject"),
    );
    // The snapshot folders, and the trash folders beside them.
    expect(deletes).toHaveLength(2);
    // minimizePolicies sorts the resources of a statement.
    expect(deletes[0]?.Resource).toEqual(
      expect.arrayContaining([
        snapshotObjects(built.stateful, "/simsnap/snapshot/*"),
        snapshotObjects(built.stateful, "/otherteam/snapshot/*"),
      ]),
    );
    expect(deletes[0]?.Resource).toHaveLength(2);
    expect(deletes[1]?.Resource).toEqual(
      expect.arrayContaining([
        snapshotObjects(built.stateful, "/simsnap/trash/*"),
        snapshotObjects(built.stateful, "/otherteam/trash/*"),
      ]),
    );
    expect(deletes[1]?.Resource).toHaveLength(2);
  });

  it("adopts nothing by default: no SIMSNAP_ADOPTED_PREFIXES anywhere", () => {
    for (const f of Object.values(compute.findResources("AWS::Lambda::Function"))) {
      expect(f.Properties.Environment.Variables.SIMSNAP_ADOPTED_PREFIXES).toBeUndefined();
    }
  });
});
