import * as z from "zod";
import { ArchiveStorageClassSchema, ChecksumAlgorithmSchema } from "./domain/archive.ts";
import { FileSourcesSchema, type FileSourceConfig } from "./domain/file-source.ts";
import { EnvVarNameSchema } from "./domain/providers.ts";
import { ConfigError } from "./domain/errors.ts";
import { FreshnessWatchSchema, type FreshnessWatch } from "./domain/freshness.ts";
import { parseInput } from "./domain/validation.ts";
import { UserCheckSettingSchema, type UserCheckSetting } from "./domain/verification.ts";
import { DEFAULT_TRASH_DAYS, TrashDaysSchema } from "./domain/trash.ts";
import { SnapshotPrefixSchema } from "./domain/s3-key.ts";
import {
  DEFAULT_RETENTION,
  RetentionConfigSchema,
  type RetentionConfigInput,
} from "./domain/retention.ts";
import {
  PRUNE_DEBOUNCE_SECONDS,
  queueUrlEnv,
  topology,
  type FunctionName,
  type FunctionNeeds,
  type QueueName,
} from "./topology.ts";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const mebibytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(5, "must be at least 5 (MiB, S3's smallest part)")
    .max(5120, "must be at most 5120 (MiB, S3's largest part and single copy)")
    .default(fallback);

/** Settings that hold JSON text: parsed here, then validated by the schema they pipe into. */
function parseJsonText(text: string, ctx: z.RefinementCtx): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be JSON" });
    return z.NEVER;
  }
}

/**
 * Everything a function reads from its environment, validated once at cold start. The same names
 * are set by the CDK stack and by the local runtime, which is what lets both run one handler.
 * The domain's schemas are taken as `z.optional(X)`, not `X.optional()`: a method of a schema
 * built on first use (`lazySchema`) builds it, and most functions never read those settings.
 */
