import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { featureFlags } from "../../infra/app.ts";
import { StatefulStack } from "../../infra/stateful-stack.ts";
import { StatelessStack } from "../../infra/stateless-stack.ts";
import type { FunctionName } from "../../lib/topology.ts";

type Json = Record<string, unknown>;

// The CLI's context (feature flags); only templates are read here, so nothing is bundled.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context?: Record<string, unknown>;
};
const simulationRoleArn = "arn:aws:iam::123456789012:role/simulation";

let outdir: string;
let stateful: StatefulStack;
let stateless: StatelessStack;
let compute: Template;
let data: Template;

/**
 * The stacks with the bucket's root as the destination prefix (`SIMSNAP_SNAPSHOT_PREFIX=""`, which
 * the functions' settings accept): built directly, as the app's own option check is not the
 * subject here, the resource ARNs the grants build from an empty prefix are.
 */
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "simsnap-empty-prefix-"));
  const app = new App({
    outdir,
    context: { ...featureFlags, ...cdkJson.context, "aws:cdk:bundling-stacks": [] },
  });
  stateful = new StatefulStack(app, "SimsnapStateful", { snapshotPrefix: "", simulationRoleArn });
  stateless = new StatelessStack(app, "SimsnapStateless", {
    snapshotBucket: stateful.snapshotBucket,
    snapshotBucketArnExport: stateful.snapshotBucketArnExport,
    catalogTable: stateful.catalogTable,
    eventBus: stateful.eventBus,
    snapshotPrefix: "",
    archiveBucket: stateful.archiveBucket,
    archiveBucketArnExport: stateful.archiveBucketArnExport,
    simulationRoleArn,
  });
  compute = Template.fromStack(stateless);
  data = Template.fromStack(stateful);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const logicalId = (element: unknown): string => {
  const cfn = element as CfnElement;
  return cfn.stack.getLogicalId(cfn);
};

/**
 * Each snapshot-bucket object ARN function `name`'s policies grant `action` on, as the key
 * pattern after the bucket ARN (`Fn::Join` of the imported bucket ARN and `/<pattern>`).
 */
function bucketPatterns(name: FunctionName, action: string): string[] {
  const roleId = logicalId(stateless.functions[name].role.node.defaultChild);
  const statements = Object.values(compute.findResources("AWS::IAM::Policy"))
    .filter((policy) =>
      ((policy.Properties as Json).Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
    )
    .flatMap((policy) => ((policy.Properties as Json).PolicyDocument as Json).Statement as Json[]);
  const patterns: string[] = [];
  for (const statement of statements) {
    const actions = [statement.Action].flat() as string[];
    if (!actions.includes(action)) continue;
    for (const resource of [statement.Resource].flat()) {
      const join = (resource as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
      if (!join) continue;
      const [head, tail] = join[1] as [Json, unknown];
      if (!("Fn::ImportValue" in head) || typeof tail !== "string") continue;
      if (head["Fn::ImportValue"] !== stateful.snapshotBucketArnExport) continue;
      patterns.push(tail);
    }
  }
  return patterns.sort();
}

describe("the stacks with an empty destination prefix", () => {
  it("grants the reports folder at the bucket's root, where prune reports and the reconcile cursor are written", () => {
    // The tail after the bucket ARN: `/reports/*` is the keys `reports/…`; the defect granted
    // `//reports/*`, keys starting with "/", which simsnap never writes, so the PutObject failed.
    expect(bucketPatterns("prune", "s3:PutObject")).toEqual(["/reports/*", "/trash/*"]);
    expect(bucketPatterns("complete-snapshot", "s3:PutObject")).toEqual(["/reports/*"]);
  });

  it("reads, deletes, trashes and restores under the root's own folders, with no leading slash", () => {
    expect(bucketPatterns("complete-snapshot", "s3:GetObject")).toEqual(["/*"]);
    expect(bucketPatterns("prune", "s3:DeleteObject")).toEqual(["/snapshot/*", "/trash/*"]);
    expect(bucketPatterns("restore-checkpoint", "s3:PutObject")).toEqual(["/restore/*"]);
  });

  it("lets the simulation role write snapshot files under `snapshot/` at the bucket's root", () => {
    const policies = Object.values(data.findResources("AWS::S3::BucketPolicy"));
    const statements = policies.flatMap(
      (policy) => ((policy.Properties as Json).PolicyDocument as Json).Statement as Json[],
    );
    const writes = statements.filter((statement) => statement.Sid === "SimulationWritesSnapshots");
    expect(writes).toHaveLength(1);
    const join = (writes[0]?.Resource as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
    expect(join[1].at(-1)).toBe("/snapshot/*");
  });
});
