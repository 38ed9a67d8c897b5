import * as z from "zod";
import { ArchiveStorageClassSchema } from "./archive.ts";
import { isTimeZone } from "./duration.ts";
import { ValidationError } from "./errors.ts";
import { SourcePrefixSchema } from "./file-source.ts";
import { ScheduleActionSchema } from "./messages.ts";
import { SimSpaceWeaverNameSchema, SimulationNameSchema } from "./names.ts";
import {
  ProviderNameSchema,
  ProvidersConfigSchema,
  simSpaceWeaverEnabled,
  type ProviderName,
  type ProvidersConfig,
} from "./providers.ts";
import { RetentionConfigSchema } from "./retention.ts";
import { TrashDaysSchema } from "./trash.ts";
import { SnapshotPrefixSchema } from "./s3-key.ts";
import { ownedPrefixes } from "./snapshot-key.ts";
import { parseScheduleExpression } from "./schedule-expression.ts";
import { SimulationSelectorSchema } from "./selector.ts";
import { VerificationConfigSchema } from "./verification.ts";

/** S3's naming rule, checked here so a typo fails the config, not the first snapshot. */
export const BucketNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens",
  );

/**
 * Where snapshots are written. Locally `bucket` is the bucket simsnap creates; in AWS the
 * stateful stack gives its snapshot bucket this name when it is set (CloudFormation picks one
 * otherwise, which is what lets two deployments live in one account).
 */
export const DestinationSchema = z.strictObject({
  bucket: BucketNameSchema.optional(),
  prefix: SnapshotPrefixSchema.default("simsnap"),
  /**
   * Other prefixes in the bucket whose snapshot files simsnap takes over: catalogs them as
   * `discovered`, prunes and deletes them like its own. Empty by default, so files another tool
   * writes beside simsnap's are never touched unless the config says so here.
   */
  adoptPrefixes: z.array(SnapshotPrefixSchema).default([]),
  /**
   * Days a deleted checkpoint's snapshot file stays in the trash, recoverable by an undelete,
   * before the daily purge removes it (docs/trash.md); 0 deletes at once. Unset: 7
   * (`DEFAULT_TRASH_DAYS`, the functions' default of `SIMSNAP_TRASH_DAYS`).
   */
  trashDays: TrashDaysSchema.optional(),
});

/** The bucket the local runtime uses when the config names none. */
export const LOCAL_SNAPSHOT_BUCKET = "simsnap-snapshots";

const expression = (allowSeconds: boolean) =>
  z.string().superRefine((text, ctx) => {
    try {
      parseScheduleExpression(text, { allowSeconds });
    } catch (error) {
      const rule =
        error instanceof ValidationError
          ? (error.details[0]?.message ?? error.message)
          : String(error);
      ctx.addIssue({ code: "custom", message: rule });
    }
  });

/**
 * One snapshot schedule: an EventBridge Scheduler expression in a time zone, and the simulations
 * it snapshots. `localExpression` replaces `expression` in the local runtime only, which is where
 * `rate(N seconds)` belongs (a demo); `expression` refuses seconds because Scheduler cannot run
 * them. A disabled schedule is still deployed (state `DISABLED`), so enabling it is one change.
 */
export const ScheduleConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[0-9a-zA-Z._-]{1,64}$/,
      "must be 1 to 64 letters, digits, '.', '_' or '-' (EventBridge Scheduler's rule)",
    ),
  description: z.string().max(512, "must be at most 512 characters").optional(),
  expression: expression(false),
  localExpression: expression(true).optional(),
  timeZone: z
    .string()
    .refine(isTimeZone, "must be an IANA time zone name such as UTC or Europe/Berlin")
    .default("UTC"),
  selector: SimulationSelectorSchema.prefault({}),
  /**
   * `cycle` opts in to stopping a simulation with a checkpoint and starting it again from that
   * checkpoint, on a platform that cannot snapshot it while it runs; never the default, since it
   * interrupts the simulation. Which simulations that applies to is known only at run time (their
   * provider), so it is accepted for any selector, and the others are reported as skipped.
   */
  action: ScheduleActionSchema.default("snapshot"),
  enabled: z.boolean().default(true),
});
/** One validated snapshot schedule. */
export type ScheduleConfig = z.output<typeof ScheduleConfigSchema>;

