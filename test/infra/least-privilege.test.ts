import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimsnapApp } from "../../infra/app.ts";
import { callsAir } from "../../lib/settings.ts";
import type { StatefulStack } from "../../infra/stateful-stack.ts";
import type { StatelessStack } from "../../infra/stateless-stack.ts";
import {
  topology,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
} from "../../lib/topology.ts";

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
}

/**
 * Every action any simsnap role may perform, and why. A grant of anything else fails the test
 * below, and so does an entry here that no role uses any more: the list is the audit.
 */
const ACTIONS: Record<string, string> = {
  "logs:CreateLogStream": "each function writes its own log group, and no other",
  "logs:PutLogEvents": "each function writes its own log group, and no other",
  "xray:PutTraceSegments": "active tracing",
  "xray:PutTelemetryRecords": "active tracing",
  "dynamodb:GetItem": "the catalog stores read records by key",
  "dynamodb:PutItem": "the catalog stores write every record with a conditional put",
  "dynamodb:Query": "the catalog stores list by simulation and open jobs (table and indexes)",
  "dynamodb:Scan":
    "GET /jobs across simulations (the API, on the table: jobs have no registry); the sweeper's open jobs (the sparse openJobs index only)",
  "events:PutEvents": "state changes are published on the simsnap bus",
  "sqs:SendMessage": "requests and delayed checks to the topology's queues",
  "sqs:GetQueueAttributes": "part of CDK's send and consume grants",
  "sqs:GetQueueUrl": "part of CDK's send and consume grants",
  "sqs:ReceiveMessage": "the event source mapping reads the consumer's queue",
  "sqs:DeleteMessage": "the event source mapping deletes handled messages",
  "sqs:ChangeMessageVisibility": "retry-later delays of a failed message",
  "s3:GetObject": "HeadObject on snapshot files and archive copies; the source of copies",
  "s3:ListBucket": "listings, and a 404 rather than a 403 for a missing key",
  "s3:PutObject": "archive copies and manifests, prune reports, restored files",
  "s3:AbortMultipartUpload": "cleaning up a failed multipart copy",
  "s3:DeleteObject": "retention, archive retention, DELETE /checkpoints/{id}",
  "s3:RestoreObject": "thawing a cold archive for a restore",
  "simspaceweaver:ListSimulations": "schedule selectors and GET /simulations",
  "simspaceweaver:DescribeSimulation": "status checks, stops, restores",
  "simspaceweaver:ListTagsForResource": "schedule selectors by tag",
  "simspaceweaver:CreateSnapshot": "take-snapshot",
  "simspaceweaver:StopSimulation": "stops with a final snapshot",
  "simspaceweaver:StartSimulation": "restores start a new simulation from a snapshot",
  "iam:PassRole": "restores start the simulation with the simulation role",
  "secretsmanager:GetSecretValue":
    "the NVIDIA Air API token, by the functions that declare Air operations, on its secret only",
  "lambda:InvokeFunction": "each schedule invokes its one target",
};

/** The only actions granted on `Resource: "*"`, because AWS offers nothing narrower. */
const UNSCOPED: Record<string, string> = {
  "xray:PutTraceSegments": "X-Ray supports no resource-level permissions",
  "xray:PutTelemetryRecords": "X-Ray supports no resource-level permissions",
  "simspaceweaver:ListSimulations":
    "SimSpace Weaver's listing supports no resource-level permissions",
};

const simulationRoleArn = "arn:aws:iam::123456789012:role/simulation";
// The CLI's context (feature flags); only templates are read here, so nothing is bundled.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context?: Record<string, unknown>;
};
const withoutBundling = { ...cdkJson.context, "aws:cdk:bundling-stacks": [] };

