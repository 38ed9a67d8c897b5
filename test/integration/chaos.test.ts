import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChaos } from "../../lib/local/chaos-run.ts";

let dir: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "simsnap-chaos-test-"));
  config = join(dir, "simsnap.config.json");
  // The project's demo, with snapshots every 4 s so that a short run still takes a dozen.
  await writeFile(
    config,
    JSON.stringify({
      destination: { prefix: "simsnap" },
      schedules: [
        {
          name: "often",
          expression: "rate(1 hour)",
          localExpression: "rate(4 seconds)",
          selector: { names: ["*"] },
        },
      ],
      retention: { default: { keepLast: 2 } },
      local: { simulations: [{ name: "ocean-currents" }, { name: "city-traffic" }] },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chaos mode", () => {
  it("keeps every promise through provider faults, lost S3 events, foreign files and a kill -9", async () => {
    const result = await runChaos({
      duration: 20,
      restarts: 1,
      settle: 0,
      faults: 0.3,
      dropEvents: 0.5,
      seed: 10,
      config,
      // Jobs stranded by the kill pass their deadline within the run and the sweeper ends them, so
      // the clean stop waits for work that can still finish instead of idling to its limits.
      snapshotDeadline: 15,
      restoreDemo: false,
    });
    expect(result.details).toEqual([]);
    expect(result.ok).toBe(true);
    // It really ran under chaos: snapshots were taken and pruned, foreign files were there.
    expect(result.jobs.SUCCEEDED).toBeGreaterThan(0);
    expect(result.checkpoints.COMPLETE).toBeGreaterThan(0);
    expect(result.planted).toBeGreaterThan(0);
    expect(result.orphans).toBeGreaterThan(0);
    expect(result.finalStop).toBe("clean");
  }, 120_000);
});
