import {
  compileFileSource,
  FileSourceConfigSchema,
  type FileSource,
} from "../../lib/domain/file-source.ts";
import { FILES, filesProvider } from "../../lib/adapters/files/provider.ts";
import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import type { FileOwnership } from "../../lib/domain/object-set.ts";
import type { ObjectStore } from "../../lib/ports/object-store.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import { FakeProvider } from "./fake-provider.ts";

/** The bucket the files tests' training tools write to. */
export const FILES_BUCKET = "training";

/** A files source as a config would give it. */
export const sourceOf = (config: unknown): FileSource =>
  compileFileSource(FileSourceConfigSchema.parse(config));

/**
 * Three sources, one per commit rule: Hugging Face (marker `trainer_state.json`), Ray (quiet
 * period, no marker) and Lightning (single objects).
 */
export const fileOwnership = (): FileOwnership => ({
  bucket: FILES_BUCKET,
  sources: [
    sourceOf({ prefix: "runs", preset: "huggingface" }),
    sourceOf({ prefix: "ray", preset: "ray" }),
    sourceOf({ prefix: "lightning", preset: "lightning" }),
  ],
});

/**
 * Writes a Hugging Face checkpoint of `files` objects under `runs/<run>/checkpoint-<step>/`, the
 * marker `trainer_state.json` among them (written last, as the Trainer does), and returns its key.
 */
export async function writeHfCheckpoint(
  store: Pick<ObjectStore, "put">,
  options: { run?: string; step?: number; files?: number; body?: (i: number) => string } = {},
): Promise<string> {
  const key = `runs/${options.run ?? "exp7"}/checkpoint-${options.step ?? 1200}/`;
  const files = options.files ?? 4;
  for (let i = 0; i < files - 1; i++) {
    const name = i === 0 ? "model.safetensors" : `shards/part-${String(i).padStart(5, "0")}.bin`;
    await store.put({ bucket: FILES_BUCKET, key: key + name }, options.body?.(i) ?? `${name} ${i}`);
  }
  await store.put(
    { bucket: FILES_BUCKET, key: `${key}trainer_state.json` },
    JSON.stringify({ global_step: options.step ?? 1200, log_history: [{ eval_loss: 0.42 }] }),
  );
  return key;
}

/**
 * The catalog record of a files checkpoint as discovery writes it: provider `files`, trigger
 * `discovered`, `location` its checkpoint key in the files bucket, its step and metrics.
 */
export const filesRecord = (
  key: string,
  overrides: Partial<Checkpoint> & { createdAt: string },
): Checkpoint => ({
  id: overrides.id ?? `f-${key.replace(/[^a-z0-9]+/gi, "-")}`,
  version: 1,
  simulation: "exp7",
  provider: FILES,
  name: key,
  description: "",
  tags: [],
  favorite: false,
  state: "COMPLETE",
  trigger: "discovered",
  modifiedAt: overrides.createdAt,
  completedAt: overrides.createdAt,
  location: { bucket: FILES_BUCKET, key },
  size: 0,
  ...overrides,
});

/** The providers a files deployment resolves: a SimSpace Weaver-like fake and `files`. */
export const filesProviders = () => directoryOf([new FakeProvider(), filesProvider]);
