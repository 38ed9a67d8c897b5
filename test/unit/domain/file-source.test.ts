import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideCommit } from "../../../lib/domain/file-commit.ts";
import { FILE_PRESET_NAMES, FILE_PRESETS } from "../../../lib/domain/file-presets.ts";
import {
  classifyKey,
  compileFileSource,
  FileSourceConfigSchema,
  FileSourcesSchema,
  groupCheckpoints,
  readMetrics,
  sidecarFiles,
  type FileSource,
  type ListedObject,
  type ListedUpload,
} from "../../../lib/domain/file-source.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);

/** A listing written as `key size seconds-ago` lines, as `aws s3 ls --recursive` would show it. */
function listing(text: string): ListedObject[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [key = "", size = "0", age = "0"] = line.trim().split(/\s+/);
      return { key, size: Number(size), lastModified: ago(Number(age)) };
    });
}

const sourceOf = (config: unknown): FileSource =>
  compileFileSource(FileSourceConfigSchema.parse(config));

/** Each checkpoint of a listing with its fields, its objects' paths and the commit verdict. */
function survey(source: FileSource, objects: ListedObject[], uploads: ListedUpload[] = []) {
  return groupCheckpoints(source, objects, uploads).map((checkpoint) => ({
    key: checkpoint.key,
    fields: checkpoint.fields,
    files: checkpoint.objects.map((o) => o.relativePath),
    verdict: decideCommit(source.commit, checkpoint, NOW),
  }));
}

describe("presets", () => {
  it.each(FILE_PRESET_NAMES)("%s compiles: layout, commit, temporary names, metrics", (name) => {
    const source = sourceOf({ prefix: "p", preset: name });
    expect(source.layout.pattern).toBe(FILE_PRESETS[name].layout);
    expect(source.commit).toEqual(FILE_PRESETS[name].commit);
    expect(source.temporaryNames).toEqual(FILE_PRESETS[name].temporaryNames);
    expect(source.metrics.map((m) => m.name)).toEqual(Object.keys(FILE_PRESETS[name].metrics));
  });
});

describe("Hugging Face Trainer", () => {
  const source = sourceOf({ prefix: "runs", preset: "huggingface" });
  const objects = listing(`
    runs/exp7/checkpoint-500/config.json               712  7200
    runs/exp7/checkpoint-500/model.safetensors   497774208  7200
    runs/exp7/checkpoint-500/optimizer.pt        995642298  7190
    runs/exp7/checkpoint-500/rng_state.pth           14244  7190
    runs/exp7/checkpoint-500/scheduler.pt             1064  7190
    runs/exp7/checkpoint-500/trainer_state.json       1822  7190
    runs/exp7/checkpoint-500/training_args.bin        5368  7200
    runs/exp7/checkpoint-1000/config.json              712    20
    runs/exp7/checkpoint-1000/model.safetensors  497774208    15
    runs/exp7/tmp-checkpoint-1500/config.json          712    10
    runs/exp7/tmp-checkpoint-1500/trainer_state.json  1822     9
    runs/exp7/runs/Dec01_10-00-00_gpu-1/events.out.tfevents.1764583200.gpu-1.1.0  88231  5
    runs/exp7/config.json                              712     1
    runs/exp7/model.safetensors                  497774208     1
    runs/exp7/run-0/checkpoint-10/trainer_state.json  1822  7200
    runs-old/exp1/checkpoint-5/trainer_state.json     1822  9999
  `);

  it("catalogs committed and half-written checkpoints and ignores everything else", () => {
    expect(survey(source, objects)).toEqual([
      {
        key: "runs/exp7/checkpoint-1000/",
        fields: { run: "exp7", step: 1000 },
        files: ["config.json", "model.safetensors"],
        verdict: { state: "PENDING", reason: "no-marker" },
      },
      {
        key: "runs/exp7/checkpoint-500/",
        fields: { run: "exp7", step: 500 },
        files: [
          "config.json",
          "model.safetensors",
          "optimizer.pt",
          "rng_state.pth",
          "scheduler.pt",
          "trainer_state.json",
          "training_args.bin",
        ],
        verdict: { state: "COMPLETE", reason: "committed", committedAt: ago(7190) },
      },
    ]);
  });

  it("waits while a sync tool is still uploading the weights after the state file", () => {
    const synced = listing(`
      runs/exp7/checkpoint-1500/trainer_state.json  1822  100
      runs/exp7/checkpoint-1500/config.json          712  100
    `);
    const uploads = [{ key: "runs/exp7/checkpoint-1500/model.safetensors", initiated: ago(100) }];
    expect(survey(source, synced, uploads)[0]?.verdict).toEqual({
      state: "PENDING",
      reason: "uploading",
    });
    expect(survey(source, synced)[0]?.verdict).toMatchObject({ state: "COMPLETE" });
  });

  it("reads a nested hyperparameter-search run with a layout of its own", () => {
    const nested = sourceOf({
      prefix: "runs",
      preset: "huggingface",
      layout: "{run}/{name}/checkpoint-{step}/",
    });
    expect(survey(nested, objects).map((c) => [c.key, c.fields])).toEqual([
      ["runs/exp7/run-0/checkpoint-10/", { run: "exp7", name: "run-0", step: 10 }],
    ]);
  });

  it("reads eval_loss from trainer_state.json", () => {
    expect(sidecarFiles(source)).toEqual(["trainer_state.json"]);
    const state = JSON.stringify({
      global_step: 500,
      log_history: [
        { loss: 1.2, step: 500 },
        { eval_loss: 0.52, step: 500 },
      ],
    });
    expect(readMetrics(source, new Map([["trainer_state.json", state]]))).toEqual({
      eval_loss: 0.52,
    });
  });
});

