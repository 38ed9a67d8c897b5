import { CommandUserCheck } from "../adapters/user-check/command.ts";
import type { UserCheck } from "../ports/user-check.ts";
import type { FunctionName } from "../topology.ts";
import { needsOf, once, undeclared } from "./declared.ts";
import { settingsFor } from "./settings.ts";

/**
 * The restore tests' user check for function `name`, as its deployment configured it: a Lambda
 * function in AWS, a command locally, or none (undefined). Only a function that declares
 * `userCheck` may run it, as only that one is granted the invoke. The Lambda one signs its invoke
 * with the SDK's credential chain, imported at its first run, not at every cold start.
 */
export function userCheck(name: FunctionName): UserCheck | undefined {
  if (needsOf(name).userCheck !== true) throw undeclared(name, "the restore tests' user check");
  const settings = settingsFor(name);
  const check = settings.SIMSNAP_VERIFICATION_CHECK;
  if (!check) return undefined;
  if (!("lambdaArn" in check)) return new CommandUserCheck(check.command);
  const { lambdaArn } = check;
  const region = settings.AWS_REGION;
  const load = once(async () => {
    const { LambdaUserCheck } = await import("../adapters/user-check/lambda.ts");
    return new LambdaUserCheck(lambdaArn, { region });
  });
  return {
    description: `Lambda ${lambdaArn}`,
    run: async (input, timeoutMs) => (await load()).run(input, timeoutMs),
  };
}
