import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/program.ts";
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

const json = <T>(result: { out: string[] }): T => JSON.parse(result.out.join("\n")) as T;

beforeAll(async () => {
  stack = await startLocalStack({
    simulations: ["alpha"],
    file: { retention: { default: { keepLast: 1 }, maxRemoveFraction: 1 } },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("the trash on the local stack", () => {
  it("a checkpoint retention pruned is undeleted through the CLI and restored from afterwards", async () => {
    const snapshot = async () =>
      json<{ checkpointId: string }>(
        await simsnap("snapshot", "alpha", "--wait", "--interval", "0.2", "--json"),
      ).checkpointId;
    const first = await snapshot();
    await snapshot();
    const pruned = await simsnap("prune", "--simulation", "alpha", "--wait", "--interval", "0.2");
    expect(pruned.code, pruned.err.join("\n")).toBe(0);

    type Shown = {
      state: string;
      trash?: { key: string };
      location: { bucket: string; key: string };
    };
    const trashed = json<Shown>(await simsnap("checkpoints", "show", first, "--json"));
    expect(trashed.state).toBe("DELETED");
    expect(trashed.trash?.key).toMatch(new RegExp(`^simsnap/trash/${first}/v\\d+/alpha-`));
    expect(await stack.objects.head(trashed.location)).toBeUndefined();
    expect(stack.lines.some((l) => /✂ checkpoints pruned .* in the trash until /.test(l))).toBe(
      true,
    );

    const undeleted = await simsnap("checkpoints", "undelete", first.slice(0, 8));
    expect(undeleted.code, undeleted.err.join("\n")).toBe(0);
    expect(json<Shown>(await simsnap("checkpoints", "show", first, "--json")).state).toBe(
      "COMPLETE",
    );
    expect(await stack.objects.head(trashed.location)).toBeDefined();

    const restored = await simsnap(
      "restore",
      first,
      "--simulation-name",
      "alpha-undeleted",
      "--maximum-duration",
      "1h",
      "--wait",
      "--interval",
      "0.2",
    );
    expect(restored.code, restored.err.join("\n")).toBe(0);
    expect(restored.out).toContain("restore:    alpha-undeleted (from the checkpoint's file)");

    // The copy back raised S3's Object Created for the file: no second checkpoint was made of it.
    const listed = json<{ location?: { key: string } }[]>(
      await simsnap("checkpoints", "list", "--simulation", "alpha", "--json"),
    );
    expect(listed.filter((c) => c.location?.key === trashed.location.key)).toHaveLength(1);
  }, 90_000);
});
