import { z } from "zod";
import { ConfigError } from "./domain/errors.ts";
import { parseInput } from "./domain/validation.ts";
import { DEFAULT_RETENTION, RetentionConfigSchema } from "./domain/retention.ts";
import { PRUNE_DEBOUNCE_SECONDS, queueUrlEnv, type QueueName } from "./topology.ts";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Everything a function reads from its environment, validated once at cold start. The same names
 * are set by the CDK stack and by the local runtime, which is what lets both run one handler.
 */
export const SettingsSchema = z.object({
  AWS_REGION: z.string().min(1).default("us-east-1"),
  SIMSNAP_TABLE: z.string().min(1),
  SIMSNAP_SNAPSHOT_BUCKET: z.string().min(3),
  SIMSNAP_SNAPSHOT_PREFIX: z.string().default("simsnap"),
  SIMSNAP_EVENT_BUS: z.string().min(1).default("simsnap"),
  SIMSNAP_SIMSPACEWEAVER_ENDPOINT: z.url().optional(),
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
  /** Retention settings as JSON (`RetentionConfigSchema`); `DEFAULT_RETENTION` when unset. */
  SIMSNAP_RETENTION: z
    .string()
    .default(JSON.stringify(DEFAULT_RETENTION))
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(RetentionConfigSchema),
});
/** Validated settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/** Reads and validates the environment; a missing or bad value fails loudly, naming the variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  try {
    return parseInput(SettingsSchema, env, "environment");
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
}

/** The URL of a queue a function sends to; fails loudly when the stack did not wire it. */
export function queueUrl(queue: QueueName, env: NodeJS.ProcessEnv = process.env): string {
  const name = queueUrlEnv(queue);
  const value = env[name];
  if (!value) throw new ConfigError(`Missing environment variable ${name} (URL of queue ${queue})`);
  return value;
}
