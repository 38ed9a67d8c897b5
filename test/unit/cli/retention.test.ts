import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerRetentionCommands } from "../../../cli/commands/retention.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "simsnap-retention-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

async function run(...args: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  const program = new Command("simsnap").exitOverride().configureOutput({
    writeOut: (s) => io.out(s.trimEnd()),
    writeErr: (s) => io.err(s.trimEnd()),
  });
  registerRetentionCommands(program, io);
  await program.parseAsync(args, { from: "user" });
  return { out, err };
}

const record = (id: string, createdAt: string, extra: Record<string, unknown> = {}) => ({
  id,
  simulation: "sim-a",
  createdAt,
  state: "COMPLETE",
  favorite: false,
  tags: [],
  ...extra,
});

const CHECKPOINTS = [
  record("d3", "2026-01-03T10:00:00Z", { name: "before upgrade" }),
  record("d2", "2026-01-02T23:30:00Z", { name: "nightly" }),
  record("d2-early", "2026-01-02T08:00:00Z", { favorite: true }),
  record("d1", "2026-01-01T10:00:00Z"),
  record("pending", "2026-01-04T00:00:00Z", { state: "PENDING" }),
  { ...record("other", "2026-01-01T00:00:00Z"), simulation: "sim-b", tags: ["gold"] },
];

