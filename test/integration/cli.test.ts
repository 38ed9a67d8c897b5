import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/program.ts";
import { SIMSNAP_VERSION } from "../../lib/version.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

let stack: RunningStack;

/** Runs `simsnap …` in this process against the local stack, as a user would type it. */
async function simsnap(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, "--endpoint", stack.info.apiEndpoint], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out, err };
}

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const json = <T>(result: { out: string[] }): T => JSON.parse(result.out.join("\n")) as T;

beforeAll(async () => {
  stack = await startLocalStack({ simulations: ["alpha"] });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("simsnap against the local stack", () => {
  let checkpointId: string;
  let jobId: string;
  /** A checkpoint renamed through its short id, so the prune plan shows that name. */
  let namedId: string;

  it("snapshot --wait shows progress and ends with the SUCCEEDED job", async () => {
    const result = await simsnap(
      "snapshot",
      "alpha",
      "--name",
      "from the cli",
      "--tag",
      "cli",
      "--tag",
      "demo",
      "--wait",
      "--interval",
      "0.2",
      "--json",
    );
    expect(result.code, result.err.join("\n")).toBe(0);
    const job = json<{ id: string; status: string; checkpointId: string }>(result);
    expect(job.status).toBe("SUCCEEDED");
    expect(result.err[0]).toBe(`snapshot of alpha requested: job ${job.id}`);
    expect(
      result.err.some((line) => line.includes(`snapshot alpha ${job.id.slice(0, 8)}: RUNNING`)),
    ).toBe(true);
    checkpointId = job.checkpointId;
    jobId = job.id;
  }, 60_000);

  it("checkpoints list shows a table, or JSON, with filters", async () => {
    const table = await simsnap("checkpoints", "list", "--tag", "cli", "--simulation", "alpha");
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(
      /^ID\s+SIMULATION\s+STATE\s+FAV\s+VERIFIED\s+CREATED\s+SIZE\s+NAME\s+TAGS$/,
    );
    expect(table.out[1]).toMatch(
      new RegExp(`^${checkpointId}\\s+alpha\\s+COMPLETE\\s+.*from the cli\\s+cli,demo$`),
    );
    const listed = json<{ id: string }[]>(
      await simsnap("checkpoints", "list", "--state", "COMPLETE", "--search", "FROM THE", "--json"),
    );
    expect(listed.map((c) => c.id)).toEqual([checkpointId]);
    const none = await simsnap("checkpoints", "list", "--tag", "nothing-has-this");
    expect(none.out).toEqual(["no checkpoints match"]);
  });

  it("checkpoints list stops at --limit and says more match", async () => {
    for (let i = 0; i < 3; i++) {
      await stack.catalog.create({
        id: `cli-seed-${i}`,
        version: 1,
        simulation: "elsewhere",
        provider: "simspaceweaver",
        name: `seed ${i}`,
        description: "",
        tags: ["bulk"],
        favorite: false,
        state: "COMPLETE",
        trigger: "discovered",
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        modifiedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      });
    }
    const result = await simsnap(
      "checkpoints",
      "list",
      "--tag",
      "bulk",
      "--ordering",
      "name",
      "--limit",
      "2",
    );
    expect(result.out.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([
      "cli-seed-0",
      "cli-seed-1",
      "(first",
    ]);
  });

  it("checkpoints show, rename, favorite and unfavorite", async () => {
    const shown = await simsnap("checkpoints", "show", checkpointId);
    expect(shown.code).toBe(0);
    expect(shown.out).toEqual(
      expect.arrayContaining([
        `id:         ${checkpointId}`,
        "name:       from the cli",
        "state:      COMPLETE",
        "favorite:   no",
        "tags:       cli, demo",
      ]),
    );
    expect(
      shown.out.some((line) =>
        /^file:\s+s3:\/\/simsnap-snapshots\/simsnap\/snapshot\/alpha-/.test(line),
      ),
    ).toBe(true);

    expect((await simsnap("checkpoints", "rename", checkpointId, "renamed by cli")).out).toEqual([
      `renamed ${checkpointId} to "renamed by cli"`,
    ]);
    expect((await simsnap("checkpoints", "favorite", checkpointId)).out).toEqual([
      `${checkpointId} is a favorite`,
    ]);
    const record = json<{ name: string; favorite: boolean }>(
      await simsnap("checkpoints", "show", checkpointId, "--json"),
    );
    expect(record).toMatchObject({ name: "renamed by cli", favorite: true });
  });

  it("checkpoints delete refuses a favorite (exit 1) until forced, then deletes", async () => {
    const refused = await simsnap("checkpoints", "delete", checkpointId);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([
      `error: Checkpoint ${checkpointId} is a favorite; unfavorite it first or delete it with --force`,
    ]);
    expect((await simsnap("checkpoints", "unfavorite", checkpointId)).code).toBe(0);
    const deleted = await simsnap("checkpoints", "delete", checkpointId, "--json");
    expect(deleted.code).toBe(0);
    expect(json<{ state: string }>(deleted).state).toBe("DELETED");
  });

  it("checkpoints undelete brings a deleted checkpoint back from the trash, file and record", async () => {
    type Record = {
      state: string;
      location: { bucket: string; key: string };
      size: number;
      favorite?: boolean;
    };
    const trashed = json<Record & { trash: Record["location"]; purgeAfter: string }>(
      await simsnap("checkpoints", "show", checkpointId, "--json"),
    );
    expect(await stack.objects.head(trashed.location)).toBeUndefined();
    expect(await stack.objects.head(trashed.trash)).toMatchObject({ size: trashed.size });

    const undeleted = await simsnap("checkpoints", "undelete", checkpointId);
    expect(undeleted.code, undeleted.err.join("\n")).toBe(0);
    expect(undeleted.out).toEqual([`undeleted ${checkpointId} (renamed by cli): COMPLETE`]);
    const back = json<Record>(await simsnap("checkpoints", "show", checkpointId, "--json"));
    expect(back.state).toBe("COMPLETE");
    expect(await stack.objects.head(back.location)).toMatchObject({ size: trashed.size });
    expect(await stack.objects.head(trashed.trash)).toBeUndefined();
    // Again: nothing to do, the same answer.
    expect((await simsnap("checkpoints", "undelete", checkpointId)).code).toBe(0);

    // Undeleted, it is a favorite, so retention keeps it; deleting it again takes --force.
    expect(back.favorite).toBe(true);
    expect((await simsnap("checkpoints", "delete", checkpointId)).code).not.toBe(0);
    // Deleted again, as the rest of this run expects; the delete says until when it is kept.
    const again = await simsnap("checkpoints", "delete", checkpointId, "--force");
    expect(again.out[0]).toMatch(/; in the trash until \d{4}-\d\d-\d\dT/);
  });

  it("jobs show, wait and list", async () => {
    const shown = await simsnap("jobs", "show", jobId);
    expect(shown.out).toEqual(
      expect.arrayContaining([
        `id:         ${jobId}`,
        "kind:       snapshot",
        "status:     SUCCEEDED",
      ]),
    );
    const waited = await simsnap("jobs", "wait", jobId, "--json");
    expect(waited.code).toBe(0);
    expect(json<{ status: string }>(waited).status).toBe("SUCCEEDED");
    const listed = json<{ id: string }[]>(
      await simsnap("jobs", "list", "--simulation", "alpha", "--kind", "snapshot", "--json"),
    );
    expect(listed.map((j) => j.id)).toContain(jobId);
  });

  it("simulations lists the demo simulation with its counts", async () => {
    const result = await simsnap("simulations");
    expect(result.out[0]).toMatch(
      /^NAME\s+STATUS\s+LAST CHECKPOINT\s+COMPLETE\s+PENDING\s+FAILED\s+DELETED$/,
    );
    expect(result.out.find((line) => line.startsWith("alpha"))).toMatch(/^alpha\s+STARTED\s+/);
  });

  it("restore --wait starts a new simulation from a checkpoint", async () => {
    const snapshot = json<{ checkpointId: string }>(
      await simsnap("snapshot", "alpha", "--wait", "--interval", "0.2", "--json"),
    );
    const result = await simsnap(
      "restore",
      snapshot.checkpointId,
      "--simulation-name",
      "alpha-from-cli",
      "--maximum-duration",
      "1h",
      "--wait",
      "--interval",
      "0.2",
    );
    expect(result.code, result.err.join("\n")).toBe(0);
    expect(result.out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^kind:\s+restore$/),
        expect.stringMatching(/^status:\s+SUCCEEDED$/),
      ]),
    );
    expect(result.err.some((line) => line.includes("→ alpha-from-cli"))).toBe(true);
    // A finished restore says where it came from, not the phase it last waited in.
    expect(result.out).toContain("restore:    alpha-from-cli (from the checkpoint's file)");
    expect(result.out.join("\n")).not.toContain("(waiting)");
  }, 60_000);

  it("takes the 8-character ids the stack prints, and any unique prefix (like git)", async () => {
    namedId = json<{ checkpointId: string }>(
      await simsnap("snapshot", "alpha", "--wait", "--interval", "0.2", "--json"),
    ).checkpointId;
    const short = namedId.slice(0, 8);
    expect((await simsnap("checkpoints", "show", short, "--json")).out[0]).toContain(
      `"id":"${namedId}"`,
    );
    expect(
      json<{ id: string }>(await simsnap("jobs", "show", jobId.slice(0, 8), "--json")).id,
    ).toBe(jobId);
    const renamed = await simsnap("checkpoints", "rename", short, "by prefix");
    expect(renamed.out).toEqual([`renamed ${namedId} to "by prefix"`]);

    for (const suffix of ["1", "2"]) {
      await stack.catalog.create({
        id: `abcd1234-twin-${suffix}`,
        version: 1,
        simulation: "elsewhere",
        provider: "simspaceweaver",
        name: `twin ${suffix}`,
        description: "",
        tags: [],
        favorite: false,
        state: "COMPLETE",
        trigger: "discovered",
        createdAt: "2026-01-01T00:00:00.000Z",
        modifiedAt: "2026-01-01T00:00:00.000Z",
      });
    }
    const ambiguous = await simsnap("checkpoints", "show", "abcd1234");
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err.join("\n").split("\n")).toEqual([
      "error: checkpoint id abcd1234 is ambiguous: 2 checkpoints start with it; give more of the id:",
      '  abcd1234-twin-1  elsewhere  COMPLETE  2026-01-01 00:00:00 UTC  "twin 1"',
      '  abcd1234-twin-2  elsewhere  COMPLETE  2026-01-01 00:00:00 UTC  "twin 2"',
    ]);
    expect(await simsnap("checkpoints", "show", "abcd1234-twin-2")).toMatchObject({ code: 0 });
    expect(await simsnap("checkpoints", "show", "ffffeeee")).toMatchObject({
      code: 1,
      err: ["error: Checkpoint ffffeeee does not exist"],
    });
  });

  it("prune --dry-run prints the plan; prune runs it", async () => {
    const plan = await simsnap("prune", "--dry-run", "--simulation", "alpha");
    expect(plan.code).toBe(0);
    expect(plan.out[0]).toMatch(/^simulation alpha: keep \d+, remove 0$/);
    // Each checkpoint with its time (and zone) and name beside its id and reasons.
    expect(plan.out[1]).toMatch(/^\s+ID\s+CREATED\s+NAME\s+REASONS$/);
    expect(plan.out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^\\s+keep\\s+${namedId}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\s+by prefix\\s+\\S`,
          ),
        ),
      ]),
    );
    const planned = json<{ dryRun: boolean; plans: unknown[] }>(
      await simsnap("prune", "--dry-run", "--json"),
    );
    expect(planned.dryRun).toBe(true);

    const run = await simsnap("prune", "--simulation", "alpha", "--wait", "--interval", "0.2");
    expect(run.code, run.err.join("\n")).toBe(0);
    expect(run.out[0]).toMatch(/^SIMULATION\s+JOB\s+STATUS\s+REMOVED\s+ERROR$/);
    expect(run.out[1]).toMatch(/^alpha\s+\S+\s+SUCCEEDED\s+0$/);
  }, 60_000);

  it("stop --wait stops the simulation after a final snapshot", async () => {
    const result = await simsnap(
      "stop",
      "alpha",
      "--reason",
      "cli test",
      "--wait",
      "--interval",
      "0.2",
    );
    expect(result.code, result.err.join("\n")).toBe(0);
    expect(result.out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^kind:\s+stop$/),
        expect.stringMatching(/^status:\s+SUCCEEDED$/),
        expect.stringMatching(/^step final-snapshot:\s+SUCCEEDED/),
        expect.stringMatching(/^step stop-simulation:\s+SUCCEEDED/),
      ]),
    );
    expect(result.err.some((line) => line.includes("final-snapshot RUNNING"))).toBe(true);
    const again = await simsnap("snapshot", "alpha");
    expect(again.code).toBe(1);
    expect(again.err[0]).toMatch(
      /^error: Simulation alpha is STOPP(ING|ED); only a STARTED simulation/,
    );
  }, 60_000);

  it("exits 2 for bad usage, caught here or by the API, and 1 for failures", async () => {
    const local = await simsnap("checkpoints", "list", "--limit", "0", "--state", "DONE");
    expect(local.code).toBe(2);
    expect(local.err[0]).toMatch(
      /^error: invalid arguments: --state: .*; --limit: must be at least 1$/,
    );
    const byApi = await simsnap("checkpoints", "list", "--search", "x".repeat(300));
    expect(byApi.code).toBe(2);
    // The API's zod wording, said for people.
    expect(byApi.err[0]).toContain("search: must be at most 256 characters");
    const badName = await simsnap("snapshot", "team/lab");
    expect(badName.code).toBe(2);
    expect(badName.err[0]).toContain("<simulation>");
    // A name with spaces (an NVIDIA Air one) is fine, and reaches the API intact.
    const spaced = await simsnap("snapshot", "My First Simulation");
    expect(spaced).toMatchObject({
      code: 1,
      err: ["error: Simulation My First Simulation does not exist"],
    });

    const missing = await simsnap("checkpoints", "show", "nope");
    expect(missing).toMatchObject({ code: 1, err: ["error: Checkpoint nope does not exist"] });
    const ghost = await simsnap("snapshot", "ghost");
    expect(ghost).toMatchObject({ code: 1, err: ["error: Simulation ghost does not exist"] });
    // Same mistake, same answer: stopping it is refused alike, and starts no job.
    expect(await simsnap("stop", "ghost")).toEqual(ghost);
    expect((await simsnap("jobs", "list", "--simulation", "ghost")).out).toEqual(["no jobs match"]);
    const err: string[] = [];
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await runCli(["checkpoints", "list", "--endpoint", closed], {
      out: () => undefined,
      err: (line) => err.push(line),
    });
    expect(down).toBe(1);
    expect(err).toEqual([
      `error: cannot reach the simsnap API at ${closed} (ECONNREFUSED): check --endpoint, or start the local stack with npm start`,
    ]);
  });

  it("runs as the package's bin, with the same output and exit codes", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      "npx",
      ["tsx", "cli/bin.ts", "jobs", "show", jobId, "--json", "--endpoint", stack.info.apiEndpoint],
      { env: { ...process.env, NODE_NO_WARNINGS: "1" } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ id: jobId, status: "SUCCEEDED" });
    const failed = await run("npx", [
      "tsx",
      "cli/bin.ts",
      "checkpoints",
      "show",
      "nope",
      "--endpoint",
      stack.info.apiEndpoint,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining("does not exist") });

    const version = await run(process.execPath, ["--import", "tsx", "cli/bin.ts", "--version"]);
    expect(version.stdout.trim()).toBe(SIMSNAP_VERSION);
  }, 60_000);

  it("exits quietly when its reader goes away (`simsnap … | head -1`)", async () => {
    const args = ["--import", "tsx", "cli/bin.ts", "jobs", "list", "--endpoint"];
    const child = spawn(process.execPath, [...args, stack.info.apiEndpoint], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    // The reader is gone before the command writes its first line, as `head -1` is after its own.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  }, 60_000);
});
