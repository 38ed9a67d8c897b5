import * as z from "zod";
import { LOCAL_SNAPSHOT_BUCKET, type SimsnapConfig } from "../domain/config-file.ts";
import { FileSourceConfigSchema, type FileSourceConfig } from "../domain/file-source.ts";
import {
  DEFAULT_AIR_TOKEN_ENV,
  simSpaceWeaverEnabled,
  type ProviderName,
} from "../domain/providers.ts";
import { RetentionConfigSchema, type RetentionConfig } from "../domain/retention.ts";
import { reconcileGraceSeconds } from "../domain/snapshot-reconcile.ts";
import { userCheckFor, type UserCheckSetting } from "../domain/verification.ts";
import { schedulesFor, type ScheduleSpec } from "../topology.ts";

/**
 * The local stack's own knobs: its table and the timings of the simulator and the status checks.
 * What a deployment does (destination, schedules, retention, demo simulations) comes from the
 * config file (`simsnap.config.json`); the defaults here give a visible demo (snapshot files
 * written after 3 seconds, first status check after 5).
 */
export const LocalConfigSchema = z.object({
  table: z.string().min(3).default("simsnap-catalog"),
  snapshotDelayMs: z.number().int().nonnegative().default(3_000),
  statusCheckFirstSeconds: z.number().int().positive().default(5),
  statusCheckMaxSeconds: z.number().int().positive().max(900).default(20),
  snapshotDeadlineSeconds: z.number().int().positive().default(90),
  /** How long past its due time the sweeper takes a job's step for lost (every 5 s locally). */
  sweepGraceSeconds: z.number().int().positive().default(10),
  /** Used when the config file has no `retention`: the two newest stay, plus the favorite. */
  retention: RetentionConfigSchema.prefault({ default: { keepLast: 2 } }),
  /** Completions within this window prune once (the prune queue's delay). */
  pruneDebounceSeconds: z.number().int().min(1).max(900).default(3),
  /** Mark the first checkpoint of the first demo simulation favorite, as a user would. */
  favoriteFirstCheckpoint: z.boolean().default(true),
  /** Where archive copies go when the config file names no `archive.bucket`. */
  archiveBucket: z.string().min(3).default("simsnap-archive"),
  /**
   * At the end of the run, restore a checkpoint of the first demo simulation into a new
   * simulation (from its archive when retention pruned its file), and show the tick it resumed at.
   */
  restoreDemo: z.boolean().default(true),
  /**
   * Drive the NVIDIA Air demo simulations through the API while the run lasts: stop with a
   * checkpoint, favorite it, start from it, stop again (so retention prunes on Air), and at the
   * end restore one. Off, they are only there, mirrored by the sync schedule.
   */
  airDemo: z.boolean().default(true),
  /** How long the local Air server keeps a simulation in each state of a start or shutdown. */
  airStateDelayMs: z.number().int().nonnegative().default(250),
  /**
   * Chaos mode (`--faults`, `--drop-events`, `--seed`): the simulator answers a share of simsnap's
   * calls with a transient error, and the bus loses a share of the snapshot bucket's S3 events,
   * both decided by one seed; absent, nothing is disturbed.
   */
  chaos: z
    .object({
      providerFaults: z.number().min(0).max(1).default(0),
      dropEvents: z.number().min(0).max(1).default(0),
      seed: z.number().int().min(0).max(0xffff_ffff),
    })
    .optional(),
});
/** The local stack's own knobs. */
export type LocalConfig = z.infer<typeof LocalConfigSchema>;

/** A demo simulation the local stack starts, on its provider, with its AWS tags. */
export interface DemoSimulation {
  name: string;
  provider: ProviderName;
  tags: Record<string, string>;
}

