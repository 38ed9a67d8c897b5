import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
/** Each request is one invocation of the api function, and a "Request" INFO line of its logger. */
const REQUESTS = 3;

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "simsnap-logs-test-"));
  config = join(dir, "simsnap.config.json");
  await writeFile(config, JSON.stringify({ local: { simulations: [{ name: "alpha" }] } }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A line of standard output that is a Powertools log record, parsed. */
type LogRecord = { level: string; message: string; function_name?: string } & Record<
  string,
  unknown
>;

/**
 * Runs `simsnap local` (what `npm start` runs) in a child process with `POWERTOOLS_LOG_LEVEL` as
 * given, calls its API a few times once it is up, stops it with SIGINT and returns its output.
 */
async function runStack(
  name: string,
  logLevel: string | undefined,
): Promise<{ lines: string[]; records: LogRecord[]; code: number | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.POWERTOOLS_LOG_LEVEL;
  if (logLevel !== undefined) env.POWERTOOLS_LOG_LEVEL = logLevel;
  const args = ["--import", "tsx", join(REPO_ROOT, "cli/bin.ts"), "local", "--port", "0"];
  args.push("--data-dir", join(dir, name), "--config", config, "--no-restore-demo");
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: "pipe" });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const lines: string[] = [];
  let calls: Promise<void> | undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    const api = /^\s*API (http:\/\/\S+)/.exec(line)?.[1];
    if (!api) return;
    calls = (async () => {
      for (let i = 0; i < REQUESTS; i++) expect((await fetch(`${api}/healthz`)).status).toBe(200);
      child.kill("SIGINT");
    })();
  });
  const code = await exited;
  await calls;
  const records = lines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Partial<LogRecord>;
      return typeof parsed.level === "string" ? [parsed as LogRecord] : [];
    } catch {
      return [];
    }
  });
  return { lines, records, code };
}

describe("the local stack's console", () => {
  it("prints no Powertools INFO lines by default, and the requested ones with POWERTOOLS_LOG_LEVEL=INFO", async () => {
    const [quiet, verbose] = await Promise.all([
      runStack("quiet", undefined),
      runStack("verbose", "INFO"),
    ]);

    // Both ran, served the requests and stopped cleanly with the summary as their last line.
    for (const run of [quiet, verbose]) {
      expect(run.code, run.lines.join("\n")).toBe(0);
      expect(run.lines).toContainEqual(expect.stringContaining("simsnap local stack is up"));
      expect(run.lines.at(-1)).toMatch(/^\{"simulations":\[\{"name":"alpha"/);
      // --no-restore-demo: not even "nothing to restore".
      expect(run.lines.filter((line) => line.includes("↺"))).toEqual([]);
    }
    // The runtime sets POWERTOOLS_LOG_LEVEL=ERROR for the functions: below that, nothing.
    expect(quiet.records.filter((r) => r.level !== "ERROR" && r.level !== "CRITICAL")).toEqual([]);
    // Asked for, every request's line is there, each saying it came from the api function.
    const requests = verbose.records.filter((r) => r.level === "INFO" && r.message === "Request");
    expect(requests).toHaveLength(REQUESTS);
    for (const request of requests) {
      expect(request).toMatchObject({ function_name: "api", path: "/healthz", status: 200 });
    }
    expect(new Set(requests.map((r) => r.function_request_id)).size).toBe(REQUESTS);
  }, 60_000);
});
