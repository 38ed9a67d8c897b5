import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as z from "zod";
import { formatLayout } from "../domain/file-layout.ts";
import { compileFileSource, FileSourceConfigSchema } from "../domain/file-source.ts";
import { FILE_PRESETS } from "../domain/file-presets.ts";
import { seededRandom } from "./faults.ts";

/**
 * A stand-in for a Hugging Face `Trainer` run on the local stack, so the files provider has
 * checkpoints to discover, retain, archive and restore without Python or a GPU. It writes what
 * the Trainer's `_save_checkpoint` writes, in its order (model, training arguments, optimizer,
 * scheduler, RNG state, then `trainer_state.json`), under the `huggingface` preset's layout, with
 * an evaluation loss that falls noisily. Everything it writes comes from a seeded generator, so a
 * demo or a test that goes wrong can be replayed checkpoint for checkpoint.
 */

/** Training steps between two checkpoints: the demo's `save_steps` (and `eval_steps`). */
export const DEMO_SAVE_STEPS = 100;
const LOGGING_STEPS = 25;
const STEPS_PER_EPOCH = 500;
const MAX_STEPS = 1_000_000;
const LEARNING_RATE = 5e-5;

/** What a demo trainer is told; checked with `DemoTrainerOptionsSchema`. */
export const DemoTrainerOptionsSchema = z.strictObject({
  bucket: z.string().min(1),
  /** The files source's prefix, as a source config names it (`training/runs`). */
  prefix: z.string(),
  /** The run: the layout's `{run}` (`exp7`). */
  run: z.string().min(1),
  /** Milliseconds between the end of one checkpoint and the start of the next. */
  everyMs: z.number().int().positive(),
  /** The share of checkpoints whose writing stops before the marker (a crashed upload). */
  halfWrittenRate: z.number().min(0).max(1),
  seed: z.number().int(),
});

/** One checkpoint as the demo trainer wrote it. */
export interface DemoCheckpoint {
  step: number;
  /** True when `trainer_state.json` was written (and so every other file before it). */
  complete: boolean;
  /** The evaluation loss at this step, as `log_history[-1].eval_loss` holds it. */
  loss: number;
  /** The checkpoint's key: the source prefix, the layout's path, ending in `/`. */
  key: string;
}

/** One file of a planned checkpoint, in the order it is written. */
export interface DemoFile {
  name: string;
  body: Uint8Array;
}

/** A checkpoint before it is written: its files (the marker last) and how many get written. */
export interface DemoCheckpointPlan {
  step: number;
  loss: number;
  files: DemoFile[];
  /** How many of `files` are written: all of them, or fewer and never the marker. */
  writeCount: number;
}

const randomBytes = (random: () => number, size: number): Uint8Array =>
  Uint8Array.from({ length: size }, () => Math.floor(random() * 256));

/** A valid safetensors file: an 8-byte little-endian header length, a JSON header, F32 data. */
function safetensors(random: () => number, floats: number): Uint8Array {
  const header = Buffer.from(
    JSON.stringify({
      __metadata__: { format: "pt" },
      "classifier.weight": { dtype: "F32", shape: [floats], data_offsets: [0, floats * 4] },
    }),
  );
  const data = new Float32Array(floats).map(() => (random() - 0.5) * 0.1);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.from(data.buffer)]);
}

/** Python's `json.dumps(..., indent=2, sort_keys=True)`, as `TrainerState.save_to_json` writes. */
function pythonJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
  return `${JSON.stringify(sorted(value), null, 2)}\n`;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

/**
 * The checkpoints a run with `seed` writes, in order, forever: pure, so the same seed gives the
 * same steps, losses, bytes and half-written checkpoints whatever the timing. The loss follows a
 * decaying curve with noise, so a later checkpoint is usually but not always better, which is
 * what makes `keepBest` differ from "keep the last". `outputDir` is what the Trainer would have
 * been given (`best_model_checkpoint` names a path under it).
 */
