import { beforeAll, describe, expect, it } from "vitest";
import { CommandUserCheck } from "../../../lib/adapters/user-check/command.ts";
import { userCheck } from "../../../lib/wiring/user-check.ts";

// The local stack's shape of the setting: a command. Nothing here runs it.
beforeAll(() => {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    SIMSNAP_TABLE: "catalog",
    SIMSNAP_SNAPSHOT_BUCKET: "snapshots",
    SIMSNAP_VERIFICATION_CHECK: JSON.stringify({
      command: ["./check.sh", "-q"],
      timeoutSeconds: 9,
    }),
  });
});

describe("userCheck", () => {
  it("builds the configured check for the function that declares it", () => {
    const check = userCheck("verify-checkpoint");
    expect(check).toBeInstanceOf(CommandUserCheck);
    expect(check?.description).toBe("command ./check.sh -q");
  });

  it("refuses a function that does not declare it, as IAM would refuse the invoke", () => {
    expect(() => userCheck("api")).toThrow(
      "api uses the restore tests' user check, which its needs in lib/topology.ts do not declare",
    );
  });
});
