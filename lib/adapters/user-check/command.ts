import { spawn } from "node:child_process";
import type { UserCheck, UserCheckInput, UserCheckResult } from "../../ports/user-check.ts";

/** Most output kept from a check, for its verdict's detail. */
const OUTPUT_LIMIT = 4096;

/** The last non-empty line of `text`, the part of a check's output that says what it found. */
const lastLine = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .at(-1) ?? "";

/**
 * The user check as a local command (config `verification.check.command`, the local stack's):
 * the program runs with the test's details in its environment (`SIMSNAP_VERIFY_*`) and as JSON
 * on its standard input; exit code 0 passes, anything else fails, and its last line of output is
 * the detail. A command that runs past the timeout is killed and the test fails, so a hung check
 * never keeps a throwaway simulation alive; one that cannot be started fails the same way.
 */
export class CommandUserCheck implements UserCheck {
  readonly description: string;

  constructor(private readonly command: readonly string[]) {
    this.description = `command ${command.join(" ")}`;
  }

  run(input: UserCheckInput, timeoutMs: number): Promise<UserCheckResult> {
    const [program, ...args] = this.command;
    return new Promise((resolve) => {
      let stdout = "";
      let stderr = "";
      let settled = false;
      const settle = (result: UserCheckResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const child = spawn(program ?? "", args, {
        stdio: ["pipe", "pipe", "pipe"],
        env: {
          ...process.env,
          SIMSNAP_VERIFY_JOB_ID: input.jobId,
          SIMSNAP_VERIFY_CHECKPOINT_ID: input.checkpointId,
          SIMSNAP_VERIFY_SIMULATION: input.simulation,
          SIMSNAP_VERIFY_PROVIDER: input.provider,
          SIMSNAP_VERIFY_THROWAWAY: input.throwaway,
          ...(input.snapshot
            ? {
                SIMSNAP_VERIFY_SNAPSHOT_BUCKET: input.snapshot.bucket,
                SIMSNAP_VERIFY_SNAPSHOT_KEY: input.snapshot.key,
              }
            : {}),
        },
      });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        settle({
          status: "FAILED",
          detail: `timed out after ${timeoutMs / 1000} s and was killed`,
        });
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout = (stdout + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
      });
      child.on("error", (error) =>
        settle({ status: "FAILED", detail: `could not be run: ${error.message}` }),
      );
      child.on("close", (code, signal) => {
        if (code === 0) {
          settle({ status: "PASSED", detail: lastLine(stdout) || "exited with 0" });
          return;
        }
        const said = lastLine(stderr) || lastLine(stdout);
        const how = code === null ? `was ended by ${signal}` : `exited with ${code}`;
        settle({ status: "FAILED", detail: said ? `${how}: ${said}` : how });
      });
      // A check that does not read its input must not fail on a closed pipe.
      child.stdin.on("error", () => undefined);
      child.stdin.end(JSON.stringify(input));
    });
  }
}