describe("Orbax CheckpointManager", () => {
  const source = sourceOf({
    prefix: "jax/ckpts",
    preset: "orbax",
    metrics: { loss: { path: "loss" }, accuracy: { path: "accuracy" } },
  });
  const objects = listing(`
    jax/ckpts/exp1/_ROOT_METADATA                                       310  9000
    jax/ckpts/exp1/1000/_CHECKPOINT_METADATA                            214  3700
    jax/ckpts/exp1/1000/default/_METADATA                              8110  3650
    jax/ckpts/exp1/1000/default/_sharding                               902  3650
    jax/ckpts/exp1/1000/default/manifest.ocdbt                          120  3640
    jax/ckpts/exp1/1000/default/ocdbt.process_0/d/3f9a2c1e7b          41943040  3640
    jax/ckpts/exp1/1000/metrics/metrics                                  48  3630
    jax/ckpts/exp1/1000/commit_success.txt                               62  3600
    jax/ckpts/exp1/2000/_CHECKPOINT_METADATA                            214    60
    jax/ckpts/exp1/2000/default/manifest.ocdbt                          120    50
    jax/ckpts/exp1/2000/default.orbax-checkpoint-tmp-1764590000/_METADATA  8110  40
    jax/ckpts/exp1/3000.orbax-checkpoint-tmp-1764590400/_CHECKPOINT_METADATA  214  5
    jax/ckpts/exp1/3000.orbax-checkpoint-tmp-1764590400/default/_METADATA   8110  5
  `);

  it("completes a step by commit_success.txt and ignores temporary directories at any depth", () => {
    expect(survey(source, objects)).toEqual([
      {
        key: "jax/ckpts/exp1/1000/",
        fields: { run: "exp1", step: 1000 },
        files: [
          "_CHECKPOINT_METADATA",
          "default/_METADATA",
          "default/_sharding",
          "default/manifest.ocdbt",
          "default/ocdbt.process_0/d/3f9a2c1e7b",
          "metrics/metrics",
          "commit_success.txt",
        ],
        verdict: { state: "COMPLETE", reason: "committed", committedAt: ago(3600) },
      },
      {
        key: "jax/ckpts/exp1/2000/",
        fields: { run: "exp1", step: 2000 },
        files: ["_CHECKPOINT_METADATA", "default/manifest.ocdbt"],
        verdict: { state: "PENDING", reason: "no-marker" },
      },
    ]);
  });

  it("reads the metrics passed to save from metrics/metrics", () => {
    const files = new Map([["metrics/metrics", '{"loss": 0.25, "accuracy": NaN}']]);
    expect(readMetrics(source, files)).toEqual({ loss: 0.25 });
  });
});

