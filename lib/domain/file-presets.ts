import type { CommitRule } from "./file-commit.ts";

/**
 * How the training tools simsnap knows name and finish their checkpoints, so a source can say
 * `"preset": "huggingface"` instead of restating it. Each was read from the tool's own code; the
 * sources and the caveats are in docs/files-provider.md. A source's own `layout`, `commit`,
 * `temporaryNames` and `metrics` override the preset's (a tool configured away from its defaults).
 */
export interface FilePreset {
  /** Key pattern below the source prefix (see file-layout.ts). */
  readonly layout: string;
  readonly commit: CommitRule;
  /**
   * Globs for names the tool writes while a checkpoint is unfinished; a key with a path segment
   * matching one is never a checkpoint nor part of one.
   */
  readonly temporaryNames: readonly string[];
  /** The JSON file inside a checkpoint that metrics are read from, when the tool writes one. */
  readonly sidecar?: string;
  /** Metrics read from `sidecar` when the source names none: metric name → path (metric-path.ts). */
  readonly metrics: Readonly<Record<string, string>>;
}

/** The presets, by the name a source config uses. */
export const FILE_PRESETS = {
  /**
   * Hugging Face `Trainer`: `output_dir/checkpoint-{global_step}/`, `trainer_state.json` written
   * after the model, optimizer, scheduler and RNG files. The Trainer writes to a local path; a
   * sync tool (SageMaker's checkpoint sync, `aws s3 sync`) uploads the files in any order, hence
   * the settle period. transformers from 4.36 staged into `tmp-checkpoint-{step}` and renamed it,
   * for a few releases.
   * `log_history[-1]` is the evaluation's entry when evaluation runs at the save step.
   */
  huggingface: {
    layout: "{run}/checkpoint-{step}/",
    commit: { kind: "marker", marker: "trainer_state.json", settleSeconds: 30 },
    temporaryNames: ["tmp-checkpoint-*"],
    sidecar: "trainer_state.json",
    metrics: { eval_loss: "log_history[-1].eval_loss" },
  },
  /**
   * Orbax `CheckpointManager`: `directory/{step}/`, one subdirectory per item, and metrics passed
   * to `save` in `metrics/metrics`. `commit_success.txt` is written last by
   * `CommitFileTemporaryPath`, Orbax's default on GCS; on S3 its default renames a
   * `{step}.orbax-checkpoint-tmp…` directory, which S3 can only do object by object, so set
   * `temporary_path_class=CommitFileTemporaryPath` (or give the source `quietSeconds`).
   */
  orbax: {
    layout: "{run}/{step}/",
    commit: { kind: "marker", marker: "commit_success.txt", settleSeconds: 0 },
    temporaryNames: ["*.orbax-checkpoint-tmp*"],
    sidecar: "metrics/metrics",
    metrics: {},
  },
  /**
   * PyTorch Lightning `ModelCheckpoint`: one `epoch={epoch}-step={step}.ckpt` object in
   * `dirpath` (its default filename `{epoch}-{step}` with metric names inserted). The `.ckpt` is
   * a torch pickle, so no metric is readable from it; `last.ckpt` and `-v1` versions are other
   * names and not matched.
   */
  lightning: {
    layout: "{run}/epoch={epoch}-step={step}.ckpt",
    commit: { kind: "atomic" },
    temporaryNames: [],
    metrics: {},
  },
  /**
   * Ray Train (V2, the default since late 2025): `storage_path/{name}/checkpoint_{stamp}/`, the
   * stamp the controller's local time (`%Y-%m-%d_%H-%M-%S.%f`), files copied one by one with
   * no marker. Reported metrics stay outside the checkpoint; `Checkpoint.set_metadata` writes
   * `.metadata.json` inside it.
   */
  ray: {
    layout: "{run}/checkpoint_{time}/",
    commit: { kind: "quiet", quietSeconds: 120 },
    temporaryNames: [],
    sidecar: ".metadata.json",
    metrics: {},
  },
  /**
   * Ray Tune, and Ray Train V1 (`RAY_TRAIN_V2_ENABLED=0`):
   * `storage_path/{experiment}/{trial}/checkpoint_{index:06d}/`, copied like V2's.
   */
  "ray-v1": {
    layout: "{run}/{name}/checkpoint_{index}/",
    commit: { kind: "quiet", quietSeconds: 120 },
    temporaryNames: [],
    sidecar: ".metadata.json",
    metrics: {},
  },
} as const satisfies Record<string, FilePreset>;

/** A preset's name. */
export type FilePresetName = keyof typeof FILE_PRESETS;

/** The preset names, for the config schema and its error message. */
export const FILE_PRESET_NAMES = Object.keys(FILE_PRESETS) as [FilePresetName, ...FilePresetName[]];
