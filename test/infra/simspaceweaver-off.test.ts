import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { createSimsnapApp } from "../../infra/app.ts";
import { topology } from "../../lib/topology.ts";

type Json = Record<string, unknown>;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Both templates of the app deployed from `config` (functions not bundled: templates only). */
function synth(config: unknown): { compute: Template; templates: Template[] } {
  const dir = mkdtempSync(join(tmpdir(), "simsnap-weaver-off-"));
  dirs.push(dir);
  const file = join(dir, "simsnap.config.json");
  writeFileSync(file, JSON.stringify(config));
  const built = createSimsnapApp({
    outdir: dir,
    context: {
      "aws:cdk:bundling-stacks": [],
      config: file,
      simulationRoleArn: "arn:aws:iam::123456789012:role/simulation",
    },
  });
  const compute = Template.fromStack(built.stateless);
  return { compute, templates: [Template.fromStack(built.stateful), compute] };
}

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Every action any identity policy (managed, inline or a role's own) of the templates grants. */
function grantedActions(templates: Template[]): string[] {
  const actions: string[] = [];
  for (const template of templates) {
    for (const resource of Object.values(template.toJSON().Resources as Record<string, Json>)) {
      const props = (resource.Properties ?? {}) as Json;
      const documents =
        resource.Type === "AWS::IAM::Policy"
          ? [props.PolicyDocument]
          : resource.Type === "AWS::IAM::Role"
            ? listOf(props.Policies ?? []).map((p) => (p as Json).PolicyDocument)
            : [];
      for (const document of documents) {
        for (const statement of (document as { Statement: Json[] }).Statement) {
          actions.push(...(listOf(statement.Action) as string[]));
        }
      }
    }
  }
  return actions;
}

/** The event sources of the stateless stack's EventBridge rules. */
const ruleSources = (compute: Template): unknown[] =>
  Object.values(compute.findResources("AWS::Events::Rule")).flatMap((rule) =>
    listOf(((rule.Properties as Json).EventPattern as Json).source),
  );

/** `SIMSNAP_SIMSPACEWEAVER_ENABLED` of every function, by its Lambda resource. */
const switchValues = (compute: Template): unknown[] =>
  Object.values(compute.findResources("AWS::Lambda::Function")).map(
    (fn) =>
      (((fn.Properties as Json).Environment as Json | undefined)?.Variables as Json | undefined)
        ?.SIMSNAP_SIMSPACEWEAVER_ENABLED,
  );

const air = { endpoint: "https://air.example.com/api/v3/" };
const files = { sources: [{ prefix: "training/runs", preset: "huggingface" }] };

describe("a deployment with SimSpace Weaver turned off", () => {
  it("grants SimSpace Weaver's actions and watches its CloudTrail events when it is on (the control)", () => {
    const { compute, templates } = synth({ providers: { simspaceweaver: { enabled: true }, air } });
    const actions = grantedActions(templates);
    expect(actions).toContain("simspaceweaver:ListSimulations");
    expect(actions).toContain("iam:PassRole");
    expect(ruleSources(compute)).toContain("aws.simspaceweaver");
    expect(JSON.stringify(templates.map((t) => t.toJSON()))).toContain(
      "arn:aws:iam::123456789012:role/simulation",
    );
    expect(new Set(switchValues(compute))).toEqual(new Set([undefined]));
  });

  it.each([
    ["Air and files alone (off by default)", { providers: { air, files } }],
    ["enabled: false", { providers: { simspaceweaver: { enabled: false } } }],
  ])(
    "%s: no simspaceweaver action or PassRole in any policy, no CloudTrail rule, every function told",
    (_case, config) => {
      const { compute, templates } = synth(config);
      const actions = grantedActions(templates);
      expect(actions.filter((a) => a.startsWith("simspaceweaver:"))).toEqual([]);
      expect(actions).not.toContain("iam:PassRole");
      // Nor does the snapshot bucket let SimSpace Weaver's simulation role write.
      expect(JSON.stringify(templates.map((t) => t.toJSON()))).not.toContain(
        "arn:aws:iam::123456789012:role/simulation",
      );
      expect(ruleSources(compute)).not.toContain("aws.simspaceweaver");
      const values = switchValues(compute);
      // One Lambda per function, plus CDK's own helpers where the stack has them.
      expect(values.filter((v) => v === "false").length).toBeGreaterThanOrEqual(
        Object.keys(topology.functions).length,
      );
    },
  );
});