describe("simsnap retention plan", () => {
  it("prints the plans as JSON, newest first, with reasons", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("daily.json", { keepDaily: 2 });
    const { out } = await run(
      "retention",
      "plan",
      "--checkpoints",
      checkpoints,
      "--policy",
      policy,
      "--now",
      "2026-01-05T00:00:00Z",
      "--json",
    );
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toEqual({
      plans: [
        {
          simulation: "sim-a",
          keep: [
            { id: "d3", reasons: ["daily snapshot"] },
            { id: "d2", reasons: ["daily snapshot"] },
            { id: "d2-early", reasons: ["favorite"] },
          ],
          remove: [{ id: "d1" }],
          refused: null,
        },
        {
          simulation: "sim-b",
          keep: [{ id: "other", reasons: ["daily snapshot"] }],
          remove: [],
          refused: null,
        },
      ],
    });
  });

  it("cuts periods in --time-zone, overriding the policy's zone", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("daily-utc.json", { keepDaily: 2, timeZone: "UTC" });
    const { out } = await run(
      "retention",
      "plan",
      "--checkpoints",
      checkpoints,
      "--policy",
      policy,
      "--time-zone",
      "Asia/Tokyo",
      "--json",
    );
    const [simA] = (
      JSON.parse(out[0]!) as { plans: { keep: { id: string }[]; remove: { id: string }[] }[] }
    ).plans;
    // In Tokyo d2 (23:30 UTC) falls on 3 January with d3, so d2-early and d1 are the two days.
    expect(simA!.keep.map((k) => k.id)).toEqual(["d3", "d2-early"]);
    expect(simA!.remove.map((r) => r.id)).toEqual(["d2", "d1"]);
  });

  it("measures --keep-within from the newest checkpoint not after --now", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("within.json", { keepWithin: "1d" });
    const plan = async (now: string) =>
      (
        JSON.parse(
          (
            await run(
              "retention",
              "plan",
              "--checkpoints",
              checkpoints,
              "--policy",
              policy,
              "--now",
              now,
              "--json",
            )
          ).out[0]!,
        ) as { plans: { keep: { id: string }[] }[] }
      ).plans[0]!.keep.map((k) => k.id);
    expect(await plan("2026-01-10T00:00:00Z")).toEqual(["d3", "d2", "d2-early"]);
    expect(await plan("2026-01-02T12:00:00Z")).toEqual(["d3", "d2", "d2-early", "d1"]);
  });

  it("prints a readable table with the refusal, and --force lifts the share limit", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("last.json", { keepLast: 1 });
    const args = ["retention", "plan", "--checkpoints", checkpoints, "--policy", policy];
    const { out } = await run(...args);
    expect(out.slice(0, 11)).toEqual([
      "simulation sim-a: keep 2, remove 2",
      "keep 2 checkpoints:",
      "  ID        CREATED (UTC)            NAME            REASONS",
      "  d3        2026-01-03 10:00:00 UTC  before upgrade  last snapshot",
      "  d2-early  2026-01-02 08:00:00 UTC  -               favorite",
      "remove 2 checkpoints:",
      "  ID  CREATED (UTC)            NAME",
      "  d2  2026-01-02 23:30:00 UTC  nightly",
      "  d1  2026-01-01 10:00:00 UTC  -",
      "",
      "simulation sim-b: keep 1, remove 0",
    ]);
    expect(out.some((line) => line.startsWith("REFUSED"))).toBe(false);
    const strict = await run(...args, "--max-remove-fraction", "0.25");
    expect(strict.out).toContain(
      "REFUSED: the policy would remove 2 of 4 COMPLETE checkpoints of sim-a (50%), more than the " +
        "allowed 25%; run it with --force to allow it",
    );
    const forced = await run(...args, "--max-remove-fraction", "0.25", "--force");
    expect(forced.out.some((line) => line.startsWith("REFUSED"))).toBe(false);
  });

  it("shows times in the policy's zone, with their offset, since that zone cuts the days", async () => {
    const checkpoints = await file("zoned.json", CHECKPOINTS);
    const policy = await file("daily-berlin.json", { keepDaily: 1, timeZone: "Europe/Berlin" });
    const args = ["retention", "plan", "--checkpoints", checkpoints, "--policy", policy];
    const { out } = await run(
      ...args,
      "--now",
      "2026-01-10T00:00:00Z",
      "--max-remove-fraction",
      "1",
    );
    expect(out.slice(0, 4)).toEqual([
      "simulation sim-a: keep 2, remove 2",
      "keep 2 checkpoints:",
      "  ID        CREATED (Europe/Berlin)     NAME            REASONS",
      "  d3        2026-01-03 11:00:00 +01:00  before upgrade  daily snapshot",
    ]);
  });

  it("reads step and metrics and prints the reasons of keepBest and the step rules", async () => {
    const checkpoints = await file("training.json", [
      record("s3000", "2026-01-03T00:00:00Z", { step: 3000 }),
      record("s2000", "2026-01-02T00:00:00Z", { step: 2000, metrics: { eval_loss: 0.25 } }),
      record("s1500", "2026-01-01T12:00:00Z", { step: 1500, metrics: { eval_loss: 0.213 } }),
      record("s1000", "2026-01-01T00:00:00Z", { step: 1000, metrics: { eval_loss: 0.4 } }),
      record("s500", "2025-12-31T00:00:00Z", { step: 500, metrics: { eval_loss: 0.9 } }),
    ]);
    const policy = await file("best.json", {
      keepBest: { metric: "eval_loss", mode: "min", count: 1 },
      keepEveryNSteps: 2000,
      keepSteps: [1000],
    });
    const args = ["retention", "plan", "--checkpoints", checkpoints, "--policy", policy];
    const { out } = await run(...args, "--max-remove-fraction", "1");
    expect(out).toEqual([
      "simulation sim-a: keep 4, remove 1",
      "keep 4 checkpoints:",
      "  ID     CREATED (UTC)            NAME  REASONS",
      "  s3000  2026-01-03 00:00:00 UTC  -     no eval_loss",
      "  s2000  2026-01-02 00:00:00 UTC  -     every 2000 steps",
      "  s1500  2026-01-01 12:00:00 UTC  -     best eval_loss (0.213, 1 of 1)",
      "  s1000  2026-01-01 00:00:00 UTC  -     step 1000",
      "remove 1 checkpoints:",
      "  ID    CREATED (UTC)            NAME",
      "  s500  2025-12-31 00:00:00 UTC  -",
    ]);
  });

  it("names the field of an invalid step, metric or keepBest", async () => {
    const checkpoints = await file("bad-training.json", [
      record("a", "2026-01-01T00:00:00Z", { step: -1, metrics: { loss: "low" } }),
    ]);
    const policy = await file("best-only.json", { keepBest: { metric: "loss", count: 1 } });
    await expect(
      run("retention", "plan", "--checkpoints", checkpoints, "--policy", policy),
    ).rejects.toThrow(
      `invalid checkpoints in ${checkpoints}: checkpoints[0].step: must be a whole number, 0 or ` +
        "more; checkpoints[0].metrics.loss: must be a finite number",
    );
    const good = await file("good-training.json", [record("a", "2026-01-01T00:00:00Z")]);
    await expect(
      run("retention", "plan", "--checkpoints", good, "--policy", policy),
    ).rejects.toThrow(
      `invalid policy in ${policy}: policy.keepBest.mode: must be "min" (lower is better, e.g. a ` +
        'loss) or "max" (higher is better, e.g. accuracy)',
    );
  });

  it("names the index and field of an invalid checkpoint record", async () => {
    const checkpoints = await file("bad-checkpoints.json", [
      record("ok", "2026-01-01T00:00:00Z"),
      record("bad", "last tuesday", { state: "DONE" }),
    ]);
    const policy = await file("last.json", { keepLast: 1 });
    const failure = run("retention", "plan", "--checkpoints", checkpoints, "--policy", policy);
    await expect(failure).rejects.toBeInstanceOf(ValidationError);
    await expect(failure).rejects.toThrow(
      `invalid checkpoints in ${checkpoints}: checkpoints[1].createdAt: must be an ISO-8601 date-time ` +
        "such as 2026-01-31T12:00:00Z; checkpoints[1].state: must be one of PENDING, COMPLETE, " +
        "FAILED or DELETED",
    );
    await expect(failure).rejects.toMatchObject({ status: 400 });
  });

  it("names the field of an invalid policy", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("bad-policy.json", { keepDaily: -3, keepWithin: "2w" });
    await expect(
      run("retention", "plan", "--checkpoints", checkpoints, "--policy", policy),
    ).rejects.toThrow(
      `invalid policy in ${policy}: policy.keepDaily: must be -1 (unlimited), 0 (off) or a positive ` +
        'count; policy.keepWithin: invalid duration "2w": invalid unit "w" after number 2; use y, m, d or h',
    );
  });

  it("rejects bad options, unreadable files and invalid JSON clearly", async () => {
    const checkpoints = await file("checkpoints.json", CHECKPOINTS);
    const policy = await file("last.json", { keepLast: 1 });
    const base = ["retention", "plan", "--checkpoints", checkpoints, "--policy", policy];
    await expect(run(...base, "--time-zone", "Mars/Olympus_Mons", "--now", "soon")).rejects.toThrow(
      "invalid options: --now: must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z; " +
        "--time-zone: must be an IANA time zone name such as UTC or Europe/Berlin",
    );
    const missing = join(dir, "missing.json");
    await expect(
      run("retention", "plan", "--checkpoints", missing, "--policy", policy),
    ).rejects.toThrow(`cannot read the checkpoints file ${missing}`);
    const broken = await file("broken.json", "{not json");
    await expect(
      run("retention", "plan", "--checkpoints", checkpoints, "--policy", broken),
    ).rejects.toThrow(`the policy file ${broken} is not valid JSON`);
    const notArray = await file("object.json", { id: "x" });
    await expect(
      run("retention", "plan", "--checkpoints", notArray, "--policy", policy),
    ).rejects.toThrow(
      `invalid checkpoints in ${notArray}: checkpoints: must be a JSON array of checkpoint records`,
    );
  });

  it("shows keepVerified's reason and its refusal, reading each record's verification", async () => {
    const passed = {
      status: "PASSED",
      at: "2026-01-02T00:00:00Z",
      durationMs: 1,
      detail: "ok",
      jobId: "j",
    };
    const verified = await file("verified.json", [
      record("v1", "2026-01-01T10:00:00Z", { verification: passed }),
      record("v2", "2026-01-02T10:00:00Z"),
      record("v3", "2026-01-03T10:00:00Z", { verification: { status: "FAILED" } }),
    ]);
    const policy = await file("verified-policy.json", { keepLast: 1, keepVerified: 1 });
    const args = ["retention", "plan", "--checkpoints", verified, "--policy", policy, "--json"];
    const [plan] = JSON.parse((await run(...args, "--now", "2026-01-05T00:00:00Z")).out[0]!).plans;
    expect(plan.keep).toEqual([
      { id: "v3", reasons: ["last snapshot"] },
      { id: "v1", reasons: ["verified"] },
    ]);
    expect(plan.refused).toBeNull();
    const unproven = await file("unproven.json", [
      record("u1", "2026-01-01T10:00:00Z"),
      record("u2", "2026-01-02T10:00:00Z"),
    ]);
    const refused = await run(
      "retention",
      "plan",
      "--checkpoints",
      unproven,
      "--policy",
      policy,
      "--json",
    );
    expect(JSON.parse(refused.out[0]!).plans[0].refused).toMatch(
      /^keepVerified: the policy would remove 1/,
    );
  });

  it("requires --checkpoints and --policy", async () => {
    const failure = run("retention", "plan", "--policy", "p.json");
    await expect(failure).rejects.toBeInstanceOf(CommanderError);
    await expect(failure).rejects.toThrow("required option '--checkpoints <file>' not specified");
  });
});