export const SettingsSchema = z.object({
  AWS_REGION: z.string().min(1).default("us-east-1"),
  SIMSNAP_TABLE: z.string().min(1),
  SIMSNAP_SNAPSHOT_BUCKET: z.string().min(3),
  SIMSNAP_SNAPSHOT_PREFIX: z.union([z.literal(""), SnapshotPrefixSchema]).default("simsnap"),
  /**
   * Further prefixes whose snapshot files simsnap catalogs, prunes and deletes as its own
   * (config `destination.adoptPrefixes`), comma-separated. Unset adopts none: files under any
   * other prefix are another tool's and are never touched.
   */
  SIMSNAP_ADOPTED_PREFIXES: z
    .string()
    .default("")
    .transform((text) =>
      text
        .split(",")
        .map((prefix) => prefix.trim())
        .filter((prefix) => prefix !== ""),
    )
    .pipe(z.array(SnapshotPrefixSchema)),
  SIMSNAP_EVENT_BUS: z.string().min(1).default("simsnap"),
  SIMSNAP_SIMSPACEWEAVER_ENDPOINT: z.url().optional(),
  /**
   * Whether the deployment manages SimSpace Weaver (config `providers.simspaceweaver`, see
   * `simSpaceWeaverEnabled`). `false`: no function builds its client or calls it, and its
   * checkpoint records resolve to a view that calls nothing. Unset: on, as stacks from before
   * the switch deployed it.
   */
  SIMSNAP_SIMSPACEWEAVER_ENABLED: z.stringbool().default(true),
  SIMSNAP_S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  /** First delayed status check after CreateSnapshot was accepted. */
  SIMSNAP_STATUS_CHECK_FIRST_SECONDS: seconds(60),
  /** Longest wait between two status checks (SQS allows at most 900 s of delay). */
  SIMSNAP_STATUS_CHECK_MAX_SECONDS: seconds(900).pipe(z.number().max(900)),
  /** After this long without its file, a snapshot job fails. */
  SIMSNAP_SNAPSHOT_DEADLINE_SECONDS: seconds(3600),
  /** First retry delay when the provider says a snapshot is already in progress. */
  SIMSNAP_CONFLICT_RETRY_SECONDS: seconds(30),
  SIMSNAP_CONFLICT_MAX_ATTEMPTS: seconds(8),
  /** Completions within this window prune once; equals the prune queue's delivery delay. */
  SIMSNAP_PRUNE_DEBOUNCE_SECONDS: seconds(PRUNE_DEBOUNCE_SECONDS),
  /** Days a deleted snapshot file stays recoverable in the trash (config `destination.trashDays`). */
  SIMSNAP_TRASH_DAYS: z.coerce.number().pipe(TrashDaysSchema).default(DEFAULT_TRASH_DAYS),
  /** Retention settings as JSON (`RetentionConfigSchema`); `DEFAULT_RETENTION` when unset. */
  SIMSNAP_RETENTION: z
    .string()
    .default(JSON.stringify(DEFAULT_RETENTION))
    .transform(parseJsonText)
    .pipe(RetentionConfigSchema),
  /**
   * The snapshot schedules' staleness thresholds as JSON (`FreshnessWatchSchema[]`), so the API
   * says fresh or late by the alarms' rule; unset, no schedule watches any simulation.
   */
  SIMSNAP_FRESHNESS_WATCHES: z
    .string()
    .default("[]")
    .transform(parseJsonText)
    .pipe(z.array(FreshnessWatchSchema)),
  /** Archive bucket; unset in functions that do not archive (archiving then fails loudly). */
  SIMSNAP_ARCHIVE_BUCKET: z.string().min(3).optional(),
  /** Storage class of archive copies; lifecycle rules move them colder later. */
  SIMSNAP_ARCHIVE_STORAGE_CLASS: ArchiveStorageClassSchema.default("STANDARD_IA"),
  /** Checksum S3 computes for archive copies (the source's own algorithm wins when comparable). */
  SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM: ChecksumAlgorithmSchema.default("CRC64NVME"),
  /** Objects above this many MiB are copied in parts (CopyObject's own limit is 5 GiB). */
  SIMSNAP_ARCHIVE_MULTIPART_THRESHOLD_MB: mebibytes(5120),
  /** Part size of multipart copies, in MiB (5 MiB to 5 GiB; grown to stay within 10,000 parts). */
  SIMSNAP_ARCHIVE_PART_SIZE_MB: mebibytes(512),
  /** First retry delay after an archive copy failed its verification. */
  SIMSNAP_ARCHIVE_RETRY_SECONDS: seconds(30),
  /** Archive retention as JSON (`RetentionConfigSchema`); unset keeps every archive. */
  SIMSNAP_ARCHIVE_RETENTION: z
    .string()
    .optional()
    .transform((text, ctx) =>
      text === undefined || text.trim() === "" ? undefined : parseJsonText(text, ctx),
    )
    .pipe(z.optional(RetentionConfigSchema)),
  /** Role restored simulations run with (StartSimulation's RoleArn); restoring needs it. */
  SIMSNAP_SIMULATION_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN")
    .optional(),
  /** A restore still running after this long fails; a DEEP_ARCHIVE thaw may take 48 hours. */
  SIMSNAP_RESTORE_DEADLINE_SECONDS: seconds(172_800),
  /** First wait of a restore for a thaw or a simulation start; doubles up to the max. */
  SIMSNAP_RESTORE_CHECK_FIRST_SECONDS: seconds(30),
  SIMSNAP_RESTORE_CHECK_MAX_SECONDS: seconds(900).pipe(z.number().max(900)),
  /** Glacier retrieval tier used to thaw a cold archive for a restore. */
  SIMSNAP_ARCHIVE_RESTORE_TIER: z.enum(["Expedited", "Standard", "Bulk"]).default("Standard"),
  /** How long S3 keeps a thawed archive readable (it is copied back to the hot bucket at once). */
  SIMSNAP_ARCHIVE_RESTORE_DAYS: seconds(1),
  /**
   * How long past its due time the sweeper waits before re-sending a job's step; unset, each
   * queue's own (`stepGraceSeconds`). The local stack, whose steps take seconds, sets a short one.
   */
  SIMSNAP_SWEEP_GRACE_SECONDS: z.coerce.number().int().positive().optional(),
  /**
   * How old an uncataloged snapshot file must be before the reconciling scan catalogs it; unset,
   * the snapshot deadline plus `RECONCILE_MARGIN_SECONDS` (`reconcileGraceSeconds`). The local
   * stack, whose sweeper looks every 5 s, sets a short margin.
   */
  SIMSNAP_RECONCILE_GRACE_SECONDS: z.coerce.number().int().positive().optional(),
  /**
   * NVIDIA Air's API (config `providers.air.endpoint`), set for the functions that declare Air
   * operations when a deployment configures Air; unset, their provider directory has no Air.
   */
  SIMSNAP_AIR_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The Secrets Manager secret (ARN or name) holding the Air API token, in AWS. */
  SIMSNAP_AIR_TOKEN_SECRET: z.string().min(1).optional(),
  /** The environment variable holding the Air API token, locally (config `providers.air.token.env`). */
  SIMSNAP_AIR_TOKEN_ENV: z.optional(EnvVarNameSchema),
  /**
   * Where the built web console is (console/build.ts); the local runtime builds it into its data
   * directory and sets this. Unset, the API function looks next to its own bundle (`console/`),
   * where the stack puts it.
   */
  SIMSNAP_CONSOLE_DIR: z.string().min(1).optional(),
  /** The bucket other tools write checkpoints to (config `providers.files.bucket`, or the snapshot bucket). */
  SIMSNAP_FILES_BUCKET: z.string().min(3).optional(),
  /**
   * The files sources as JSON (config `providers.files.sources`, `FileSourcesSchema`), set for the
   * functions that declare `files` access or the `fileSources` setting; unset, the deployment
   * has no files sources.
   */
  SIMSNAP_FILE_SOURCES: z
    .string()
    .optional()
    .transform((text, ctx) =>
      text === undefined || text.trim() === "" ? undefined : parseJsonText(text, ctx),
    )
    .pipe(z.optional(FileSourcesSchema)),
  /**
   * The restore tests' user check as JSON (`UserCheckSettingSchema`): the Lambda function in AWS,
   * the command locally (config `verification.check`). Unset, restore tests run no user check.
   */
  SIMSNAP_VERIFICATION_CHECK: z
    .string()
    .optional()
    .transform((text, ctx) =>
      text === undefined || text.trim() === "" ? undefined : parseJsonText(text, ctx),
    )
    .pipe(z.optional(UserCheckSettingSchema)),
});
/** Validated settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * Air's endpoint without exactly one token source (or a source without the endpoint) is a
 * deployment that would fail at the first Air call, or never call Air at all: refused at start.
 */
