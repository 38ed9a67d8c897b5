import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  Validations,
  type StackProps,
} from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table } from "aws-cdk-lib/aws-dynamodb";
import { EventBus } from "aws-cdk-lib/aws-events";
import { ArnPrincipal, PolicyStatement } from "aws-cdk-lib/aws-iam";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
  type BucketProps,
} from "aws-cdk-lib/aws-s3";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { catalogTable } from "../lib/adapters/dynamodb/table-schema.ts";
import type { AirTokenConfig } from "../lib/domain/providers.ts";
import { snapshotFolder } from "../lib/domain/snapshot-key.ts";
import {
  archiveBucketProps,
  DEFAULT_ARCHIVE_TRANSITIONS,
  type ArchiveBucketOptions,
} from "./archive-bucket.ts";

/** What every simsnap bucket promises: private, encrypted, HTTPS only, kept on stack deletion. */
const protectedBucket = {
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  encryption: BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  versioned: false,
  removalPolicy: RemovalPolicy.RETAIN,
} satisfies BucketProps;

/** Deployment choices the stateful resources depend on. */
export interface StatefulStackProps extends StackProps {
  /** Key prefix SimSpace Weaver writes snapshots under (`<prefix>/snapshot/…`). */
  snapshotPrefix: string;
  /** Role the simulations run with: SimSpace Weaver writes snapshot files as this role. */
  simulationRoleArn?: string;
  /** The snapshot bucket's name (config `destination.bucket`); CloudFormation picks one if absent. */
  snapshotBucketName?: string;
  /** Archive bucket name, lifecycle transitions and optional Object Lock. */
  archive?: ArchiveBucketOptions;
  /**
   * Where the NVIDIA Air API token is (config `providers.air.token`), when Air is configured: a
   * secret imported by ARN or name, or else one created here, empty, for the operator to fill.
   */
  airToken?: AirTokenConfig;
}

/**
 * The secret holding the NVIDIA Air API token: how the functions ask for it (GetSecretValue's
 * `SecretId`: its ARN, or the name it was imported by) and the ARN IAM grants it by (the secret's
 * own, or for one imported by name or partial ARN, that ARN with Secrets Manager's suffix).
 */
export interface AirTokenSecret {
  secret: ISecret;
  secretId: string;
  policyArn: string;
}

/**
 * Everything that holds data (snapshot files, archives, the catalog) plus the event bus other
 * systems subscribe to, in a stack of its own so that functions can be redeployed, renamed or
 * torn down without putting a single checkpoint at risk.
 */
export class StatefulStack extends Stack {
  readonly snapshotBucket: Bucket;
  readonly archiveBucket: Bucket;
  readonly catalogTable: Table;
  readonly eventBus: EventBus;
  /**
   * Export of the snapshot bucket's ARN under a name of our choosing, for IAM statements in the
   * stateless stack: their cdk-nag acknowledgments quote it, and a generated name carries a hash.
   */
  readonly snapshotBucketArnExport: string;
  /** Export of the archive bucket's ARN, for the same reason. */
  readonly archiveBucketArnExport: string;
  /** The NVIDIA Air token's secret, when the config file configures Air. */
  readonly airTokenSecret: AirTokenSecret | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    // Server access logs of the data buckets (cdk-nag accepts a log destination that has no
    // access logs of its own).
    const accessLogs = new Bucket(this, "AccessLogs", {
      ...protectedBucket,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });

    this.snapshotBucket = new Bucket(this, "Snapshots", {
      ...protectedBucket,
      bucketName: props.snapshotBucketName,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "snapshots/",
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    // Native EventBridge delivery on the bucket itself: the L2's `eventBridgeEnabled` goes through
    // a notifications custom resource (a Lambda allowed s3:PutBucketNotification on every bucket).
    (this.snapshotBucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    if (props.simulationRoleArn) {
      this.snapshotBucket.addToResourcePolicy(
        new PolicyStatement({
          sid: "SimulationWritesSnapshots",
          principals: [new ArnPrincipal(props.simulationRoleArn)],
          actions: ["s3:PutObject"],
          resources: [
            this.snapshotBucket.arnForObjects(`${snapshotFolder(props.snapshotPrefix)}*`),
          ],
        }),
      );
    }

    this.archiveBucket = new Bucket(this, "Archive", {
      ...protectedBucket,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "archive/",
      ...archiveBucketProps(props.archive ?? { transitions: DEFAULT_ARCHIVE_TRANSITIONS }),
    });

    this.catalogTable = new Table(this, "Catalog", {
      partitionKey: { name: catalogTable.partitionKey, type: AttributeType.STRING },
      sortKey: { name: catalogTable.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: catalogTable.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(catalogTable.indexes)) {
      this.catalogTable.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }

    this.eventBus = new EventBus(this, "Bus", { eventBusName: "simsnap" });

    this.snapshotBucketArnExport = `${this.stackName}-SnapshotBucketArn`;
    this.exportValue(this.snapshotBucket.bucketArn, { name: this.snapshotBucketArnExport });
    this.archiveBucketArnExport = `${this.stackName}-ArchiveBucketArn`;
    this.exportValue(this.archiveBucket.bucketArn, { name: this.archiveBucketArnExport });

    this.airTokenSecret = props.airToken ? this.airToken(props.airToken) : undefined;
  }

  /**
   * The Air token's secret: imported when the config names one (the operator manages it and its
   * rotation), else created here with an empty `token` for the operator to fill (its ARN is an
   * output). It lives in this stack because it is state: redeploying or replacing the functions
   * must never drop a token someone pasted. Retained when the stack is deleted, like the data.
   */
  private airToken(config: AirTokenConfig): AirTokenSecret {
    if (config.secretArn !== undefined) {
      // A complete ARN ends in Secrets Manager's 6-character suffix; a partial one does not.
      const complete = /-[A-Za-z0-9]{6}$/.test(config.secretArn);
      const secret = complete
        ? Secret.fromSecretCompleteArn(this, "AirApiToken", config.secretArn)
        : Secret.fromSecretPartialArn(this, "AirApiToken", config.secretArn);
      return {
        secret,
        secretId: config.secretArn,
        policyArn: complete ? config.secretArn : `${config.secretArn}-??????`,
      };
    }
    if (config.secretName !== undefined) {
      const secret = Secret.fromSecretNameV2(this, "AirApiToken", config.secretName);
      return { secret, secretId: config.secretName, policyArn: `${secret.secretArn}-??????` };
    }
    const secret = new Secret(this, "AirApiToken", {
      description:
        'NVIDIA Air API token for simsnap: set {"token": "<a scoped Air API key>"} (scopes simulation_read, simulation_edit, simulation_start_stop, simulation_create, simulation_delete)',
      secretObjectValue: { token: SecretValue.unsafePlainText("") },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "NVIDIA Air API keys are issued in Air's own UI: Secrets Manager cannot rotate them. The " +
        "operator replaces the token here; simsnap re-reads it after a 401.",
    });
    new CfnOutput(this, "AirTokenSecretArn", {
      description: "Put the NVIDIA Air API token in this secret (simsnap created it empty)",
      value: secret.secretArn,
    });
    return { secret, secretId: secret.secretArn, policyArn: secret.secretArn };
  }
}