describe("PyTorch Lightning ModelCheckpoint", () => {
  const source = sourceOf({ prefix: "pl", preset: "lightning" });
  const objects = listing(`
    pl/exp7/epoch=0-step=500.ckpt        1493172845  7200
    pl/exp7/epoch=1-step=1000.ckpt       1493172845  3600
    pl/exp7/epoch=1-step=1000-v1.ckpt    1493172845  3500
    pl/exp7/last.ckpt                    1493172845  3500
    pl/exp7/hparams.yaml                        412  7300
  `);

  it("takes each .ckpt for a whole checkpoint once listed; last.ckpt and versions are not", () => {
    const uploads = [{ key: "pl/exp7/epoch=2-step=1500.ckpt", initiated: ago(30) }];
    expect(survey(source, objects, uploads)).toEqual([
      {
        key: "pl/exp7/epoch=0-step=500.ckpt",
        fields: { run: "exp7", epoch: 0, step: 500 },
        files: [""],
        verdict: { state: "COMPLETE", reason: "atomic", committedAt: ago(7200) },
      },
      {
        key: "pl/exp7/epoch=1-step=1000.ckpt",
        fields: { run: "exp7", epoch: 1, step: 1000 },
        files: [""],
        verdict: { state: "COMPLETE", reason: "atomic", committedAt: ago(3600) },
      },
      {
        key: "pl/exp7/epoch=2-step=1500.ckpt",
        fields: { run: "exp7", epoch: 2, step: 1500 },
        files: [],
        verdict: { state: "PENDING", reason: "uploading" },
      },
    ]);
  });

  it("reads the default logger's folders with a layout of its own", () => {
    const logged = sourceOf({
      prefix: "pl/lightning_logs",
      preset: "lightning",
      layout: "{run}/checkpoints/epoch={epoch}-step={step}.ckpt",
    });
    const keys = listing(`
      pl/lightning_logs/version_0/checkpoints/epoch=4-step=2500.ckpt  1493172845  60
      pl/lightning_logs/version_0/hparams.yaml                               412  60
      pl/lightning_logs/version_0/events.out.tfevents.1764583200.gpu-1.1.0  9120  60
    `);
    expect(survey(logged, keys).map((c) => [c.key, c.fields])).toEqual([
      [
        "pl/lightning_logs/version_0/checkpoints/epoch=4-step=2500.ckpt",
        { run: "version_0", epoch: 4, step: 2500 },
      ],
    ]);
  });
});