function checkAirSettings(settings: Settings): void {
  const sources = [settings.SIMSNAP_AIR_TOKEN_SECRET, settings.SIMSNAP_AIR_TOKEN_ENV].filter(
    (source) => source !== undefined,
  ).length;
  if (settings.SIMSNAP_AIR_ENDPOINT !== undefined && sources !== 1) {
    throw new ConfigError(
      sources === 0
        ? "SIMSNAP_AIR_ENDPOINT is set, but neither SIMSNAP_AIR_TOKEN_SECRET nor SIMSNAP_AIR_TOKEN_ENV says where the NVIDIA Air API token is"
        : "SIMSNAP_AIR_TOKEN_SECRET and SIMSNAP_AIR_TOKEN_ENV are both set: the NVIDIA Air API token has one source",
    );
  }
  if (settings.SIMSNAP_AIR_ENDPOINT === undefined && sources > 0) {
    throw new ConfigError(
      "An NVIDIA Air token source is set without SIMSNAP_AIR_ENDPOINT: set the endpoint too, or neither",
    );
  }
}

/** Sources without their bucket (or the reverse) would list nothing or the wrong bucket: refused. */
function checkFilesSettings(settings: Settings): void {
  if (
    (settings.SIMSNAP_FILE_SOURCES === undefined) !==
    (settings.SIMSNAP_FILES_BUCKET === undefined)
  ) {
    throw new ConfigError(
      "SIMSNAP_FILE_SOURCES and SIMSNAP_FILES_BUCKET are set together (the files sources and their bucket), or neither",
    );
  }
}

/** `parseInput`, with its failure a `ConfigError`: bad settings are the deployment's to fix. */
function parseSettings<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  try {
    return parseInput(schema, input, what);
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
}

