import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "./adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "./adapters/dynamodb/job-store.ts";
import { EventBridgePublisher } from "./adapters/eventbridge/event-publisher.ts";
import { S3ArchiveStore } from "./adapters/s3/archive-store.ts";
import { S3ObjectStore } from "./adapters/s3/object-store.ts";
import { SimSpaceWeaverClient } from "./adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "./adapters/simspaceweaver/provider.ts";
import { SqsMessageQueue } from "./adapters/sqs/message-queue.ts";
import { SqsVisibility } from "./adapters/sqs/visibility.ts";
import { queueUrl, type Settings } from "./config.ts";
import { ownedPrefixes, type SnapshotOwnership } from "./domain/snapshot-key.ts";
import { systemClock } from "./ports/messaging.ts";
import type { ArchiveSettings } from "./usecases/archive-checkpoint.ts";
import type { RestoreSettings } from "./usecases/restore-checkpoint.ts";
import type { SnapshotTiming } from "./usecases/take-snapshot.ts";
import type { QueueName } from "./topology.ts";

const MIB = 1024 ** 2;

/**
 * Builds the adapters a function uses from its validated settings. Functions call it once at
 * module load (cold start), so clients and their connections are reused across invocations; the
 * AWS SDK picks service endpoints from `AWS_ENDPOINT_URL_*`, which is how the local runtime points
 * the very same code at its embedded servers.
 */
export function createAdapters(settings: Settings) {
  const region = settings.AWS_REGION;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const s3 = new S3Client({ region, forcePathStyle: settings.SIMSNAP_S3_FORCE_PATH_STYLE });
  const sqs = new SQSClient({ region });
  const eventBridge = new EventBridgeClient({ region });
  const provider = new SimSpaceWeaverProvider(
    new SimSpaceWeaverClient({ region, endpoint: settings.SIMSNAP_SIMSPACEWEAVER_ENDPOINT }),
  );
  return {
    provider,
    checkpoints: new DynamoDbCheckpointStore(dynamo, settings.SIMSNAP_TABLE),
    jobs: new DynamoDbJobStore(dynamo, settings.SIMSNAP_TABLE),
    objects: new S3ObjectStore(s3),
    storage: new S3ArchiveStore(s3, {
      copy: {
        thresholdBytes: settings.SIMSNAP_ARCHIVE_MULTIPART_THRESHOLD_MB * MIB,
        partBytes: settings.SIMSNAP_ARCHIVE_PART_SIZE_MB * MIB,
      },
    }),
    archive: settings.SIMSNAP_ARCHIVE_BUCKET
      ? ({
          bucket: settings.SIMSNAP_ARCHIVE_BUCKET,
          storageClass: settings.SIMSNAP_ARCHIVE_STORAGE_CLASS,
          checksumAlgorithm: settings.SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM,
          retrySeconds: settings.SIMSNAP_ARCHIVE_RETRY_SECONDS,
        } satisfies ArchiveSettings)
      : undefined,
    archiveRetention: settings.SIMSNAP_ARCHIVE_RETENTION,
    restore: {
      roleArn: settings.SIMSNAP_SIMULATION_ROLE_ARN,
      snapshotBucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
      snapshotPrefix: settings.SIMSNAP_SNAPSHOT_PREFIX,
      archiveBucket: settings.SIMSNAP_ARCHIVE_BUCKET,
      checksumAlgorithm: settings.SIMSNAP_ARCHIVE_CHECKSUM_ALGORITHM,
      deadlineSeconds: settings.SIMSNAP_RESTORE_DEADLINE_SECONDS,
      firstCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_FIRST_SECONDS,
      maxCheckSeconds: settings.SIMSNAP_RESTORE_CHECK_MAX_SECONDS,
      thaw: {
        days: settings.SIMSNAP_ARCHIVE_RESTORE_DAYS,
        tier: settings.SIMSNAP_ARCHIVE_RESTORE_TIER,
      },
    } satisfies RestoreSettings,
    events: new EventBridgePublisher(eventBridge, settings.SIMSNAP_EVENT_BUS),
    redelivery: new SqsVisibility(sqs),
    clock: systemClock,
    retention: settings.SIMSNAP_RETENTION,
    archiveFirst: settings.SIMSNAP_ARCHIVE_BUCKET !== undefined,
    pruneDebounceSeconds: settings.SIMSNAP_PRUNE_DEBOUNCE_SECONDS,
    reports: { bucket: settings.SIMSNAP_SNAPSHOT_BUCKET, prefix: settings.SIMSNAP_SNAPSHOT_PREFIX },
    destination: {
      bucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
      prefix: settings.SIMSNAP_SNAPSHOT_PREFIX,
    },
    owned: {
      bucket: settings.SIMSNAP_SNAPSHOT_BUCKET,
      prefixes: ownedPrefixes(settings.SIMSNAP_SNAPSHOT_PREFIX, settings.SIMSNAP_ADOPTED_PREFIXES),
    } satisfies SnapshotOwnership,
    timing: {
      firstCheckSeconds: settings.SIMSNAP_STATUS_CHECK_FIRST_SECONDS,
      maxCheckSeconds: settings.SIMSNAP_STATUS_CHECK_MAX_SECONDS,
      deadlineSeconds: settings.SIMSNAP_SNAPSHOT_DEADLINE_SECONDS,
      conflictRetrySeconds: settings.SIMSNAP_CONFLICT_RETRY_SECONDS,
      conflictMaxAttempts: settings.SIMSNAP_CONFLICT_MAX_ATTEMPTS,
    } satisfies SnapshotTiming,
    /** A queue this function sends to; its URL must be in the environment. */
    queue: <T>(name: QueueName) => new SqsMessageQueue<T>(sqs, queueUrl(name)),
  };
}