export function* planDemoCheckpoints(
  seed: number,
  halfWrittenRate: number,
  outputDir: string,
  marker: string,
): Generator<DemoCheckpointPlan> {
  const random = seededRandom(seed);
  const logHistory: Record<string, number>[] = [];
  let best: { loss: number; step: number } | undefined;
  for (let step = DEMO_SAVE_STEPS; ; step += DEMO_SAVE_STEPS) {
    const curve = (s: number) => 0.35 + 2.2 * Math.exp(-s / 800);
    const epoch = (s: number) => round(s / STEPS_PER_EPOCH);
    for (let s = step - DEMO_SAVE_STEPS + LOGGING_STEPS; s <= step; s += LOGGING_STEPS) {
      logHistory.push({
        epoch: epoch(s),
        grad_norm: round(0.5 + random() * 2),
        learning_rate: LEARNING_RATE * (1 - s / MAX_STEPS),
        loss: round(curve(s) * (1 + (random() - 0.5) * 0.3)),
        step: s,
      });
    }
    const loss = round(curve(step) * (1 + (random() - 0.5) * 0.25));
    logHistory.push({
      epoch: epoch(step),
      eval_loss: loss,
      eval_runtime: round(1 + random(), 3),
      eval_samples_per_second: round(200 + random() * 50, 3),
      eval_steps_per_second: round(25 + random() * 6, 3),
      step,
    });
    if (best === undefined || loss < best.loss) best = { loss, step };
    const state = {
      best_global_step: best.step,
      best_metric: best.loss,
      best_model_checkpoint: `${outputDir}/checkpoint-${best.step}`,
      epoch: epoch(step),
      eval_steps: DEMO_SAVE_STEPS,
      global_step: step,
      is_hyper_param_search: false,
      is_local_process_zero: true,
      is_world_process_zero: true,
      log_history: logHistory,
      logging_steps: LOGGING_STEPS,
      max_steps: MAX_STEPS,
      num_input_tokens_seen: 0,
      num_train_epochs: MAX_STEPS / STEPS_PER_EPOCH,
      save_steps: DEMO_SAVE_STEPS,
      stateful_callbacks: {
        TrainerControl: {
          args: {
            should_epoch_stop: false,
            should_evaluate: false,
            should_log: false,
            should_save: true,
            should_training_stop: false,
          },
          attributes: {},
        },
      },
      total_flos: step * 1.5e12,
      train_batch_size: 8,
      trial_name: null,
      trial_params: null,
    };
    const text = (value: string) => Buffer.from(value);
    const files: DemoFile[] = [
      {
        name: "config.json",
        body: text(pythonJson({ architectures: ["DemoForSequenceClassification"], hidden: 64 })),
      },
      { name: "model.safetensors", body: safetensors(random, 1024) },
      { name: "training_args.bin", body: randomBytes(random, 512) },
      { name: "optimizer.pt", body: randomBytes(random, 8192) },
      { name: "scheduler.pt", body: randomBytes(random, 1024) },
      { name: "rng_state.pth", body: randomBytes(random, 2048) },
      { name: marker, body: text(pythonJson(state)) },
    ];
    const halfWritten = random() < halfWrittenRate;
    // A crash leaves at least one file and at most every file but the marker.
    const writeCount = halfWritten ? 1 + Math.floor(random() * (files.length - 1)) : files.length;
    yield { step, loss, files, writeCount };
  }
}

/** What `startDemoTrainer` needs besides its options: the S3 client and who to tell. */
export interface DemoTrainerDeps {
  s3: S3Client;
  /** Called after each checkpoint, complete or not. */
  onCheckpoint?: (checkpoint: DemoCheckpoint) => void;
  /** Called when a write fails; that checkpoint is left as far as it got and the run goes on. */
  onError?: (error: unknown) => void;
}

/** A running demo trainer. */
export interface DemoTrainer {
  /**
   * Stops the run: the checkpoint being written is finished as planned (so a run stays
   * reproducible), no further one is started, and the promise resolves once no write is in
   * flight. Rejects with the first write error when no `onError` was given.
   */
  stop(): Promise<void>;
  /** The checkpoints written so far, in order. */
  written(): DemoCheckpoint[];
}

/**
 * Starts writing checkpoints: the first at once, each next one `everyMs` after the previous one
 * ended, so writes never overlap. Keys are built with the `huggingface` preset's own layout and
 * marker, checked through the files source schema, so discovery always reads back what was written.
 */
export function startDemoTrainer(
  options: z.input<typeof DemoTrainerOptionsSchema> & DemoTrainerDeps,
): DemoTrainer {
  const { s3, onCheckpoint, onError, ...rest } = options;
  const { bucket, prefix, run, everyMs, halfWrittenRate, seed } =
    DemoTrainerOptionsSchema.parse(rest);
  const source = compileFileSource(FileSourceConfigSchema.parse({ prefix, preset: "huggingface" }));
  const marker = FILE_PRESETS.huggingface.commit.marker;
  const keyOf = (step: number) => `${source.prefix}/${formatLayout(source.layout, { run, step })}`;
  // Filled once here, so a run the layout refuses (`a/b`) fails now rather than in the background.
  keyOf(0);
  const plans = planDemoCheckpoints(seed, halfWrittenRate, `outputs/${run}`, marker);
  const written: DemoCheckpoint[] = [];
  const errors: unknown[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  function report(error: unknown): void {
    if (onError === undefined) errors.push(error);
    else onError(error);
  }

  async function writeCheckpoint(): Promise<void> {
    const plan = plans.next().value as DemoCheckpointPlan;
    const key = keyOf(plan.step);
    let count = 0;
    try {
      for (const file of plan.files.slice(0, plan.writeCount)) {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key + file.name, Body: file.body }),
        );
        count++;
      }
    } catch (error) {
      report(error);
    }
    const checkpoint = {
      step: plan.step,
      complete: count === plan.files.length,
      loss: plan.loss,
      key,
    };
    written.push(checkpoint);
    try {
      onCheckpoint?.(checkpoint);
    } catch (error) {
      report(error);
    }
  }

  function tick(): void {
    timer = undefined;
    current = writeCheckpoint().then(() => {
      if (!stopped) timer = setTimeout(tick, everyMs);
    });
  }
  tick();

  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await current;
      if (errors.length > 0) throw errors[0];
    },
    written: () => written.map((checkpoint) => ({ ...checkpoint })),
  };
}
