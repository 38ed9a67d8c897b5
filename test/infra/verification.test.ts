import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import type { CfnElement } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimsnapApp } from "../../infra/app.ts";
import type { StatelessStack } from "../../infra/stateless-stack.ts";
import { VERIFICATION_SCHEDULE } from "../../lib/topology.ts";

type Json = Record<string, unknown>;
const CHECK = "arn:aws:lambda:us-east-1:123456789012:function:my-restore-check";
const dir = mkdtempSync(join(tmpdir(), "simsnap-verify-infra-"));
let stack: StatelessStack;
let template: Template;

beforeAll(() => {
  const config = join(dir, "simsnap.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      verification: {
        expression: "cron(0 4 * * ? *)",
        selector: { names: ["ocean-*"] },
        maxConcurrent: 3,
        maximumDuration: "45m",
        check: { lambdaArn: CHECK, command: ["./local-check.sh"], timeoutSeconds: 120 },
      },
    }),
  );
  const built = createSimsnapApp({
    outdir: join(dir, "out"),
    context: {
      "aws:cdk:bundling-stacks": [],
      config,
      simulationRoleArn: "arn:aws:iam::123456789012:role/simulation",
    },
  });
  stack = built.stateless;
  template = Template.fromStack(stack);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logicalId = (element: unknown): string => {
  const cfn = element as CfnElement;
  return cfn.stack.getLogicalId(cfn);
};

/** Every action a function's role policies allow, with the resources they name. */
function statementsOf(name: "verify-checkpoint" | "plan-verifications" | "api"): Json[] {
  const roleId = logicalId(stack.functions[name].role.node.defaultChild);
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) =>
      ((policy.Properties as Json).Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
    )
    .flatMap((policy) => ((policy.Properties as Json).PolicyDocument as Json).Statement as Json[]);
}

describe("restore tests in the stack", () => {
  it("schedules plan-verifications with the selection and the cost guard in its input", () => {
    const schedule = Object.values(template.findResources("AWS::Scheduler::Schedule")).find((s) =>
      String(((s.Properties as Json).Target as Json).Input).includes(`"${VERIFICATION_SCHEDULE}"`),
    );
    const properties = schedule?.Properties as Json;
    expect(properties.ScheduleExpression).toBe("cron(0 4 * * ? *)");
    const input = JSON.parse(String((properties.Target as Json).Input)) as Json;
    expect(input).toMatchObject({
      schedule: VERIFICATION_SCHEDULE,
      selector: { names: ["ocean-*"] },
      maxConcurrent: 3,
      maximumDuration: "45m",
      checkpoints: { latest: true, favorites: false, sample: 0 },
    });
  });

  it("lets verify-checkpoint alone invoke the user check's function, and gives it the Lambda part only", () => {
    const invokes = (name: "verify-checkpoint" | "plan-verifications" | "api") =>
      statementsOf(name).filter((s) => s.Action === "lambda:InvokeFunction");
    expect(invokes("verify-checkpoint")).toEqual([
      { Effect: "Allow", Action: "lambda:InvokeFunction", Resource: CHECK },
    ]);
    expect(invokes("plan-verifications")).toEqual([]);
    expect(invokes("api")).toEqual([]);
    const variables = (name: "verify-checkpoint" | "plan-verifications") =>
      (
        (
          template.findResources("AWS::Lambda::Function")[
            logicalId(stack.functions[name].function.node.defaultChild)
          ]?.Properties as Json
        ).Environment as { Variables: Json }
      ).Variables;
    expect(JSON.parse(String(variables("verify-checkpoint").SIMSNAP_VERIFICATION_CHECK))).toEqual({
      lambdaArn: CHECK,
      timeoutSeconds: 120,
    });
    expect(variables("plan-verifications").SIMSNAP_VERIFICATION_CHECK).toBeUndefined();
  });
});