/**
 * Archive settings (the archive flow reads them): where archive copies go, in which storage
 * class, and the archive's own retention policy (none keeps every archive). Every field is
 * optional so that a deployment may leave archiving at its defaults.
 */
export const ArchiveSettingsSchema = z
  .strictObject({
    bucket: BucketNameSchema,
    storageClass: ArchiveStorageClassSchema,
    retention: RetentionConfigSchema,
  })
  .partial();
/** Validated archive settings. */
export type ArchiveSettings = z.output<typeof ArchiveSettingsSchema>;

/**
 * What `npm start` runs besides the deployment's own settings: the demo simulations it starts,
 * each on its provider (SimSpace Weaver's on the local simulator, with their AWS tags so that tag
 * selectors can be tried locally; NVIDIA Air's on the local Air server, which has no tags). The
 * CDK app ignores it.
 */
export const LocalDemoSchema = z.strictObject({
  simulations: z
    .array(
      z
        .strictObject({
          name: SimulationNameSchema,
          provider: ProviderNameSchema.default("simspaceweaver"),
          tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
        })
        .refine((s) => s.provider !== "files", {
          message:
            "a files run is written by a training or HPC tool, not started by simsnap: configure providers.files.sources instead",
          path: ["provider"],
        })
        .refine((s) => s.provider !== "air" || Object.keys(s.tags).length === 0, {
          message: "NVIDIA Air simulations have no tags",
          path: ["tags"],
        })
        .refine(
          (s) =>
            s.provider !== "simspaceweaver" || SimSpaceWeaverNameSchema.safeParse(s.name).success,
          {
            message:
              "must be 1 to 64 letters, digits, _ . - for a SimSpace Weaver simulation (NVIDIA Air names may be free text)",
            path: ["name"],
          },
        ),
    )
    .default([])
    .superRefine((simulations, ctx) => {
      const seen = new Set<string>();
      simulations.forEach((simulation, index) => {
        if (seen.has(simulation.name)) {
          ctx.addIssue({
            code: "custom",
            path: [index, "name"],
            message: `must be unique: simsnap identifies simulations by name, whatever their provider`,
          });
        }
        seen.add(simulation.name);
      });
    }),
  /**
   * The demo trainer `npm start` runs beside the demo simulations: it writes Hugging Face-style
   * checkpoints of run `run` under `prefix` every `everyMs`, leaving a `halfWrittenRate` share
   * half-written, all from `seed`. Locally that prefix is a files source (the `huggingface`
   * preset, settling 5 s) unless `providers.files` has a source there already; the CDK app
   * ignores it, so a deployment of the sample scans nothing.
   */
  trainer: z
    .strictObject({
      prefix: SourcePrefixSchema,
      run: z
        .string()
        .min(1, "must name the run")
        .max(128, "must be at most 128 characters (a simulation name)")
        .refine((run) => !run.includes("/") && run.trim() === run, {
          message: 'must be one path segment, without "/" or white space at an edge',
        }),
      everyMs: z.number().int().positive().default(4_000),
      halfWrittenRate: z.number().min(0).max(1).default(0.25),
      seed: z.number().int().default(16),
    })
    .optional(),
});

/**
 * With SimSpace Weaver turned off (`simSpaceWeaverEnabled`), a schedule or restore-test selector
 * that names it, or a demo simulation on it, could only ever fail or select nothing: refused,
 * naming the field, instead of deployed as a schedule that silently does nothing.
 */
function refuseTurnedOffSimSpaceWeaver(
  config: {
    providers: ProvidersConfig;
    schedules: readonly { selector: { providers?: readonly string[] } }[];
    verification?: { selector: { providers?: readonly string[] } };
    local: { simulations: readonly { provider: string }[] };
  },
  ctx: z.RefinementCtx,
): void {
  if (simSpaceWeaverEnabled(config.providers)) return;
  const off =
    config.providers.simspaceweaver?.enabled === false
      ? "providers.simspaceweaver.enabled is false"
      : "providers.simspaceweaver.enabled is unset and the config configures another platform (air or files)";
  const refuse = (path: (string | number)[], what: string) =>
    ctx.addIssue({
      code: "custom",
      path,
      message: `${what} simspaceweaver, which this deployment turns off (${off}); remove it, or set providers.simspaceweaver.enabled to true`,
    });
  config.schedules.forEach((schedule, index) => {
    if (schedule.selector.providers?.includes(SIMSPACEWEAVER_NAME)) {
      refuse(["schedules", index, "selector", "providers"], "must not name");
    }
  });
  if (config.verification?.selector.providers?.includes(SIMSPACEWEAVER_NAME)) {
    refuse(["verification", "selector", "providers"], "must not name");
  }
  config.local.simulations.forEach((simulation, index) => {
    if (simulation.provider === SIMSPACEWEAVER_NAME) {
      refuse(["local", "simulations", index, "provider"], "must not be");
    }
  });
}