describe("Ray Train", () => {
  it("reads V2's timestamped checkpoints, complete after a quiet period", () => {
    const source = sourceOf({ prefix: "ray-results", preset: "ray" });
    const objects = listing(`
      ray-results/llm-ft/.validate_storage_marker                                  0  9000
      ray-results/llm-ft/checkpoint_manager_snapshot.json                       2210   100
      ray-results/llm-ft/checkpoint_2026-12-01_09-00-00.123456/                    0  10800
      ray-results/llm-ft/checkpoint_2026-12-01_09-00-00.123456/model.pt    523110400  10790
      ray-results/llm-ft/checkpoint_2026-12-01_09-00-00.123456/.metadata.json     31  10780
      ray-results/llm-ft/checkpoint_2026-12-01_11-58-30.000001/                    0    90
      ray-results/llm-ft/checkpoint_2026-12-01_11-58-30.000001/model.pt    523110400    60
      ray-results/llm-ft/checkpoint_2026-12-01_11-59-50.500000/                    0    10
    `);
    expect(survey(source, objects)).toEqual([
      {
        key: "ray-results/llm-ft/checkpoint_2026-12-01_09-00-00.123456/",
        fields: { run: "llm-ft", time: new Date("2026-12-01T09:00:00.123Z") },
        files: ["", "model.pt", ".metadata.json"],
        verdict: { state: "COMPLETE", reason: "quiet", committedAt: ago(10780) },
      },
      {
        key: "ray-results/llm-ft/checkpoint_2026-12-01_11-58-30.000001/",
        fields: { run: "llm-ft", time: new Date("2026-12-01T11:58:30.000Z") },
        files: ["", "model.pt"],
        verdict: {
          state: "PENDING",
          reason: "writing",
          recheckAt: new Date(NOW.getTime() + 60_000),
        },
      },
      {
        key: "ray-results/llm-ft/checkpoint_2026-12-01_11-59-50.500000/",
        fields: { run: "llm-ft", time: new Date("2026-12-01T11:59:50.500Z") },
        files: [""],
        verdict: { state: "PENDING", reason: "empty" },
      },
    ]);
  });

  it("reads Ray Tune and Train V1 trials' numbered checkpoints", () => {
    const source = sourceOf({ prefix: "ray-results", preset: "ray-v1" });
    const objects = listing(`
      ray-results/TorchTrainer_2026-12-01_09-00-00/tuner.pkl                                        4410  9000
      ray-results/TorchTrainer_2026-12-01_09-00-00/TorchTrainer_8bd86_00000_0_2026-12-01_09-00-01/result.json  9120  300
      ray-results/TorchTrainer_2026-12-01_09-00-00/TorchTrainer_8bd86_00000_0_2026-12-01_09-00-01/checkpoint_000000/model.pt  523110400  7000
      ray-results/TorchTrainer_2026-12-01_09-00-00/TorchTrainer_8bd86_00000_0_2026-12-01_09-00-01/checkpoint_000001/model.pt  523110400  3000
    `);
    expect(survey(source, objects).map((c) => [c.fields, c.verdict.state])).toEqual([
      [
        {
          run: "TorchTrainer_2026-12-01_09-00-00",
          name: "TorchTrainer_8bd86_00000_0_2026-12-01_09-00-01",
          index: 0,
        },
        "COMPLETE",
      ],
      [
        {
          run: "TorchTrainer_2026-12-01_09-00-00",
          name: "TorchTrainer_8bd86_00000_0_2026-12-01_09-00-01",
          index: 1,
        },
        "COMPLETE",
      ],
    ]);
  });
});

describe("classifyKey", () => {
  const source = sourceOf({ prefix: "runs", preset: "huggingface", temporaryNames: ["*.partial"] });

  it.each([
    "runs/exp7/checkpoint-5/model.safetensors.partial",
    "runs/exp7/checkpoint-5/../../other/file",
    "runs/exp7/checkpoint-5/./file",
    "runs/exp7/checkpoint-5//file",
    "runs//exp7/checkpoint-5/file",
    "runsx/exp7/checkpoint-5/file",
    "runs",
    "exp7/checkpoint-5/file",
  ])("leaves %s to no checkpoint", (key) => {
    expect(classifyKey(source, key)).toBeUndefined();
  });

  it("holds checkpointKey + relativePath === key for every key it places", () => {
    const segment = fc.constantFrom(
      "exp7",
      "checkpoint-5",
      "tmp-checkpoint-5",
      "a.partial",
      "x",
      "",
      ".",
      "..",
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const key = `runs/${segments.join("/")}`;
        const match = classifyKey(source, key);
        if (match !== undefined) {
          expect(match.checkpointKey + match.relativePath).toBe(key);
          const inside = match.relativePath === "" ? [] : match.relativePath.split("/");
          expect(inside.every((s) => s !== "." && s !== ".." && !s.endsWith(".partial"))).toBe(
            true,
          );
        }
      }),
    );
  });
});

