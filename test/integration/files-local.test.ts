import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { loadSimulationCheckpoints } from "../../lib/usecases/catalog/list-checkpoints.ts";
import { sleep } from "../support/async.ts";
import { startLocalStack, type RunningStack } from "../support/local-stack.ts";

const RUN = "bert-demo";
const PREFIX = "training/runs";

let stack: RunningStack;

beforeAll(async () => {
  stack = await startLocalStack({
    file: {
      // Everything kept, so what the test sees is discovery's doing alone.
      retention: { default: { keepLast: -1 } },
      // The trainer's source, settling 1 s after its marker instead of the demo's 5 s.
      providers: {
        // The demo simulation "alpha" runs on the local SimSpace Weaver simulator.
        simspaceweaver: { enabled: true },
        files: {
          sources: [
            {
              prefix: PREFIX,
              preset: "huggingface",
              commit: { marker: "trainer_state.json", settleSeconds: 1 },
            },
          ],
        },
      },
      local: {
        simulations: [{ name: "alpha" }],
        trainer: { prefix: PREFIX, run: RUN, everyMs: 300, halfWrittenRate: 0.3, seed: 7 },
      },
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** What the trainer printed it wrote: whole checkpoints with their loss, and half-written keys. */
function trainerLog(): { whole: Map<string, number>; half: string[] } {
  const whole = new Map<string, number>();
  const half: string[] = [];
  for (const line of stack.lines) {
    const saved = /trainer: saved (\S+) \(step \d+, eval_loss ([\d.]+)\)/.exec(line);
    if (saved) whole.set(saved[1]!, Number(saved[2]));
    const left = /trainer: left (\S+) half-written/.exec(line);
    if (left) half.push(left[1]!);
  }
  return { whole, half };
}

const catalogOf = async (): Promise<Map<string, Checkpoint>> =>
  new Map(
    (await loadSimulationCheckpoints(stack.catalog, RUN)).map((c) => [c.location?.key ?? "", c]),
  );

describe("the files provider on the local stack", () => {
  it("catalogs the demo trainer's checkpoints COMPLETE with their metrics, and keeps half-written ones PENDING", async () => {
    // Until the trainer has left a checkpoint half-written and written at least four whole ones
    // that discovery has completed (events, re-checks and the 5 s scan all take part).
    const deadline = Date.now() + 40_000;
    let log = trainerLog();
    let catalog = await catalogOf();
    const completed = () =>
      [...log.whole.keys()].filter((key) => catalog.get(key)?.state === "COMPLETE");
    while (
      (log.half.length === 0 || completed().length < 4 || log.half.some((k) => !catalog.has(k))) &&
      Date.now() < deadline
    ) {
      await sleep(500);
      log = trainerLog();
      catalog = await catalogOf();
    }

    expect(log.half.length).toBeGreaterThan(0);
    expect(completed().length).toBeGreaterThanOrEqual(4);
    for (const key of completed()) {
      expect(catalog.get(key), key).toMatchObject({
        provider: "files",
        simulation: RUN,
        trigger: "discovered",
        metrics: { eval_loss: log.whole.get(key) },
      });
    }
    for (const key of log.half) {
      expect(catalog.get(key), key).toMatchObject({ provider: "files", state: "PENDING" });
    }
    expect(stack.lines.some((line) => /✓ checkpoint complete .*\(files: step \d+/.test(line))).toBe(
      true,
    );
  });

  it("summarizes the trainer's run beside the demo simulations at the end", async () => {
    const summary = await stack.stop();
    const run = summary.simulations.find((s) => s.name === RUN);
    expect(run?.provider).toBe("files");
    expect(run?.checkpoints.COMPLETE).toBeGreaterThanOrEqual(4);
    expect(run?.checkpoints.PENDING).toBeGreaterThan(0);
  });
});