/**
 * Reads and validates the environment; a missing or bad value fails loudly, naming the variable.
 * What the environment sets, and what has no default, is parsed here, at once. A variable it
 * leaves unset gets its default from the same schema on its first read: a function's environment
 * holds what its declaration calls for (`environmentFor`), so a cold start parses that and not
 * the defaults of what other functions read (SIMSNAP_RETENTION's is a whole retention policy;
 * docs/scale.md). Reading a default can never fail: the defaults are valid (tests parse them).
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const shape: Record<string, z.ZodType> = SettingsSchema.shape;
  const names = Object.keys(shape);
  // `optin` is zod's own mark of a schema that takes a missing value ("optional", "defaulted").
  const now = names.filter((name) => env[name] !== undefined || !shape[name]?._zod.optin);
  const settings: Record<string, unknown> = parseSettings(
    z.object(Object.fromEntries(now.map((name) => [name, shape[name] as z.ZodType]))),
    env,
    "environment",
  );
  for (const name of names.filter((name) => !now.includes(name))) {
    let value: { parsed: unknown } | undefined;
    Object.defineProperty(settings, name, {
      enumerable: true,
      configurable: true,
      get: () =>
        (value ??= {
          parsed: parseSettings(shape[name] as z.ZodType, undefined, `default of ${name}`),
        }).parsed,
    });
  }
  checkAirSettings(settings as Settings);
  checkFilesSettings(settings as Settings);
  return settings as Settings;
}

/** The URL of a queue a function sends to; fails loudly when the stack did not wire it. */
export function queueUrl(queue: QueueName, env: NodeJS.ProcessEnv = process.env): string {
  const name = queueUrlEnv(queue);
  const value = env[name];
  if (!value) throw new ConfigError(`Missing environment variable ${name} (URL of queue ${queue})`);
  return value;
}

/**
 * What a deployment knows that a function's environment may carry: the CDK stack fills it with
 * its resources' names, the local runtime with its embedded servers' and its own timings.
 */
export interface DeploymentValues {
  table: string;
  snapshotBucket: string;
  snapshotPrefix: string;
  adoptedPrefixes: readonly string[];
  eventBus: string;
  queueUrls: Readonly<Record<QueueName, string>>;
  pruneDebounceSeconds: number;
  /** Absent values are left out of every environment, so the functions' defaults apply. */
  trashDays?: number;
  archiveBucket?: string;
  archiveStorageClass?: string;
  simulationRoleArn?: string;
  retention?: RetentionConfigInput;
  /** The snapshot schedules' staleness thresholds (`freshnessWatches`), for the API. */
  freshnessWatches?: readonly FreshnessWatch[];
  archiveRetention?: RetentionConfigInput;
  /**
   * NVIDIA Air, when configured: its endpoint and the token's source, a secret in AWS (its ARN or
   * name) or an environment variable locally. Only functions declaring Air operations get them.
   */
  air?: { endpoint: string; tokenSecret?: string; tokenEnv?: string };
  /**
   * Checkpoint files of other tools (config `providers.files`), when configured: their bucket and
   * sources. Only functions declaring `files` access or the `fileSources` setting get them.
   */
  files?: { bucket: string; sources: readonly FileSourceConfig[] };
  /** The restore tests' user check this deployment runs (`userCheckFor`), when configured. */
  verificationCheck?: UserCheckSetting;
  /** False when the deployment turns SimSpace Weaver off (`simSpaceWeaverEnabled`); absent: on. */
  simSpaceWeaver?: boolean;
}

interface Variable {
  name: keyof Settings;
  /** Which functions get it; absent: every function (what every one of them reads). */
  when?: (needs: FunctionNeeds) => boolean;
  value: (values: DeploymentValues) => string | undefined;
}

const declares = (needs: FunctionNeeds, setting: NonNullable<FunctionNeeds["settings"]>[number]) =>
  needs.settings?.includes(setting) ?? false;
const archives = (needs: FunctionNeeds) => (needs.archive?.length ?? 0) > 0;
/** The function calls NVIDIA Air: only then does it get Air's endpoint and token source. */
export const callsAir = (needs: FunctionNeeds): boolean => (needs.air?.length ?? 0) > 0;
/** The function works on files sources: it gets their bucket and configuration. */
export const readsFileSources = (needs: FunctionNeeds): boolean =>
  needs.files !== undefined || declares(needs, "fileSources");
const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

/**
 * Every variable a deployment sets, and for which needs. The table and where simsnap's snapshots
 * are (the catalog's locations are judged against the owned prefixes) go to every function; the
 * rest only where declared, which `undeclaredSettings` turns into a loud failure in the handler.
 */
