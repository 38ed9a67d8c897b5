import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SimsnapConfigSchema } from "../../lib/domain/config-file.ts";
import { LocalConfigSchema } from "../../lib/local/demo-config.ts";
import { runLocal } from "../../lib/local/runtime.ts";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("the local stack, end to end", () => {
  it("snapshots every demo simulation on schedule and catalogs COMPLETE checkpoints with their zip files", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "simsnap-local-"));
    const lines: string[] = [];
    const summary = await runLocal({
      config: LocalConfigSchema.parse({ snapshotDelayMs: 400, statusCheckFirstSeconds: 2 }),
      configFile: SimsnapConfigSchema.parse({
        schedules: [
          { name: "every-2s", expression: "rate(1 minute)", localExpression: "rate(2 seconds)" },
        ],
        local: { simulations: [{ name: "alpha" }, { name: "beta" }] },
      }),
      dataDir,
      durationSeconds: 7,
      // Any free port, so the test runs beside `npm start` and other stacks.
      apiPort: 0,
      print: (line) => lines.push(line),
    });

    for (const simulation of summary.simulations) {
      expect(simulation.checkpoints.COMPLETE, simulation.name).toBeGreaterThanOrEqual(2);
      expect(simulation.checkpoints.FAILED, simulation.name).toBe(0);
    }
    expect(summary.simulations.map((s) => s.name)).toEqual(["alpha", "beta"]);
    const zips = filesUnder(join(dataDir, "s3")).filter((f) =>
      /\/simsnap\/snapshot\/(alpha|beta)-\d{6}-\d{4}-\d{2}\.zip\._S3rver_object$/.test(f),
    );
    const complete = summary.simulations.reduce((n, s) => n + s.checkpoints.COMPLETE, 0);
    expect(zips.length).toBeGreaterThanOrEqual(complete);
    expect(lines.some((l) => l.includes("✓ checkpoint complete") && l.includes("alpha"))).toBe(
      true,
    );
    expect(lines.some((l) => l.includes("▸ snapshot requested") && l.includes("beta"))).toBe(true);
    // Retention moves what it removes to the trash; the demo's end undeletes one through the CLI
    // and restores from it, and the restored simulation resumed at the tick its file recorded.
    expect(lines.some((l) => /✂ checkpoints pruned .* in the trash until /.test(l))).toBe(true);
    const undeleting = lines.findIndex((l) => /↶ undeleting \S{8} of (alpha|beta) /.test(l));
    // The CLI's lines, without the console's event lines that may come between them.
    const demoEnd = lines.slice(undeleting).filter((l) => /^( {2}[$✓✗]| {4})/.test(l));
    expect(demoEnd[0]).toMatch(/^ {2}\$ simsnap checkpoints undelete \S{8}$/);
    expect(demoEnd[1]).toMatch(/^ {4}undeleted \S+ \(.*\): COMPLETE$/);
    expect(demoEnd[2]).toMatch(
      /^ {2}\$ simsnap restore \S{8} --simulation-name \S+-undeleted-\S{8} /,
    );
    expect(demoEnd).toContainEqual(
      expect.stringMatching(/^ {4}restore: +\S+-undeleted-\S{8} \(from the checkpoint's file\)$/),
    );
    expect(demoEnd).toContainEqual(
      expect.stringMatching(
        /^ {2}✓ \S+-undeleted-\S{8} resumed at tick [1-9]\d*, the tick its snapshot recorded/,
      ),
    );

    // Every completed checkpoint is archived; at the end one of alpha's is restored.
    const archives = filesUnder(join(dataDir, "s3", "simsnap-archive")).filter((f) =>
      /\/(alpha|beta)\/\d{4}\/\d{2}\/\1-\d{6}-\d{4}-\d{2}\.zip\._S3rver_object$/.test(f),
    );
    expect(archives.length).toBeGreaterThanOrEqual(complete);
    expect(lines.some((l) => l.includes("⇪ checkpoint archived") && l.includes("beta"))).toBe(true);
    expect(lines.some((l) => l.includes("↺ checkpoint restored") && l.includes("alpha"))).toBe(
      true,
    );
    const resumed = lines
      .map((l) => /resumed from tick (\d+) .* now at tick (\d+)/.exec(l))
      .find(Boolean);
    expect(Number(resumed?.[2])).toBeGreaterThanOrEqual(Number(resumed?.[1]));
    expect(Number(resumed?.[1])).toBeGreaterThan(0);
  }, 60_000);
});
