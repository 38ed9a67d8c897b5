/**
 * Retention planning at scale: the time and memory `planRetention` takes for one simulation with
 * a million checkpoints (one a minute, about two years, each with a step and an eval_loss, oldest
 * first as the catalog lists them), under a typical restic policy in UTC and in a time zone with
 * daylight saving (Europe/Berlin), under keepBest alone and under both, beside two yardsticks: a
 * plain implementation of the same restic rules (bench/retention-reference.ts; `× ref` is the
 * ratio to it, in the same time zone) and a full sort of the metric (what keepBest's bounded heap
 * avoids). Each measurement runs in a fresh process, so that its peak memory is its own; the
 * scenarios take turns, so a busy machine slows them alike. Time is CPU time, the least of 5
 * plans in a process; memory that of its first; figures are the median of 3 processes.
 * The plans of the restic scenarios are checked equal to the reference's. Prints figures;
 * asserts nothing.
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
import { referencePlan, type ReferencePolicy } from "./retention-reference.ts";

const RUNS = 3;
/** Plans per process; the fastest is its time. */
const REPEATS = 5;
const MiB = 2 ** 20;
const keepBest = { metric: "eval_loss", mode: "min", count: 5 } as const;
const restic = DEFAULT_RETENTION.default as ReferencePolicy;
const berlin = { ...restic, timeZone: "Europe/Berlin" };
type Scenario =
  { plan: RetentionPolicyInput; reference?: string } | { reference: ReferencePolicy } | "sort";
const SCENARIOS: Record<string, Scenario> = {
  "restic UTC": { plan: restic, reference: "reference UTC" },
  "restic Berlin": { plan: berlin, reference: "reference Berlin" },
  keepBest: { plan: { keepBest } },
  "restic + keepBest": { plan: { ...restic, keepBest } },
  "reference UTC": { reference: restic },
  "reference Berlin": { reference: berlin },
  "full sort of metric": "sort",
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

/** Runs a scenario once: its result and the number of checkpoints it keeps. */
function runScenario(scenario: string, checkpoints: RetentionCandidate[]): [unknown, number] {
  const spec = SCENARIOS[scenario];
  if (spec === "sort") {
    const ranked = checkpoints
      .map((c, index) => ({ index, value: c.metrics?.eval_loss ?? 0 }))
      .sort((a, b) => a.value - b.value || a.index - b.index);
    return [ranked, keepBest.count];
  }
  if (spec !== undefined && "plan" in spec) {
    const plans = planRetention(checkpoints, spec.plan, { now: new Date(), force: true });
    return [plans, plans[0]?.keep.length ?? 0];
  }
  if (spec !== undefined) {
    const plan = referencePlan(checkpoints, spec.reference);
    return [plan, plan.keep.length];
  }
  throw new Error(`unknown scenario ${scenario}`);
}

/**
 * CPU time (user and system, all threads) since `start`: on a machine shared with other work,
 * wall time measures the other work too, CPU time mostly the plan's own.
 */
function cpuMs(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

/**
 * Memory from the first run in the fresh process (a cold plan, as in a new Lambda instance);
 * time the fastest of `REPEATS` runs, which a busy machine disturbs least.
 */
function measure(scenario: string, count: number): Measurement {
  const checkpoints = trainingRun(count);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  let start = process.cpuUsage();
  let [result, kept] = runScenario(scenario, checkpoints);
  let ms = cpuMs(start);
  const peakRssMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / MiB;
  gc();
  const retainedMiB = (process.memoryUsage().heapUsed - heapBefore) / MiB;
  if (result === undefined) throw new Error("no result");
  for (let i = 1; i < REPEATS; i++) {
    result = undefined;
    start = process.cpuUsage();
    [result, kept] = runScenario(scenario, checkpoints);
    ms = Math.min(ms, cpuMs(start));
  }
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

/** The restic scenarios give the reference's plan exactly: kept ids, reasons and removed ids. */
function checkSameAsReference(count: number): string {
  const checkpoints = trainingRun(count);
  for (const policy of [restic, berlin]) {
    const [plan] = planRetention(checkpoints, policy, { now: new Date(), force: true });
    const reference = referencePlan(checkpoints, policy);
    if (
      JSON.stringify([plan?.keep, plan?.remove]) !==
      JSON.stringify([reference.keep, reference.remove])
    ) {
      return `DIFFERENT from the reference in ${policy.timeZone ?? "UTC"}`;
    }
  }
  return "the same as the reference's (UTC and Europe/Berlin)";
}

if (process.argv[2] === "--child") {
  const measurement = measure(process.argv[3] as string, Number(process.argv[4]));
  process.send?.(measurement, () => process.exit(0));
} else {
  const count = Number(process.argv[2] ?? 1_000_000);
  console.log(
    `retention plan bench: ${count.toLocaleString("en")} COMPLETE checkpoints of one simulation, ` +
      `median of ${RUNS} fresh Node ${process.versions.node} processes (fastest of ${REPEATS} plans each)`,
  );
  console.log(`restic = ${JSON.stringify(restic)}`);
  console.log(`keepBest = ${JSON.stringify(keepBest)}`);
  console.log(`plans of the restic scenarios: ${checkSameAsReference(Math.min(count, 200_000))}`);
  console.log(
    `${"scenario".padEnd(20)} ${"CPU ms".padStart(8)} ${"per ckpt".padStart(9)} ${"× ref".padStart(6)} ` +
      `${"retained".padStart(9)} ${"peak RSS +".padStart(11)} ${"kept".padStart(5)}`,
  );
  const names = Object.keys(SCENARIOS);
  const runs = new Map<string, Measurement[]>(names.map((name) => [name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const scenario of names) runs.get(scenario)?.push(await inChild(scenario, count));
  }
  const ms = (scenario: string) => median((runs.get(scenario) ?? []).map((r) => r.ms));
  for (const scenario of names) {
    const measured = runs.get(scenario) ?? [];
    const spec = SCENARIOS[scenario];
    const reference = typeof spec === "object" && "plan" in spec ? spec.reference : undefined;
    const ratio = reference === undefined ? "" : (ms(scenario) / ms(reference)).toFixed(2);
    console.log(
      `${scenario.padEnd(20)} ${ms(scenario).toFixed(0).padStart(8)} ` +
        `${`${((ms(scenario) * 1e6) / count).toFixed(0)} ns`.padStart(9)} ${ratio.padStart(6)} ` +
        `${`${median(measured.map((r) => r.retainedMiB)).toFixed(0)} MiB`.padStart(9)} ` +
        `${`${median(measured.map((r) => r.peakRssMiB)).toFixed(0)} MiB`.padStart(11)} ` +
        `${String(measured[0]?.kept ?? 0).padStart(5)}`,
    );
  }
}