/** The provider name SimSpace Weaver's switch is about. */
const SIMSPACEWEAVER_NAME: ProviderName = "simspaceweaver";

/** True when one prefix is the other or lies below it (`""`, the bucket's root, holds every key). */
const prefixesNest = (a: string, b: string): boolean =>
  a === "" || b === "" || `${a}/`.startsWith(`${b}/`) || `${b}/`.startsWith(`${a}/`);

/**
 * `simsnap.config.json`: the one file that says what a deployment does. The CDK app turns its
 * schedules into EventBridge Scheduler schedules and its destination into the functions'
 * settings; the local runtime runs the same file. Unknown fields are refused, so a misspelt
 * setting is an error instead of a silently ignored line.
 */
export const SimsnapConfigSchema = z
  .strictObject({
    /**
     * Where an editor finds the file's JSON Schema (`schema/simsnap.config.schema.json`), so it
     * completes and checks the file as it is typed; simsnap itself ignores it.
     */
    $schema: z.string().optional(),
    destination: DestinationSchema.prefault({}),
    schedules: z
      .array(ScheduleConfigSchema)
      .default([])
      .superRefine((schedules, ctx) => {
        const seen = new Map<string, number>();
        schedules.forEach((schedule, index) => {
          const key = schedule.name.toLowerCase();
          const first = seen.get(key);
          if (first !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: [index, "name"],
              message: `must be unique ignoring case; schedules.${first} is also named ${JSON.stringify(schedules[first]?.name)}`,
            });
          } else seen.set(key, index);
        });
      }),
    retention: RetentionConfigSchema.optional(),
    archive: ArchiveSettingsSchema.optional(),
    /** Restore tests of chosen checkpoints on a schedule (`VerificationConfigSchema`); none without. */
    verification: VerificationConfigSchema.optional(),
    /**
     * The platforms whose simulations simsnap manages: SimSpace Weaver unless turned off
     * (`simSpaceWeaverEnabled`), NVIDIA Air and checkpoint files when set.
     */
    providers: ProvidersConfigSchema.prefault({}),
    local: LocalDemoSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    refuseTurnedOffSimSpaceWeaver(config, ctx);
    const files = config.providers.files;
    const owned = ownedPrefixes(config.destination.prefix, config.destination.adoptPrefixes);
    const ownedClash = (prefix: string, path: (string | number)[]) => {
      const clash = owned.find((mine) => prefixesNest(mine, prefix));
      if (clash === undefined) return;
      ctx.addIssue({
        code: "custom",
        path,
        message: `must not nest with ${clash}, a prefix simsnap owns in the same bucket (destination.prefix or adoptPrefixes): its snapshot files would become another tool's checkpoints`,
      });
    };
    // Another bucket than the destination's cannot hold simsnap's snapshots.
    const sameBucket = files?.bucket === undefined || files.bucket === config.destination.bucket;
    if (sameBucket) {
      files?.sources.forEach((source, index) =>
        ownedClash(source.prefix, ["providers", "files", "sources", index, "prefix"]),
      );
    }
    const trainer = config.local.trainer;
    if (trainer === undefined) return;
    if (sameBucket) ownedClash(trainer.prefix, ["local", "trainer", "prefix"]);
    const nesting = files?.sources.find(
      (source) => source.prefix !== trainer.prefix && prefixesNest(source.prefix, trainer.prefix),
    );
    if (nesting !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["local", "trainer", "prefix"],
        message: `must be a source's prefix or nest with none; it nests with the files source ${nesting.prefix}`,
      });
    }
  });
/** A validated config file. */
export type SimsnapConfig = z.output<typeof SimsnapConfigSchema>;
/** A config file as written (defaults not yet applied). */
export type SimsnapConfigInput = z.input<typeof SimsnapConfigSchema>;
