import { describe, expect, it } from "vitest";
import { runCli } from "../../../cli/program.ts";
import { LocalConfigSchema } from "../../../lib/local/demo-config.ts";
import { chaosBanner } from "../../../lib/local/console-lines.ts";

async function local(...args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const code = await runCli(["local", ...args], { out: () => undefined, err: (l) => err.push(l) });
  return { code, err };
}

describe("simsnap local chaos flags", () => {
  it.each([
    [["--faults", "1.5"], "--faults: must be a number from 0 to 1"],
    [["--faults", "often"], "--faults: must be a number from 0 to 1"],
    [["--drop-events", "-0.1"], "--drop-events: must be a number from 0 to 1"],
    [["--faults", "0.3", "--seed", "1.5"], "--seed: must be an integer from 0 to 4294967295"],
    [["--faults", "0.3", "--seed", "-3"], "--seed: must be an integer from 0 to 4294967295"],
    [["--snapshot-deadline", "0"], "--snapshot-deadline: must be a whole number of seconds from 1"],
    [
      ["--snapshot-deadline", "1.5"],
      "--snapshot-deadline: must be a whole number of seconds from 1",
    ],
    [["--snapshot-deadline", "soon"], "--snapshot-deadline: must be a whole number of seconds"],
  ])("refuses %j before starting anything, naming the flag", async (args, message) => {
    const result = await local(...args);
    expect(result.code).toBe(2);
    expect(result.err[0]).toContain(`error: invalid arguments: ${message}`);
  });

  it("lists the chaos flags and the ones the chaos check passes in --help", async () => {
    const out: string[] = [];
    await runCli(["local", "--help"], { out: (l) => out.push(l), err: (l) => out.push(l) });
    const help = out.join("\n");
    const flags = ["--faults <rate>", "--drop-events <rate>", "--seed <n>"];
    for (const flag of [...flags, "--snapshot-deadline <seconds>", "--no-restore-demo"]) {
      expect(help).toContain(flag);
    }
  });

  it("prints the active faults and the seed in the startup banner", () => {
    const config = LocalConfigSchema.parse({
      chaos: { providerFaults: 0.3, dropEvents: 0.5, seed: 42 },
    });
    expect(chaosBanner(config.chaos!)).toBe(
      "  chaos mode: 30% of SimSpace Weaver calls fail (InternalServerException, " +
        "ThrottlingException or ConflictException, as each operation can); 50% of the snapshot " +
        "bucket's S3 Object Created events are dropped; seed 42 (--seed 42 draws the same " +
        "sequence of faults)",
    );
    expect(chaosBanner({ providerFaults: 0, dropEvents: 0.25, seed: 7 })).toContain(
      "no SimSpace Weaver faults; 25% of the snapshot bucket's S3 Object Created events",
    );
  });
});