describe("source configs", () => {
  const issues = (config: unknown): string =>
    FileSourceConfigSchema.safeParse(config)
      .error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ") ?? "";

  it("adds its temporary names to the preset's and replaces its commit and metrics", () => {
    const source = sourceOf({
      prefix: "jax",
      preset: "orbax",
      commit: { quietSeconds: 600 },
      temporaryNames: ["*.lock"],
      metrics: { loss: { file: "metrics.json", path: "loss" } },
    });
    expect(source.commit).toEqual({ kind: "quiet", quietSeconds: 600 });
    expect(source.temporaryNames).toEqual(["*.orbax-checkpoint-tmp*", "*.lock"]);
    expect(sidecarFiles(source)).toEqual(["metrics.json"]);
  });

  it("needs no preset when it says everything itself", () => {
    const source = sourceOf({
      prefix: "hpc/lammps",
      layout: "{run}/restart.{step}/",
      commit: { marker: "_SUCCESS" },
    });
    expect(source.commit).toEqual({ kind: "marker", marker: "_SUCCESS", settleSeconds: 0 });
  });

  it.each([
    [{ prefix: "p" }, "layout: name a layout, or a preset that has one"],
    [{ prefix: "p", layout: "{run}/{step}/" }, "commit: a directory layout needs a commit rule"],
    [
      { prefix: "p", preset: "lightning", layout: "{run}/{step}/" },
      "commit: a directory layout needs a commit rule",
    ],
    [
      { prefix: "p", preset: "lightning", commit: { marker: "x" } },
      "commit: a single-object layout takes no commit rule",
    ],
    [
      { prefix: "p", preset: "lightning", metrics: { loss: { file: "m.json", path: "loss" } } },
      "metrics.loss: a single-object checkpoint has no sidecar",
    ],
    [
      {
        prefix: "p",
        layout: "{run}/{step}/",
        commit: { quietSeconds: 60 },
        metrics: { loss: { path: "loss" } },
      },
      "metrics.loss.file: name the sidecar file",
    ],
    [
      { prefix: "p", preset: "huggingface", temporaryNames: ["trainer_*"] },
      "commit.marker: trainer_state.json matches the temporary name trainer_*",
    ],
    [
      {
        prefix: "p",
        preset: "ray",
        metrics: { loss: { file: "tmp/m.json", path: "loss" } },
        temporaryNames: ["tmp"],
      },
      "metrics.loss.file: tmp/m.json matches the temporary name tmp",
    ],
    [
      { prefix: "p", preset: "huggingface", metrics: { loss: { path: "log_history[-1]..loss" } } },
      "metrics.loss.path: invalid metric path",
    ],
    [{ prefix: "p", preset: "ray", temporaryNames: ["a/b"] }, 'must not contain "/"'],
    [{ prefix: "p", preset: "ray", temporaryNames: ["[z-a]"] }, "range z-a is reversed"],
    [
      { prefix: "p", preset: "pytorch" },
      "preset: must be one of huggingface, orbax, lightning, ray, ray-v1",
    ],
    [{ prefix: "", preset: "ray" }, "simsnap never scans a whole bucket"],
    [{ prefix: "/runs/", preset: "ray" }, "no leading or trailing"],
    [{ prefix: "runs/../x", preset: "ray" }, 'must not have a "." or ".." segment'],
    [
      { prefix: "p", preset: "ray", layout: "{run}{time}/" },
      "layout: fields {run} and {time} are adjacent",
    ],
  ])("refuses %j", (config, why) => {
    expect(issues(config)).toContain(why);
  });

  it("refuses sources whose prefixes nest", () => {
    const sources = [
      { prefix: "runs", preset: "huggingface" },
      { prefix: "jax", preset: "orbax" },
      { prefix: "runs/exp7", preset: "ray" },
    ];
    const result = FileSourcesSchema.safeParse(sources);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: [2, "prefix"],
        message: expect.stringContaining("runs and runs/exp7 overlap"),
      }),
    ]);
    expect(
      FileSourcesSchema.safeParse([sources[0], { prefix: "runs-old", preset: "ray" }]).success,
    ).toBe(true);
  });
});

describe("readMetrics", () => {
  const source = sourceOf({
    prefix: "p",
    preset: "huggingface",
    metrics: {
      eval_loss: { path: "log_history[-1].eval_loss" },
      best: { path: "best_metric" },
      accuracy: { file: "eval/metrics.json", path: '["val/acc"]' },
    },
  });

  it("parses each file once and leaves out what a file does not hold", () => {
    const files = new Map([
      ["trainer_state.json", '{"best_metric": NaN, "log_history": [{"eval_loss": 0.4}]}'],
      ["eval/metrics.json", '{"val/acc": 0.91}'],
    ]);
    expect(readMetrics(source, files)).toEqual({ eval_loss: 0.4, accuracy: 0.91 });
  });

  it("treats a corrupt or missing sidecar as no metrics, not as a failure", () => {
    const files = new Map([["trainer_state.json", '{"log_history": [{"eval_loss": 0.4}']]);
    expect(readMetrics(source, files)).toEqual({});
  });
});
