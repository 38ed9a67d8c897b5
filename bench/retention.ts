/**
 * Retention planning at scale: the time and memory `planRetention` takes for one simulation with
 * a million checkpoints (one a minute, about two years, each with a step and an eval_loss), under
 * a typical restic policy, under keepBest alone and under both, with the time a full sort of the
 * metric would take for comparison (what keepBest's bounded heap avoids). Each measurement runs
 * in a fresh process, so that its peak memory is its own; figures are the median of 3 runs.
 * Prints figures; asserts nothing.
 * Usage: npm run bench:retention -- [count]
 */
import { fork } from "node:child_process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  DEFAULT_RETENTION,
  planRetention,
  type RetentionCandidate,
  type RetentionPolicyInput,
} from "../lib/domain/retention.ts";

const RUNS = 3;
const MiB = 2 ** 20;
const keepBest = { metric: "eval_loss", mode: "min", count: 5 } as const;
const SCENARIOS: Record<string, RetentionPolicyInput | "sort"> = {
  restic: DEFAULT_RETENTION.default,
  keepBest: { keepBest },
  "restic + keepBest": { ...DEFAULT_RETENTION.default, keepBest },
  "full sort (reference)": "sort",
};

interface Measurement {
  ms: number;
  /** Heap still used once the plan is built and garbage is collected, beyond the input's. */
  retainedMiB: number;
  /** How far the process's peak resident memory rose while planning. */
  peakRssMiB: number;
  kept: number;
}

/** A loss that falls with training, with deterministic noise, so the best are scattered. */
function trainingRun(count: number): RetentionCandidate[] {
  let seed = 42;
  const noise = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const start = Date.UTC(2025, 0, 1);
  return Array.from({ length: count }, (_, i) => ({
    id: `ckpt-${i}`,
    simulation: "train",
    createdAt: new Date(start + i * 60_000).toISOString(),
    state: "COMPLETE" as const,
    step: (i + 1) * 100,
    metrics: { eval_loss: 1 / (1 + i / 10_000) + noise() * 0.05 },
  }));
}

function gc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function measure(scenario: string, count: number): Measurement {
  const checkpoints = trainingRun(count);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const start = process.hrtime.bigint();
  const policy = SCENARIOS[scenario];
  let kept: number;
  let result: unknown;
  if (policy === "sort") {
    const ranked = checkpoints
      .map((c, index) => ({ index, value: c.metrics?.eval_loss ?? 0 }))
      .sort((a, b) => a.value - b.value || a.index - b.index);
    kept = keepBest.count;
    result = ranked;
  } else if (policy !== undefined) {
    const plans = planRetention(checkpoints, policy, { now: new Date(), force: true });
    kept = plans[0]?.keep.length ?? 0;
    result = plans;
  } else throw new Error(`unknown scenario ${scenario}`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const peakRssMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / MiB;
  gc();
  const retainedMiB = (process.memoryUsage().heapUsed - heapBefore) / MiB;
  if (result === undefined) throw new Error("no result");
  return { ms, retainedMiB, peakRssMiB, kept };
}

function inChild(scenario: string, count: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1] as string, ["--child", scenario, String(count)], {
      execArgv: [...process.execArgv, "--max-old-space-size=4096"],
    });
    child.once("message", (m) => resolve(m as Measurement));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`${scenario} run exited with code ${code}`));
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

if (process.argv[2] === "--child") {
  const measurement = measure(process.argv[3] as string, Number(process.argv[4]));
  process.send?.(measurement, () => process.exit(0));
} else {
  const count = Number(process.argv[2] ?? 1_000_000);
  console.log(
    `retention plan bench: ${count.toLocaleString("en")} COMPLETE checkpoints of one simulation, ` +
      `median of ${RUNS} fresh Node ${process.versions.node} processes`,
  );
  console.log(`restic = ${JSON.stringify(DEFAULT_RETENTION.default)}`);
  console.log(`keepBest = ${JSON.stringify(keepBest)}`);
  console.log(
    `${"scenario".padEnd(22)} ${"plan ms".padStart(8)} ${"per ckpt".padStart(9)} ` +
      `${"retained".padStart(9)} ${"peak RSS +".padStart(11)} ${"kept".padStart(5)}`,
  );
  for (const scenario of Object.keys(SCENARIOS)) {
    const runs: Measurement[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await inChild(scenario, count));
    const ms = median(runs.map((r) => r.ms));
    console.log(
      `${scenario.padEnd(22)} ${ms.toFixed(0).padStart(8)} ` +
        `${`${((ms * 1e6) / count).toFixed(0)} ns`.padStart(9)} ` +
        `${`${median(runs.map((r) => r.retainedMiB)).toFixed(0)} MiB`.padStart(9)} ` +
        `${`${median(runs.map((r) => r.peakRssMiB)).toFixed(0)} MiB`.padStart(11)} ` +
        `${String(runs[0]?.kept ?? 0).padStart(5)}`,
    );
  }
}
