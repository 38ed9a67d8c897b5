import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

interface Run {
  child: ChildProcess;
  dataDir: string;
  lines: string[];
  /** Resolves with the first line that matches, once it is printed. */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

const runs: Run[] = [];

/**
 * `npm start` as a person runs it in a terminal: its own process group (npm, sh, tsx and node),
 * so a signal sent to the group reaches every one of them, as Ctrl-C does.
 */
function npmStart(): Run {
  const dir = mkdtempSync(join(tmpdir(), "simsnap-interrupt-"));
  const config = join(dir, "simsnap.config.json");
  writeFileSync(
    config,
    JSON.stringify({
      schedules: [
        { name: "often", expression: "rate(1 minute)", localExpression: "rate(2 seconds)" },
      ],
      local: { simulations: [{ name: "alpha" }] },
    }),
  );
  const dataDir = join(dir, "data");
  const child = spawn(
    "npm",
    ["start", "--silent", "--", "--port", "0", "--data-dir", dataDir, "--config", config],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // A first run: nothing transformed yet, so a module loaded after Ctrl-C would need tsx's
      // esbuild service, which the Ctrl-C stopped too.
      env: { ...process.env, TSX_DISABLE_CACHE: "1" },
    },
  );
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = "";
  const take = (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const wait of waiting.filter((w) => w.pattern.test(line))) wait.resolve(line);
    }
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const run: Run = {
    child,
    dataDir,
    lines,
    exited,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen !== undefined) return resolve(seen);
        waiting.push({ pattern, resolve });
        void exited.then(() =>
          reject(new Error(`ended without printing ${pattern}:\n${lines.join("\n")}`)),
        );
      }),
  };
  runs.push(run);
  return run;
}

/** Ctrl-C in the terminal: SIGINT to the whole process group. */
const ctrlC = (run: Run) => process.kill(-(run.child.pid ?? 0), "SIGINT");

afterEach(() => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null) {
      try {
        process.kill(-(run.child.pid ?? 0), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(join(run.dataDir, ".."), { recursive: true, force: true });
  }
});

describe("npm start in a terminal", () => {
  it("finds itself for the CLI, and ends on Ctrl-C as cleanly as --duration does", async () => {
    const run = npmStart();
    const api = (await run.line(/^ {2}API http:\/\/127\.0\.0\.1:\d+ /)).split(/\s+/)[2]!;
    // `--port 0` and another data dir: the hint names this stack's endpoint, the file records it.
    expect(run.lines).toContain(
      `  API ${api}  (try: npm run --silent simsnap -- checkpoints list --endpoint ${api})`,
    );
    const endpointFile = join(run.dataDir, "api-endpoint.json");
    expect(JSON.parse(readFileSync(endpointFile, "utf8"))).toMatchObject({ endpoint: api });
    await run.line(/✓ checkpoint complete {2}alpha/);

    ctrlC(run);
    // tsx relays the signal again when the stack is slow to tell it that it got one: a copy of
    // the same Ctrl-C a moment later, sent here on purpose so that the test does not depend on
    // that race.
    await new Promise((resolve) => setTimeout(resolve, 100));
    ctrlC(run);
    // npm then reports the interrupt itself (status 130), as for any script a Ctrl-C ended.
    await run.exited;
    const out = run.lines.join("\n");
    expect(out).toContain(
      "Ctrl-C: stopping cleanly (open jobs, restore demo, summary); Ctrl-C again quits at once",
    );
    expect(out).toMatch(/stopping: letting snapshots and prunes in flight finish/);
    expect(out).toMatch(/↺ checkpoint restored {2}alpha/);
    const summary = JSON.parse(run.lines.at(-1) ?? "{}") as {
      simulations?: { name: string; checkpoints: { COMPLETE: number } }[];
    };
    expect(summary.simulations?.[0]?.name).toBe("alpha");
    expect(summary.simulations?.[0]?.checkpoints.COMPLETE).toBeGreaterThan(0);
    // The relayed copies of the one Ctrl-C did not count as a second one.
    expect(out).not.toContain("quitting at once");
    expect(existsSync(endpointFile)).toBe(false);
  }, 180_000);

  it("quits at once on a second Ctrl-C", async () => {
    const run = npmStart();
    await run.line(/simsnap local stack is up/);
    ctrlC(run);
    await run.line(/^Ctrl-C: stopping cleanly/);
    // A person's second press, well after npm's and tsx's copies of the first.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    ctrlC(run);
    await run.exited;
    const out = run.lines.join("\n");
    expect(out).toContain("Ctrl-C again: quitting at once, without the clean stop");
    expect(out).not.toMatch(/↺ checkpoint restored|"simulations":/);
  }, 180_000);
});
