import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Validations, type AppProps } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { SimsnapConfig } from "../lib/domain/config-file.ts";
import { simSpaceWeaverEnabled } from "../lib/domain/providers.ts";
import { SnapshotPrefixSchema } from "../lib/domain/s3-key.ts";
import { userCheckFor } from "../lib/domain/verification.ts";
import { configFilePath, loadConfigFile } from "../lib/load-config-file.ts";
import { schedulesFor } from "../lib/topology.ts";
import { readArchiveOptions, type ArchiveBucketOptions } from "./archive-bucket.ts";
import { StatefulStack } from "./stateful-stack.ts";
import { StatelessStack } from "./stateless-stack.ts";

/**
 * Feature flags this app's resources rely on, as defaults under whatever `cdk.json` says, so the
 * CLI and the tests (which build the app without the CLI) synthesize the same templates.
 */
export const featureFlags = {
  // Access-log delivery through a bucket policy; the legacy ACL grant conflicts with
  // BucketOwnerEnforced on the log bucket.
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
  // Merged statements keep each function's role policy small as grants accumulate.
  "@aws-cdk/aws-iam:minimizePolicies": true,
  // Exports and imports: the stateful stack cannot be deleted, nor a used value changed, while
  // the stateless stack still reads it.
  "@aws-cdk/core:defaultCrossStackReferences": "strong",
};

const roleArnPattern = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The deployment's choices, from `-c key=value`, the environment (`SIMSNAP_…`) or the config file. */
interface SimsnapAppOptions {
  snapshotPrefix: string;
  simulationRoleArn?: string;
  /** `simsnap.config.json`, or the file named by `-c config=<path>` or `SIMSNAP_CONFIG`. */
  config: SimsnapConfig;
  /** The archive bucket: config `archive.bucket`, lifecycle and Object Lock from context. */
  archive: ArchiveBucketOptions;
  /** Who gets the alarms by email (`-c alarmEmail=…` or `SIMSNAP_ALARM_EMAIL`). */
  alarmEmail?: string;
}

/** Reads and checks the options, so a typo fails the synth instead of the first snapshot. */
function readAppOptions(app: App, env: NodeJS.ProcessEnv = process.env): SimsnapAppOptions {
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === "" ? undefined : String(value);
  };
  const config = loadConfigFile(configFilePath(context("config"), env));
  // The config file's prefix defaults to the functions' own, so an unconfigured deployment and
  // `npm start` agree; `-c snapshotPrefix=…` and the environment override it.
  const snapshotPrefix =
    context("snapshotPrefix") ?? env.SIMSNAP_SNAPSHOT_PREFIX ?? config.destination.prefix;
  if (!SnapshotPrefixSchema.safeParse(snapshotPrefix).success) {
    throw new Error(
      `snapshotPrefix "${snapshotPrefix}" must be key segments separated by "/", with no leading or trailing "/" and no "." or ".." segment`,
    );
  }
  const simulationRoleArn = context("simulationRoleArn") ?? env.SIMSNAP_SIMULATION_ROLE_ARN;
  if (simulationRoleArn !== undefined && !roleArnPattern.test(simulationRoleArn)) {
    throw new Error(`simulationRoleArn "${simulationRoleArn}" is not an IAM role ARN`);
  }
  const archive = readArchiveOptions(context, config.archive?.bucket);
  const alarmEmail = context("alarmEmail") ?? env.SIMSNAP_ALARM_EMAIL;
  if (alarmEmail !== undefined && !emailPattern.test(alarmEmail)) {
    throw new Error(`alarmEmail "${alarmEmail}" is not an email address`);
  }
  // The simulation role is SimSpace Weaver's (it writes snapshot files, restores pass it): with
  // SimSpace Weaver off, neither the bucket policy nor any function names it.
  const weaverRole = simSpaceWeaverEnabled(config.providers) ? simulationRoleArn : undefined;
  return { snapshotPrefix, simulationRoleArn: weaverRole, config, archive, alarmEmail };
}

/**
 * Builds the whole app without synthesizing it, so the CLI entry point below and the tests
 * share one definition. Two stacks: data outlives code, and cross-stack references only ever
 * point from the stateless stack to the stateful one. The stacks are environment-agnostic, so a
 * template does not depend on the machine that synthesized it; the deploying credentials pick
 * the account and region.
 */
export function createSimsnapApp(props: AppProps = {}) {
  const app = new App({ ...props, context: { ...featureFlags, ...props.context } });
  const options = readAppOptions(app);

  const stateful = new StatefulStack(app, "SimsnapStateful", {
    description: "simsnap data: snapshot and archive buckets, catalog table, event bus",
    snapshotPrefix: options.snapshotPrefix,
    simulationRoleArn: options.simulationRoleArn,
    snapshotBucketName: options.config.destination.bucket,
    archive: options.archive,
    airToken: options.config.providers.air?.token,
  });
  const air = options.config.providers.air;
  const files = options.config.providers.files;
  const airSecret = stateful.airTokenSecret;
  // In AWS the restore tests' user check is a Lambda function; a local command is not deployed.
  const check = userCheckFor(options.config.verification?.check, "aws");
  const stateless = new StatelessStack(app, "SimsnapStateless", {
    description: "simsnap functions, queues, rules and schedules, generated from lib/topology.ts",
    snapshotBucket: stateful.snapshotBucket,
    snapshotBucketArnExport: stateful.snapshotBucketArnExport,
    catalogTable: stateful.catalogTable,
    eventBus: stateful.eventBus,
    snapshotPrefix: options.snapshotPrefix,
    adoptedPrefixes: options.config.destination.adoptPrefixes,
    trashDays: options.config.destination.trashDays,
    retention: options.config.retention,
    schedules: schedulesFor(options.config, "aws"),
    archiveBucket: stateful.archiveBucket,
    archiveBucketArnExport: stateful.archiveBucketArnExport,
    archiveStorageClass: options.config.archive?.storageClass,
    simulationRoleArn: options.simulationRoleArn,
    archiveRetention: options.config.archive?.retention,
    alarmEmail: options.alarmEmail,
    verificationCheck: check && "lambdaArn" in check ? check : undefined,
    simSpaceWeaver: simSpaceWeaverEnabled(options.config.providers),
    air:
      air && airSecret
        ? {
            endpoint: air.endpoint,
            tokenSecret: airSecret.secretId,
            policyArn: airSecret.policyArn,
          }
        : undefined,
    // A files bucket named like the destination's is the snapshot bucket this app creates.
    files: files && {
      ...files,
      bucket: files.bucket === options.config.destination.bucket ? undefined : files.bucket,
    },
  });

  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
  );
  return { app, stateful, stateless, config: options.config };
}

const entryPoint = process.argv[1] === undefined ? undefined : resolve(process.argv[1]);
if (entryPoint === fileURLToPath(import.meta.url)) {
  createSimsnapApp().app.synth();
}
