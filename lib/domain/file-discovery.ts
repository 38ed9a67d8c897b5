import type { Checkpoint } from "./checkpoint.ts";
import type { LayoutFields } from "./file-layout.ts";
import type { FileSource } from "./file-source.ts";
import { deterministicId } from "./ids.ts";
import { SimulationNameSchema } from "./names.ts";

/**
 * How discovery turns a checkpoint another tool wrote into a catalog record: its id, the
 * simulation it is filed under, its name. Pure, so the scan and the S3-event paths cannot
 * disagree about which record a checkpoint is.
 */

/** The provider name of every checkpoint discovery catalogs. */
export const FILES_PROVIDER = "files";

/**
 * The largest sidecar discovery reads for metrics: a long run's `trainer_state.json` (its whole
 * `log_history`) reaches megabytes; anything past this is not a sidecar worth buffering in a
 * function, and its metrics are simply absent.
 */
export const MAX_SIDECAR_BYTES = 16 * 1024 * 1024;

/**
 * The record id of a checkpoint: derived from its bucket and checkpoint key, so a scan and an S3
 * event that both see it address one record, and a conditional create makes the second a no-op.
 */
export const fileCheckpointId = (bucket: string, checkpointKey: string): string =>
  deterministicId(FILES_PROVIDER, bucket, checkpointKey);

/** Longest checkpoint name the catalog keeps (`CheckpointSchema.name`). */
const NAME_LIMIT = 256;

/**
 * The simulation a checkpoint is filed under, where retention groups it: the layout's `{run}`
 * (a training run's output directory, an experiment), since a tool's own retention (`save_total_limit`,
 * `max_to_keep`, `num_to_keep`) works per run. A layout without `{run}` files every checkpoint of
 * the source under the prefix's last segment (`hpc/lammps` → `lammps`). A value that is not a
 * valid simulation name (over 128 characters, white space at an edge) is refused: the checkpoint
 * is not cataloged, and the refusal says why.
 */
export function simulationOfCheckpoint(
  source: FileSource,
  fields: LayoutFields,
): { simulation: string } | { refusal: string } {
  const candidate = fields.run ?? source.prefix.slice(source.prefix.lastIndexOf("/") + 1);
  const parsed = SimulationNameSchema.safeParse(candidate);
  if (parsed.success) return { simulation: parsed.data };
  const why = parsed.error.issues.map((issue) => issue.message).join("; ");
  return { refusal: `simulation name ${JSON.stringify(candidate)} ${why}` };
}

/**
 * The PENDING record of a checkpoint first seen: trigger `discovered`, `location` its key (a
 * directory prefix ending in `/`, or a single object's key), `step` from the layout, `run` the
 * layout's `{name}` (a trial or sub-run within the simulation), and `createdAt` its first write,
 * so a bucket cataloged for the first time keeps its checkpoints in the order they were written.
 */
export function newFileCheckpoint(input: {
  bucket: string;
  source: FileSource;
  checkpointKey: string;
  fields: LayoutFields;
  simulation: string;
  firstWrite: Date;
  now: Date;
}): Checkpoint {
  const path = input.checkpointKey.slice(input.source.prefix.length + 1).replace(/\/$/, "");
  // The tail names it best (`exp7/checkpoint-1200`); cut by whole characters, never half a pair.
  const chars = [...path];
  while (chars.join("").length > NAME_LIMIT) chars.shift();
  return {
    id: fileCheckpointId(input.bucket, input.checkpointKey),
    version: 1,
    simulation: input.simulation,
    provider: FILES_PROVIDER,
    ...(input.fields.name === undefined ? {} : { run: input.fields.name }),
    name: chars.join(""),
    description: "",
    tags: [],
    favorite: false,
    state: "PENDING",
    trigger: "discovered",
    createdAt: input.firstWrite.toISOString(),
    modifiedAt: input.now.toISOString(),
    location: { bucket: input.bucket, key: input.checkpointKey },
    ...(input.fields.step === undefined ? {} : { step: input.fields.step }),
  };
}