let outdir: string;
let stateful: StatefulStack;
let stateless: StatelessStack;
let templates: Template[];
let compute: Template;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "simsnap-least-privilege-"));
  // NVIDIA Air configured too (its token secret created by the stack), so its grant is audited.
  const config = join(outdir, "simsnap.config.json");
  writeFileSync(
    config,
    JSON.stringify({ providers: { air: { endpoint: "https://air.example.com/api/v3/" } } }),
  );
  const built = createSimsnapApp({
    outdir,
    context: { ...withoutBundling, simulationRoleArn, config },
  });
  stateful = built.stateful;
  stateless = built.stateless;
  compute = Template.fromStack(stateless);
  templates = [Template.fromStack(stateful), compute];
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const logicalId = (element: unknown): string => {
  const cfn = element as CfnElement;
  return cfn.stack.getLogicalId(cfn);
};
const listOf = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Statements of identity policies: `AWS::IAM::Policy` and roles' inline policies, with the roles. */
function identityStatements(template: Template): { roles: string[]; statement: Statement }[] {
  const found: { roles: string[]; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(template.toJSON().Resources as Record<string, Json>)) {
    const props = (r.Properties ?? {}) as Json;
    if (r.Type === "AWS::IAM::Policy") {
      const roles = listOf(props.Roles as Json[]).map((role) => String(role.Ref));
      for (const statement of (props.PolicyDocument as { Statement: Statement[] }).Statement) {
        found.push({ roles, statement });
      }
    }
    if (r.Type === "AWS::IAM::Role") {
      for (const policy of listOf(props.Policies as Json[])) {
        for (const statement of (policy.PolicyDocument as { Statement: Statement[] }).Statement) {
          found.push({ roles: [id], statement });
        }
      }
    }
  }
  return found;
}

const allIdentityStatements = () => templates.flatMap(identityStatements);
const allows = () =>
  allIdentityStatements().filter(({ statement }) => statement.Effect === "Allow");

/** What a function's role may do, as `action → resources` (rendered to JSON). */
function grantsOf(name: FunctionName): Map<string, string[]> {
  const role = logicalId(stateless.functions[name].role.node.defaultChild);
  const grants = new Map<string, string[]>();
  for (const { roles, statement } of allows()) {
    if (!roles.includes(role)) continue;
    for (const action of listOf(statement.Action)) {
      const resources = listOf(statement.Resource).map((r) => JSON.stringify(r));
      grants.set(action, [...(grants.get(action) ?? []), ...resources]);
    }
  }
  return grants;
}

const queueArn = (name: QueueName) =>
  JSON.stringify({ "Fn::GetAtt": [logicalId(stateless.queues[name].node.defaultChild), "Arn"] });

