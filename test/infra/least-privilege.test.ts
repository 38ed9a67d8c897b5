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
  Condition?: unknown;
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
  "dynamodb:UpdateItem": "the simulation registry's newest completion, raised and never lowered",
  "dynamodb:BatchGetItem":
    "a tick reads the registry and tag cache, a prune its batches of checkpoints, 100 keys a request",
  "dynamodb:BatchWriteItem": "a tick writes the tags it read again, 25 a request",
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
  "s3:ListBucketMultipartUploads":
    "an upload in progress under a files checkpoint keeps it PENDING (files bucket only)",
  "s3:PutObject":
    "archive copies and manifests, prune reports, restored files, trash copies and undeleted files",
  "s3:AbortMultipartUpload": "cleaning up a failed multipart copy",
  "s3:DeleteObject":
    "retention, archive retention, DELETE /checkpoints/{id}, the trash's purge and undelete",
  "s3:RestoreObject": "thawing a cold archive for a restore",
  "simspaceweaver:ListSimulations": "schedule selectors and GET /simulations",
  "simspaceweaver:DescribeSimulation": "status checks, stops, restores",
  "simspaceweaver:ListTagsForResource": "schedule selectors by tag",
  "simspaceweaver:CreateSnapshot": "take-snapshot",
  "simspaceweaver:StopSimulation": "stops with a final snapshot",
  "simspaceweaver:StartSimulation": "restores start a new simulation from a snapshot",
  "simspaceweaver:DeleteSimulation": "restore tests delete the throwaway simulation they started",
  "iam:PassRole": "restores start the simulation with the simulation role",
  "secretsmanager:GetSecretValue":
    "the NVIDIA Air API token, by the functions that declare Air operations, on its secret only",
  "lambda:InvokeFunction":
    "each schedule invokes its one target; verify-checkpoint the configured user check alone",
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
    JSON.stringify({
      providers: {
        // Kept on beside Air and files (it would be off by default), so its grants are audited.
        simspaceweaver: { enabled: true },
        air: { endpoint: "https://air.example.com/api/v3/" },
        // Checkpoint files of other tools, in the snapshot bucket: their grants are audited too.
        files: { sources: [{ prefix: "training/runs", preset: "huggingface" }] },
      },
    }),
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

  it("deletes and reads snapshot-bucket objects only under the owned prefix or a files source, never the whole bucket", () => {
    const snapshotBucket = JSON.stringify({ "Fn::ImportValue": stateful.snapshotBucketArnExport });
    // The files source lives in the snapshot bucket here: its objects are the only others.
    const scoped = {
      "s3:DeleteObject": ["/simsnap/snapshot/*", "/simsnap/trash/*", "/training/runs/*"],
      "s3:GetObject": ["/simsnap/*", "/training/runs/*"],
    };
    const seen = new Set<string>();
    for (const { statement } of allows()) {
      for (const [action, paths] of Object.entries(scoped)) {
        if (!listOf(statement.Action).includes(action)) continue;
        for (const resource of listOf(statement.Resource)) {
          const rendered = JSON.stringify(resource);
          if (!rendered.includes(snapshotBucket)) continue;
          expect(
            paths.map((path) =>
              JSON.stringify({ "Fn::Join": ["", [JSON.parse(snapshotBucket), path]] }),
            ),
            action,
          ).toContain(rendered);
          seen.add(`${action} ${rendered}`);
        }
      }
    }
    // Each path is granted somewhere: simsnap's own, and the source's (discover-files reads it).
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it("writes the trash only where files go to it or leave it, and copies back only where undeleting", () => {
    const at = (path: string) =>
      JSON.stringify({
        "Fn::Join": ["", [{ "Fn::ImportValue": stateful.snapshotBucketArnExport }, path]],
      });
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const snapshots = (topology.functions[name].needs as { snapshots?: Json }).snapshots ?? {};
      const puts = grantsOf(name).get("s3:PutObject") ?? [];
      const deletes = grantsOf(name).get("s3:DeleteObject") ?? [];
      expect(puts.includes(at("/simsnap/trash/*")), name).toBe(snapshots.trash === "write");
      expect(deletes.includes(at("/simsnap/trash/*")), name).toBe(snapshots.trash !== undefined);
      expect(puts.includes(at("/simsnap/snapshot/*")), name).toBe(snapshots.undelete === true);
    }
    // The API undeletes; prune moves files into the trash; the purge only deletes there.
    expect(topology.functions.api.needs.snapshots).toMatchObject({
      trash: "write",
      undelete: true,
    });
    expect(topology.functions["purge-trash"].needs.snapshots).toMatchObject({ trash: "delete" });
    expect(topology.functions.prune.needs.snapshots).not.toHaveProperty("undelete");
    expect(topology.functions["purge-trash"].needs.snapshots).not.toHaveProperty("undelete");
  });

  it("moves sets of files to the trash and back: copies back into the sources only where undeleting or restoring", () => {
    const source = JSON.stringify({
      "Fn::Join": [
        "",
        [{ "Fn::ImportValue": stateful.snapshotBucketArnExport }, "/training/runs/*"],
      ],
    });
    const writers: string[] = [];
    const deleters: string[] = [];
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      if ((grantsOf(name).get("s3:PutObject") ?? []).includes(source)) writers.push(name);
      if ((grantsOf(name).get("s3:DeleteObject") ?? []).includes(source)) deleters.push(name);
    }
    // The API's undelete copies a trashed set back; a restore writes under a source's prefix.
    expect(writers.sort()).toEqual(["api", "restore-checkpoint"]);
    // Prune and DELETE remove a set's originals once its copies are in the trash; the purge
    // removes what a move that died half-way left; a restore removes a copy that did not match.
    expect(deleters.sort()).toEqual(["api", "prune", "purge-trash", "restore-checkpoint"]);
  });

  it("lists the files bucket only under the sources' prefixes, for exactly the functions that declare files reads", () => {
    const bucket = { "Fn::ImportValue": stateful.snapshotBucketArnExport };
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const role = logicalId(stateless.functions[name].role.node.defaultChild);
      const files = (topology.functions[name].needs as { files?: { read?: boolean } }).files;
      const listings = allows().filter(
        ({ roles, statement }) =>
          roles.includes(role) &&
          listOf(statement.Action).includes("s3:ListBucket") &&
          statement.Condition !== undefined,
      );
      expect(
        listings.map(({ statement }) => [statement.Resource, statement.Condition]),
        name,
      ).toEqual(
        files?.read
          ? [[bucket, { StringLike: { "s3:prefix": ["training/runs", "training/runs/*"] } }]]
          : [],
      );
      const uploads = grantsOf(name).get("s3:ListBucketMultipartUploads") ?? [];
      expect(uploads, name).toEqual(files?.read ? [JSON.stringify(bucket)] : []);
    }
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
        const item = ["Get", "Put", "Update", "Delete", "BatchGet", "BatchWrite"].includes(
          command ?? "",
        );
        operations.add(`dynamodb:${item ? `${command}Item` : command}`);
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