/** What a local run works with: its own knobs merged with what the config file says. */
export interface LocalStackConfig extends LocalConfig {
  bucket: string;
  prefix: string;
  /** The config file's `destination.adoptPrefixes`: other prefixes simsnap manages as its own. */
  adoptPrefixes: string[];
  /** The config file's `destination.trashDays`; the functions' default (7) when unset. */
  trashDays?: number;
  /** Names of the SimSpace Weaver demo simulations (on the local simulator), in the file's order. */
  simulations: string[];
  /** Names of the NVIDIA Air demo simulations (on the local Air server), in the file's order. */
  airSimulations: string[];
  /** Every demo simulation, in the config file's order. */
  demo: DemoSimulation[];
  /**
   * NVIDIA Air, locally: on the local Air server whenever the file configures Air or a demo
   * simulation is on it; the token is put in the environment variable `tokenEnv` (the file's
   * `providers.air.token.env`), as an operator would export it.
   */
  air?: { tokenEnv: string };
  /** Every schedule, with the local expressions (`localExpression` where one is set). */
  schedules: ScheduleSpec[];
  archiveStorageClass: string;
  /** The config file's `archive.retention`; archives are kept when it has none. */
  archiveRetention?: RetentionConfig;
  /**
   * The config file's `providers.files`, its bucket resolved (the local snapshot bucket when it
   * names none): the checkpoints other tools write, which the files functions discover.
   */
  files?: { bucket: string; sources: FileSourceConfig[] };
  /** The demo trainer as it runs: the files source it writes into, and its knobs. */
  trainer?: {
    bucket: string;
    prefix: string;
    run: string;
    everyMs: number;
    halfWrittenRate: number;
    seed: number;
  };
  /** The restore tests' user check as the local stack runs it (the config's `command`). */
  verificationCheck?: UserCheckSetting;
  /** Whether the functions manage SimSpace Weaver (on the local simulator): `simSpaceWeaverEnabled`. */
  simSpaceWeaver: boolean;
}

/**
 * The files source the demo trainer writes into when the config file has none at its prefix: the
 * `huggingface` preset, settling 5 s (the trainer writes its files one by one, the marker last,
 * so the preset's 30 s for parallel uploads would only slow the demo down).
 */
const trainerSource = (prefix: string): FileSourceConfig =>
  FileSourceConfigSchema.parse({
    prefix,
    preset: "huggingface",
    commit: { marker: "trainer_state.json", settleSeconds: 5 },
  });

/**
 * Merges the local knobs with the config file: the destination (the local bucket when the file
 * names none), the demo simulations and the demo trainer's run, the schedules as the local
 * runtime runs them, and the file's retention over the local fallback.
 */
export function resolveLocalConfig(local: LocalConfig, file: SimsnapConfig): LocalStackConfig {
  const filesBucket =
    file.providers.files?.bucket ?? file.destination.bucket ?? LOCAL_SNAPSHOT_BUCKET;
  const trainer = file.local.trainer;
  const trainerRun = trainer && { bucket: filesBucket, ...trainer };
  // The trainer's prefix is a files source here (its own, unless one is configured there).
  const configured = file.providers.files?.sources ?? [];
  const sources =
    trainer === undefined || configured.some((s) => s.prefix === trainer.prefix)
      ? configured
      : [...configured, trainerSource(trainer.prefix)];
  const files = sources.length > 0 ? { bucket: filesBucket, sources } : undefined;
  return {
    ...local,
    retention: file.retention ?? local.retention,
    bucket: file.destination.bucket ?? LOCAL_SNAPSHOT_BUCKET,
    prefix: file.destination.prefix,
    adoptPrefixes: file.destination.adoptPrefixes,
    trashDays: file.destination.trashDays,
    simulations: file.local.simulations.filter((s) => s.provider !== "air").map((s) => s.name),
    airSimulations: file.local.simulations.filter((s) => s.provider === "air").map((s) => s.name),
    // The trainer's run is summarized beside the demo simulations: it is the files provider's.
    demo: [
      ...file.local.simulations,
      ...(trainerRun ? [{ name: trainerRun.run, provider: "files" as const, tags: {} }] : []),
    ],
    air:
      file.providers.air !== undefined || file.local.simulations.some((s) => s.provider === "air")
        ? { tokenEnv: file.providers.air?.token.env ?? DEFAULT_AIR_TOKEN_ENV }
        : undefined,
    schedules: schedulesFor({ ...file, providers: { ...file.providers, files } }, "local"),
    archiveBucket: file.archive?.bucket ?? local.archiveBucket,
    archiveStorageClass: file.archive?.storageClass ?? "STANDARD_IA",
    archiveRetention: file.archive?.retention,
    files,
    trainer: trainerRun,
    verificationCheck: userCheckFor(file.verification?.check, "local"),
    simSpaceWeaver: simSpaceWeaverEnabled(file.providers),
  };
}

/**
 * The reconciling scan's grace in the local stack (`SIMSNAP_RECONCILE_GRACE_SECONDS`): after the
 * snapshot deadline, the sweeper's grace and twice its 5 s period, where AWS waits ten minutes
 * (`RECONCILE_MARGIN_SECONDS`) for a sweeper that looks every five.
 */
export const localReconcileGraceSeconds = (
  config: Pick<LocalConfig, "snapshotDeadlineSeconds" | "sweepGraceSeconds">,
): number =>
  reconcileGraceSeconds({
    deadlineSeconds: config.snapshotDeadlineSeconds,
    marginSeconds: config.sweepGraceSeconds + 10,
  });