describe("least privilege", () => {
  it("grants only actions on the audited list, and every action on it is still used", () => {
    const granted = new Set(allows().flatMap(({ statement }) => listOf(statement.Action)));
    expect([...granted].sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  it("grants on Resource * only what AWS cannot scope, and never beside a scoped resource", () => {
    for (const { statement } of allows()) {
      if (!listOf(statement.Resource).includes("*")) continue;
      const actions = listOf(statement.Action);
      for (const action of actions) expect(Object.keys(UNSCOPED), action).toContain(action);
      expect(statement.Resource, actions.join()).toBe("*");
    }
  });

  it("scopes every other grant to simsnap's own resources, the account's simulations or the simulation role", () => {
    const ours = new Set([
      ...Object.keys(compute.toJSON().Resources as Json),
      stateful.snapshotBucketArnExport,
      stateful.archiveBucketArnExport,
    ]);
    const simulations =
      '{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":simspaceweaver:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":simulation/*"]]}';
    for (const { statement } of allows()) {
      for (const resource of listOf(statement.Resource)) {
        if (resource === "*") continue;
        const rendered = JSON.stringify(resource);
        const references = [
          ...rendered.matchAll(/"(?:Ref|Fn::GetAtt|Fn::ImportValue)":\[?"([^"]+)"/g),
        ].map((m) => m[1] ?? "");
        const pointsAtOurs = references.some(
          (ref) => ours.has(ref) || ref.startsWith(`${stateful.stackName}:ExportsOutput`),
        );
        expect(
          pointsAtOurs || rendered === simulations || resource === simulationRoleArn,
          `${listOf(statement.Action).join()} on ${rendered}`,
        ).toBe(true);
      }
    }
  });

  it("deletes and reads snapshot-bucket objects only under the owned prefix, never the whole bucket", () => {
    const snapshotBucket = JSON.stringify({ "Fn::ImportValue": stateful.snapshotBucketArnExport });
    const scoped = { "s3:DeleteObject": "/simsnap/snapshot/*", "s3:GetObject": "/simsnap/*" };
    const seen = new Set<string>();
    for (const { statement } of allows()) {
      for (const [action, path] of Object.entries(scoped)) {
        if (!listOf(statement.Action).includes(action)) continue;
        for (const resource of listOf(statement.Resource)) {
          const rendered = JSON.stringify(resource);
          if (!rendered.includes(snapshotBucket)) continue;
          expect(rendered, action).toBe(
            JSON.stringify({ "Fn::Join": ["", [JSON.parse(snapshotBucket), path]] }),
          );
          seen.add(action);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(scoped).sort());
  });

  it("keeps the alarm key's policy to AWS's default and CloudWatch's use of it", () => {
    const keys = Object.values(compute.findResources("AWS::KMS::Key"));
    expect(keys).toHaveLength(1);
    const statements = (keys[0]?.Properties as { KeyPolicy: { Statement: Statement[] } }).KeyPolicy
      .Statement;
    expect(statements).toEqual([
      // AWS's default key policy: the account's IAM policies decide; without it the key could
      // become unmanageable.
      expect.objectContaining({
        Effect: "Allow",
        Action: "kms:*",
        Principal: {
          AWS: {
            "Fn::Join": [
              "",
              ["arn:", { Ref: "AWS::Partition" }, ":iam::", { Ref: "AWS::AccountId" }, ":root"],
            ],
          },
        },
      }),
      expect.objectContaining({
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Principal: { Service: "cloudwatch.amazonaws.com" },
      }),
    ]);
  });

  it("writes each function's logs to its own log group only", () => {
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const own = JSON.stringify({
        "Fn::GetAtt": [logicalId(stateless.functions[name].logGroup.node.defaultChild), "Arn"],
      });
      expect(grantsOf(name).get("logs:PutLogEvents"), name).toEqual([own]);
    }
  });
});

describe("grants follow lib/topology.ts", () => {
  it("lets each function send to exactly the queues it sends to, and read only the one it consumes", () => {
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const grants = grantsOf(name);
      const sendsTo = [...topology.functions[name].sendsTo].map(queueArn).sort();
      expect([...new Set(grants.get("sqs:SendMessage") ?? [])].sort(), name).toEqual(sendsTo);
      const consumes = (Object.keys(topology.queues) as QueueName[])
        .filter((queue) => topology.queues[queue].consumer === name)
        .map(queueArn);
      expect(grants.get("sqs:ReceiveMessage") ?? [], name).toEqual(consumes);
    }
  });

  it("lets each schedule's role invoke its target, and nothing else", () => {
    const targetArn = (spec: ScheduleSpec) => ({
      "Fn::GetAtt": [
        logicalId(stateless.functions[spec.target].entryPoint(spec.handler).node.defaultChild),
        "Arn",
      ],
    });
    const invokes = allows().filter(({ statement }) =>
      listOf(statement.Action).includes("lambda:InvokeFunction"),
    );
    expect(invokes).toHaveLength(stateless.schedules.length);
    for (const spec of stateless.schedules) {
      expect(invokes.map(({ statement }) => statement)).toContainEqual({
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: targetArn(spec),
      });
    }
  });

  it("lets exactly the functions that declare NVIDIA Air operations read the Air token's secret, and no other", () => {
    const secret = stateful.airTokenSecret?.secret.node.defaultChild;
    const secretArn = JSON.stringify(stateless.resolve(stateful.airTokenSecret?.policyArn));
    expect(secret).toBeDefined();
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const declared = callsAir(topology.functions[name].needs);
      const secrets = [...grantsOf(name).entries()].filter(([action]) =>
        action.startsWith("secretsmanager:"),
      );
      expect(secrets, name).toEqual(
        declared ? [["secretsmanager:GetSecretValue", [secretArn]]] : [],
      );
    }
  });

  it("grants on the catalog exactly the operations the DynamoDB stores send", () => {
    const adapters = new URL("../../lib/adapters/dynamodb/", import.meta.url);
    const operations = new Set<string>();
    for (const file of readdirSync(adapters)) {
      // create-table.ts creates the local runtime's table in dynalite; no function calls it.
      if (file === "create-table.ts") continue;
      const source = readFileSync(new URL(file, adapters), "utf8");
      for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
        operations.add(
          `dynamodb:${command === "Get" || command === "Put" ? `${command}Item` : command}`,
        );
      }
    }
    const granted = new Set(
      (Object.keys(topology.functions) as FunctionName[]).flatMap((name) =>
        [...grantsOf(name).keys()].filter((action) => action.startsWith("dynamodb:")),
      ),
    );
    expect([...granted].sort()).toEqual([...operations].sort());
  });
});
