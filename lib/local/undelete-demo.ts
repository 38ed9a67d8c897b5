import { runCli } from "../../cli/program.ts";
import { loadSimulationCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { catalog } from "../wiring/catalog.ts";
import { checkResumedTick } from "./verify-tick.ts";

/** What the undelete demo needs from the running local stack. */
export interface UndeleteDemoOptions {
  /** The demo simulations, in the config file's order; the first with a trashed checkpoint. */
  simulations: readonly string[];
  /** The running local API, which the CLI is pointed at (`--endpoint`). */
  apiEndpoint: string;
  print: (line: string) => void;
  /** How long the restore may take (`--timeout` of `simsnap restore --wait`). */
  timeoutMs: number;
}

/** SimSpace Weaver's longest simulation name; the suffix below is 18 characters. */
const WEAVER_NAME_MAX = 64;

/**
 * Runs `simsnap …` in this process against the local API, as a user would type it, printing the
 * command and what it writes to stdout (its progress on stderr only when it fails), so the demo
 * shows the CLI's own words rather than a paraphrase of them.
 */
async function simsnap(options: UndeleteDemoOptions, args: string[]): Promise<boolean> {
  options.print(`  $ simsnap ${args.join(" ")}`);
  const err: string[] = [];
  const code = await runCli([...args, "--endpoint", options.apiEndpoint], {
    out: (line) => options.print(`    ${line}`),
    err: (line) => err.push(line),
  });
  if (code !== 0) for (const line of err) options.print(`    ${line}`);
  return code === 0;
}

/**
 * Part of the demo's end, issue 14's "a checkpoint deleted by prune is undeleted through the CLI
 * and restored from afterwards": takes the newest checkpoint that retention moved to the trash,
 * of the first of `simulations` that has one, back out of it with `simsnap checkpoints undelete`,
 * restores a new simulation from it with `simsnap restore --wait`, and asks the simulator's clock
 * (the restore tests' own user check, `verify-tick.ts`) whether the new simulation resumed at the
 * tick the undeleted file recorded: proof the file came back whole, not just its record.
 */
export async function undeleteDemo(options: UndeleteDemoOptions): Promise<void> {
  const { print } = options;
  const { checkpoints } = catalog("api");
  for (const simulation of options.simulations) {
    const trashed = (await loadSimulationCheckpoints(checkpoints, simulation))
      .reverse()
      .find((c) => c.state === "DELETED" && c.trash !== undefined);
    if (!trashed?.location) continue;
    const short = trashed.id.slice(0, 8);
    print(
      `  ↶ undeleting ${short} of ${simulation} (pruned, to be purged after ${trashed.purgeAfter ?? "?"}) through the CLI:`,
    );
    if (!(await simsnap(options, ["checkpoints", "undelete", short]))) return;
    // A SimSpace Weaver name (1–64 of letters, digits, _ . -): the demo's names are such names.
    const target = `${simulation.slice(0, WEAVER_NAME_MAX - 18)}-undeleted-${short}`;
    const timeout = String(Math.ceil(options.timeoutMs / 1000));
    const restore = ["restore", short, "--simulation-name", target, "--maximum-duration", "1h"];
    const waits = ["--wait", "--timeout", timeout, "--interval", "0.5"];
    if (!(await simsnap(options, [...restore, ...waits]))) return;
    const check = await checkResumedTick({
      ...process.env,
      SIMSNAP_VERIFY_THROWAWAY: target,
      SIMSNAP_VERIFY_SNAPSHOT_BUCKET: trashed.location.bucket,
      SIMSNAP_VERIFY_SNAPSHOT_KEY: trashed.location.key,
    });
    print(`  ${check.passed ? "✓" : "✗"} ${target} ${check.detail}`);
    return;
  }
  print("  ↶ nothing is in the trash to undelete: retention removed no snapshot file yet");
}
