/**
 * Retention planning for checkpoints other tools write (the `files` provider): the time
 * `planRetention` takes for one training run of a million file checkpoints (one a minute, each
 * with a step and an eval_loss, 1% half-written and PENDING, 2% without the metric), under
 * restic's rules, under keepBest (the local demo's policy: best 2 by loss plus the last 2), under
 * keepBest with keepEveryNSteps and keepSteps, and under restic's rules with keepBest. One more
 * line adds what prune does first for every file checkpoint: check it is one whole checkpoint of a
 * configured source (`objectSetRefusal`, a layout match per key). Figures are the median of 5
 * runs in this process. Prints figures; asserts nothing.
 * Usage: npm run bench:files-retention -- [count]
 */
import type { Checkpoint } from "../lib/domain/checkpoint.ts";
import { compileFileSource, FileSourceConfigSchema } from "../lib/domain/file-source.ts";
import {
  DEFAULT_RETENTION,
  planRetention,
  type RetentionPolicyInput,
} from "../lib/domain/retention.ts";
import { objectSetRefusal } from "../lib/usecases/files/object-set-checkpoint.ts";

const RUNS = 5;
const keepBest = { metric: "eval_loss", mode: "min", count: 2 } as const;
const restic = DEFAULT_RETENTION.default;
const SCENARIOS: Record<string, RetentionPolicyInput> = {
  restic,
  "keepBest 2 + last 2": { keepBest, keepLast: 2 },
  "+ every 10k, steps": { keepBest, keepLast: 2, keepEveryNSteps: 10_000, keepSteps: [500, 5000] },
  "restic + keepBest": { ...restic, keepBest },
};
const BUCKET = "training";
const owned = {
  bucket: BUCKET,
  sources: [
    compileFileSource(FileSourceConfigSchema.parse({ prefix: "runs", preset: "huggingface" })),
  ],
};

/** A Hugging Face run as discovery catalogs it, with a loss that falls noisily. */
function trainingRun(count: number): Checkpoint[] {
  let seed = 42;
  const noise = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const start = Date.UTC(2025, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const createdAt = new Date(start + i * 60_000).toISOString();
    const step = (i + 1) * 100;
    const pending = noise() < 0.01;
    const measured = noise() >= 0.02;
    return {
      id: `f-${i}`,
      version: 1,
      simulation: "exp7",
      provider: "files",
      name: `exp7/checkpoint-${step}`,
      description: "",
      tags: [],
      favorite: false,
      state: pending ? "PENDING" : "COMPLETE",
      trigger: "discovered",
      createdAt,
      modifiedAt: createdAt,
      location: { bucket: BUCKET, key: `runs/exp7/checkpoint-${step}/` },
      step,
      ...(measured ? { metrics: { eval_loss: 1 / (1 + i / 10_000) + noise() * 0.05 } } : {}),
    } satisfies Checkpoint;
  });
}

function time(run: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    if (run() === undefined) throw new Error("no result");
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? Number.NaN;
}

const count = Number(process.argv[2] ?? 1_000_000);
const checkpoints = trainingRun(count);
const pending = checkpoints.filter((c) => c.state === "PENDING").length;
console.log(
  `files retention bench: ${count.toLocaleString("en")} file checkpoints of one run ` +
    `(${pending.toLocaleString("en")} PENDING), median of ${RUNS} runs, Node ${process.versions.node}`,
);
console.log(
  `${"scenario".padEnd(22)} ${"plan ms".padStart(8)} ${"per ckpt".padStart(9)} ${"kept".padStart(6)} ${"removed".padStart(8)}`,
);
const line = (name: string, ms: number, kept: number, removed: number) =>
  console.log(
    `${name.padEnd(22)} ${ms.toFixed(0).padStart(8)} ${`${((ms * 1e6) / count).toFixed(0)} ns`.padStart(9)} ` +
      `${String(kept).padStart(6)} ${String(removed).padStart(8)}`,
  );
const options = { now: new Date(Date.UTC(2027, 0, 1)), force: true };
for (const [name, policy] of Object.entries(SCENARIOS)) {
  let plan = planRetention(checkpoints, policy, options)[0];
  const ms = time(() => (plan = planRetention(checkpoints, policy, options)[0]));
  if (plan && plan.keep.length + plan.remove.length !== count - pending) {
    throw new Error(`${name}: a PENDING checkpoint was planned`);
  }
  line(name, ms, plan?.keep.length ?? 0, plan?.remove.length ?? 0);
}
const demo = SCENARIOS["keepBest 2 + last 2"] as RetentionPolicyInput;
let checked = planRetention(checkpoints, demo, options)[0];
const withOwnership = time(() => {
  const whole = checkpoints.filter(
    (c) =>
      c.state !== "COMPLETE" || !c.location || objectSetRefusal(c.location, owned) === undefined,
  );
  return (checked = planRetention(whole, demo, options)[0]);
});
line("ownership + keepBest", withOwnership, checked?.keep.length ?? 0, checked?.remove.length ?? 0);