const VARIABLES: readonly Variable[] = [
  { name: "SIMSNAP_TABLE", value: (v) => v.table },
  { name: "SIMSNAP_SNAPSHOT_BUCKET", value: (v) => v.snapshotBucket },
  { name: "SIMSNAP_SNAPSHOT_PREFIX", value: (v) => v.snapshotPrefix },
  {
    name: "SIMSNAP_ADOPTED_PREFIXES",
    value: (v) => (v.adoptedPrefixes.length > 0 ? v.adoptedPrefixes.join(",") : undefined),
  },
  { name: "SIMSNAP_EVENT_BUS", when: (n) => n.events, value: (v) => v.eventBus },
  // Every function resolves checkpoint records of SimSpace Weaver; set only when it is off, so
  // the environments of deployments that keep it stay as they were.
  {
    name: "SIMSNAP_SIMSPACEWEAVER_ENABLED",
    value: (v) => (v.simSpaceWeaver === false ? "false" : undefined),
  },
  {
    name: "SIMSNAP_ARCHIVE_BUCKET",
    when: (n) => archives(n) || declares(n, "archiveBucket"),
    value: (v) => v.archiveBucket,
  },
  { name: "SIMSNAP_ARCHIVE_STORAGE_CLASS", when: archives, value: (v) => v.archiveStorageClass },
  {
    name: "SIMSNAP_SIMULATION_ROLE_ARN",
    when: (n) => n.passRole === true || declares(n, "simulationRole"),
    value: (v) => v.simulationRoleArn,
  },
  {
    name: "SIMSNAP_RETENTION",
    when: (n) => declares(n, "retention"),
    value: (v) => json(v.retention),
  },
  {
    name: "SIMSNAP_FRESHNESS_WATCHES",
    when: (n) => declares(n, "freshnessWatches"),
    value: (v) => json(v.freshnessWatches),
  },
  {
    name: "SIMSNAP_TRASH_DAYS",
    when: (n) => declares(n, "trashDays"),
    value: (v) => (v.trashDays === undefined ? undefined : String(v.trashDays)),
  },
  {
    name: "SIMSNAP_PRUNE_DEBOUNCE_SECONDS",
    when: (n) => declares(n, "pruneDebounce"),
    value: (v) => String(v.pruneDebounceSeconds),
  },
  {
    name: "SIMSNAP_ARCHIVE_RETENTION",
    when: (n) => declares(n, "archiveRetention"),
    value: (v) => json(v.archiveRetention),
  },
  { name: "SIMSNAP_AIR_ENDPOINT", when: callsAir, value: (v) => v.air?.endpoint },
  { name: "SIMSNAP_AIR_TOKEN_SECRET", when: callsAir, value: (v) => v.air?.tokenSecret },
  { name: "SIMSNAP_AIR_TOKEN_ENV", when: callsAir, value: (v) => v.air?.tokenEnv },
  { name: "SIMSNAP_FILES_BUCKET", when: readsFileSources, value: (v) => v.files?.bucket },
  { name: "SIMSNAP_FILE_SOURCES", when: readsFileSources, value: (v) => json(v.files?.sources) },
  {
    name: "SIMSNAP_VERIFICATION_CHECK",
    when: (n) => n.userCheck === true,
    value: (v) => json(v.verificationCheck),
  },
];

const needsOf = (name: FunctionName): FunctionNeeds => topology.functions[name].needs;

/**
 * A function's environment, derived from its declaration alone (`needs` and `sendsTo` in
 * `lib/topology.ts`): the stack sets it on the Lambda function, the local runtime in its process.
 */
export function environmentFor(
  name: FunctionName,
  values: DeploymentValues,
): Record<string, string> {
  const needs = needsOf(name);
  const environment: Record<string, string> = {};
  for (const variable of VARIABLES) {
    const value =
      variable.when === undefined || variable.when(needs) ? variable.value(values) : undefined;
    if (value !== undefined) environment[variable.name] = value;
  }
  const sendsTo: readonly QueueName[] = topology.functions[name].sendsTo;
  for (const queue of sendsTo) environment[queueUrlEnv(queue)] = values.queueUrls[queue];
  return environment;
}

/**
 * The settings a deployment sets for other functions but not for this one: reading one of them
 * would work locally (one process, every variable set) and silently read the default in AWS.
 */
export function undeclaredSettings(name: FunctionName): (keyof Settings)[] {
  const needs = needsOf(name);
  return VARIABLES.filter((v) => v.when !== undefined && !v.when(needs)).map((v) => v.name);
}
