import { describe, expect, it } from "vitest";
import { CommandUserCheck } from "../../../../lib/adapters/user-check/command.ts";

const input = {
  jobId: "job-1",
  checkpointId: "cp-1",
  simulation: "ocean",
  provider: "simspaceweaver",
  throwaway: "simsnap-verify-0123456789abcdef",
  snapshot: { bucket: "b", key: "simsnap/snapshot/ocean.zip" },
};
const node = (script: string) => new CommandUserCheck([process.execPath, "-e", script]);

describe("CommandUserCheck", () => {
  it("passes on exit 0 with its last line as the detail, and hands the test over in env and stdin", async () => {
    const check = node(
      `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const i=JSON.parse(s);` +
        `console.log("noise");console.log(process.env.SIMSNAP_VERIFY_THROWAWAY+" "+i.checkpointId+" "+process.env.SIMSNAP_VERIFY_SNAPSHOT_KEY)})`,
    );
    expect(await check.run(input, 10_000)).toEqual({
      status: "PASSED",
      detail: "simsnap-verify-0123456789abcdef cp-1 simsnap/snapshot/ocean.zip",
    });
  });

  it("fails on another exit code, saying what the command said", async () => {
    const check = node(`console.error("resumed at tick 0");process.exit(3)`);
    expect(await check.run(input, 10_000)).toEqual({
      status: "FAILED",
      detail: "exited with 3: resumed at tick 0",
    });
  });

  it("kills a command that outlives its timeout, and fails", async () => {
    const check = node(`setTimeout(()=>{},60000)`);
    expect(await check.run(input, 300)).toEqual({
      status: "FAILED",
      detail: "timed out after 0.3 s and was killed",
    });
  });

  it("fails when the command cannot be run at all", async () => {
    const result = await new CommandUserCheck(["/nonexistent/check"]).run(input, 5_000);
    expect(result.status).toBe("FAILED");
    expect(result.detail).toMatch(/^could not be run: .*ENOENT/);
  });
});
