import { CommandUserCheck } from "../adapters/user-check/command.ts";
import { LambdaUserCheck } from "../adapters/user-check/lambda.ts";
import type { UserCheck } from "../ports/user-check.ts";
import type { FunctionName } from "../topology.ts";
import { needsOf, undeclared } from "./declared.ts";
import { settingsFor } from "./settings.ts";

/**
 * The restore tests' user check for function `name`, as its deployment configured it: a Lambda
 * function in AWS, a command locally, or none (undefined). Only a function that declares
 * `userCheck` may run it, as only that one is granted the invoke.
 */
export function userCheck(name: FunctionName): UserCheck | undefined {
  if (needsOf(name).userCheck !== true) throw undeclared(name, "the restore tests' user check");
  const settings = settingsFor(name);
  const check = settings.SIMSNAP_VERIFICATION_CHECK;
  if (!check) return undefined;
  return "lambdaArn" in check
    ? new LambdaUserCheck(check.lambdaArn, { region: settings.AWS_REGION })
    : new CommandUserCheck(check.command);
}
