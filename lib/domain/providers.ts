import * as z from "zod";
import { FileSourcesSchema } from "./file-source.ts";
import { lazySchema } from "./lazy-schema.ts";

// Kept in a module of their own so retention can name providers without importing the sources.
export { PROVIDER_NAMES, ProviderNameSchema, type ProviderName } from "./provider-names.ts";

/** What an environment variable's name may be (POSIX portable names), checked before it is read. */
export const EnvVarNameSchema = lazySchema(() =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, _)"),
);

/** The environment variable the Air token is read from locally when the config names none. */
export const DEFAULT_AIR_TOKEN_ENV = "AIR_API_TOKEN";

/**
 * Where the NVIDIA Air API token comes from. In AWS the token is a Secrets Manager secret:
 * `secretArn` or `secretName` imports one the operator manages; with neither, the stack creates
 * an empty secret (`simsnap/air-api-token`) for the operator to fill. Locally (`npm start`) the
 * token is read from the environment variable `env`. Only the functions that declare NVIDIA Air
 * operations are given the token's source (and, in AWS, `secretsmanager:GetSecretValue` on it).
 */
export const AirTokenConfigSchema = lazySchema(() =>
  z
    .strictObject({
      secretArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
          "must be a Secrets Manager secret ARN",
        )
        .optional(),
      secretName: z
        .string()
        .regex(/^[\w/+=.@-]{1,512}$/, "must be a Secrets Manager secret name")
        .optional(),
      env: EnvVarNameSchema.default(DEFAULT_AIR_TOKEN_ENV),
    })
    .refine((token) => token.secretArn === undefined || token.secretName === undefined, {
      message: "name the secret by secretArn or by secretName, not both",
      path: ["secretName"],
    }),
);
/** Where the NVIDIA Air token comes from, validated. */
export type AirTokenConfig = z.output<typeof AirTokenConfigSchema>;

/**
 * NVIDIA Air as a provider: its API (`https://…/api/v3/`; a URL without an `/api/vN` path gets
 * `/api/v3/`) and its token's source. The simulations Air lists belong to it.
 */
export const AirProviderConfigSchema = lazySchema(() =>
  z.strictObject({
    endpoint: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    token: AirTokenConfigSchema.prefault({}),
  }),
);
/** NVIDIA Air's configuration, validated. */
export type AirProviderConfig = z.output<typeof AirProviderConfigSchema>;

/**
 * Checkpoints other tools write (the `files` provider): the bucket they write to and one source
 * per prefix, each with its tool's layout, commit rule and metrics (`FileSourcesSchema`). The
 * bucket defaults to the destination's (the snapshot bucket). simsnap lists, reads, deletes and
 * restores under the sources' prefixes and nowhere else in that bucket.
 */
export const FilesProviderConfigSchema = lazySchema(() =>
  z.strictObject({
    bucket: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens",
      )
      .optional(),
    sources: FileSourcesSchema.min(1, "must list at least one source; leave files out otherwise"),
  }),
);
/** The files provider's configuration, validated. */
export type FilesProviderConfig = z.output<typeof FilesProviderConfigSchema>;

/**
 * AWS SimSpace Weaver as a provider: on or off (`enabled`). It needs nothing else configured (its
 * calls are signed with each function's role). AWS ended the service on 2026-05-20, so a
 * deployment that still called it would fail every tick; off, no function builds its client or
 * holds an IAM statement for it, and its catalog records stay prunable and archivable (their
 * files are in S3) but are never restored or verified. Unset, `simSpaceWeaverEnabled` decides.
 */
export const SimSpaceWeaverConfigSchema = lazySchema(() =>
  z.strictObject({
    enabled: z.boolean().optional(),
  }),
);
/** SimSpace Weaver's switch, validated. */
export type SimSpaceWeaverConfig = z.output<typeof SimSpaceWeaverConfigSchema>;

/**
 * The providers of a deployment: SimSpace Weaver unless it is turned off (`simspaceweaver`, see
 * `simSpaceWeaverEnabled`); NVIDIA Air when `air` is set, and checkpoint files other tools write
 * when `files` is. Each simulation belongs to the one provider that lists it (or, for `files`,
 * catalogs it).
 */
export const ProvidersConfigSchema = lazySchema(() =>
  z.strictObject({
    simspaceweaver: SimSpaceWeaverConfigSchema.optional(),
    air: AirProviderConfigSchema.optional(),
    files: FilesProviderConfigSchema.optional(),
  }),
);
/** The configured providers, validated. */
export type ProvidersConfig = z.output<typeof ProvidersConfigSchema>;

/**
 * Whether a deployment manages SimSpace Weaver simulations: `simspaceweaver.enabled` when the
 * config says; unset, only when the config configures no other platform. A config without `air`
 * or `files` was written for SimSpace Weaver (the only platform before the others joined), and
 * turning it off would leave it managing nothing, so it keeps it (and `npm start`'s demo, whose
 * local simulator is a SimSpace Weaver look-alike, with it); a config that configures Air or
 * files was written for platforms that still exist after SimSpace Weaver ended (2026-05-20), and
 * gets no SimSpace Weaver client, grant or call unless it asks (docs/providers.md).
 */
export const simSpaceWeaverEnabled = (
  providers: Pick<ProvidersConfig, "simspaceweaver" | "air" | "files">,
): boolean =>
  providers.simspaceweaver?.enabled ??
  (providers.air === undefined && providers.files === undefined);
