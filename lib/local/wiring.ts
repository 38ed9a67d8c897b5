import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createCatalogTable } from "../adapters/dynamodb/create-table.ts";
import { freshnessWatches } from "../domain/freshness.ts";
import { ownedPrefixes } from "../domain/snapshot-key.ts";
import { environmentFor, type DeploymentValues } from "../settings.ts";
import {
  DEFAULT_HANDLER,
  scheduleInput,
  SNAPSHOT_SCHEDULE_TARGET,
  topology,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
} from "../topology.ts";
import { tickFailureLine } from "./console-lines.ts";
import { localReconcileGraceSeconds, type LocalStackConfig } from "./demo-config.ts";
import type { BusEvent, EventDrop, LocalEventBus } from "./event-bus.ts";
import { asOwnInvocations } from "./invoke-store.ts";
import { lambdaContext, QueuePoller, type SendWakeups } from "./queue-poller.ts";
import { LocalScheduler } from "./scheduler.ts";
import type { LocalServers } from "./servers.ts";
import type { SimulatorApiCall } from "./simulator.ts";

/** The region every local client and ARN uses. */
export const LOCAL_REGION = "us-east-1";
/** The account in every local ARN. */
export const LOCAL_ACCOUNT = "123456789012";
/** What the local clients sign with; the embedded servers accept any credentials. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** Each queue of the topology as created on the embedded SQS. */
export type LocalQueues = Record<QueueName, { url: string; arn: string }>;

/** The runtime's own SDK clients on the embedded servers, and the queues it created there. */
export interface LocalAws {
  s3: S3Client;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  queues: LocalQueues;
  /** Wake-ups on every send, so the pollers hand messages over as they arrive. */
  sends: SendWakeups;
}

/** A function's export as Lambda invokes it. */
type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The exports of every function's entry module, by function name. */
export type FunctionModules = Record<FunctionName, Record<string, unknown>>;

/** The document client the local runtime reads the catalog with, as the functions build theirs. */
export const docClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/**
 * What a deployment creates before the first function runs: the snapshot and archive buckets,
 * the catalog table, and every queue of the topology with its dead-letter queue (the prune queue
 * delayed by the local debounce), on the embedded servers.
 */
export async function provisionAws(
  servers: LocalServers,
  config: LocalStackConfig,
): Promise<LocalAws> {
  const s3 = new S3Client({
    region: LOCAL_REGION,
    endpoint: servers.s3.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  const sqs = new SQSClient({
    region: LOCAL_REGION,
    endpoint: servers.sqs.endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  const dynamo = new DynamoDBClient({
    region: LOCAL_REGION,
    endpoint: servers.dynamodb.endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  const buckets = new Set([config.bucket, config.archiveBucket, config.files?.bucket]);
  for (const bucket of [...buckets].filter((b) => b !== undefined)) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (error.name !== "BucketAlreadyOwnedByYou" && error.name !== "BucketAlreadyExists")
        throw error;
    });
  }
  await createCatalogTable(dynamo, config.table);
  const queues = await createQueues(sqs, { "prune-requests": config.pruneDebounceSeconds });
  return { s3, sqs, dynamo, queues, sends: servers.sqs.sends };
}

async function createQueues(
  sqs: SQSClient,
  delays: Partial<Record<QueueName, number>>,
): Promise<LocalQueues> {
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn ?? "";
  const entries = await Promise.all(
    Object.entries(topology.queues).map(async ([name, spec]) => {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
      const dlqArn = await arnOf(dlq.QueueUrl ?? "");
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
            DelaySeconds: String(
              delays[name as QueueName] ??
                ("deliveryDelaySeconds" in spec ? spec.deliveryDelaySeconds : 0),
            ),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: spec.maxReceiveCount,
            }),
          },
        }),
      );
      const url = queue.QueueUrl ?? "";
      return [name, { url, arn: await arnOf(url) }] as const;
    }),
  );
  return Object.fromEntries(entries) as LocalQueues;
}

/** Where the functions' AWS clients reach the embedded stand-ins. */
export interface FunctionEndpoints {
  s3: string;
  dynamodb: string;
  sqs: string;
  eventBridge: string;
  simulator: string;
}

/**
 * Sets the environment the functions read at cold start, as the stack sets each Lambda's: their
 * SDK clients pointed at the embedded servers, the local timings, and what each function's
 * declaration calls for. Nothing of the functions' side may be loaded before this: the shared
 * logger reads `POWERTOOLS_LOG_LEVEL` once, when it is created, and goes back to that level at
 * every invocation (Powertools' debug sampling), so a logger created earlier logs every INFO line
 * to the console whatever is set here.
 */
export function pointFunctionsAt(
  endpoints: FunctionEndpoints,
  config: LocalStackConfig,
  queues: LocalQueues,
  air?: LocalAir,
): void {
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "ERROR",
    // EMF records are metrics only in Lambda's log stream; here they would be noise.
    POWERTOOLS_METRICS_DISABLED: "true",
    SIMSNAP_SIMSPACEWEAVER_ENDPOINT: endpoints.simulator,
    SIMSNAP_S3_FORCE_PATH_STYLE: "true",
    SIMSNAP_STATUS_CHECK_FIRST_SECONDS: String(config.statusCheckFirstSeconds),
    SIMSNAP_STATUS_CHECK_MAX_SECONDS: String(config.statusCheckMaxSeconds),
    SIMSNAP_SNAPSHOT_DEADLINE_SECONDS: String(config.snapshotDeadlineSeconds),
    SIMSNAP_CONFLICT_RETRY_SECONDS: "2",
    SIMSNAP_RESTORE_CHECK_FIRST_SECONDS: "1",
    SIMSNAP_RESTORE_CHECK_MAX_SECONDS: "2",
    // Local steps take seconds, and a killed stack's in-memory queues lose every message.
    SIMSNAP_SWEEP_GRACE_SECONDS: String(config.sweepGraceSeconds),
    SIMSNAP_RECONCILE_GRACE_SECONDS: String(localReconcileGraceSeconds(config)),
    // What each function's declaration calls for, as the stack sets it (one process: all of it).
    ...localEnvironment(config, queues, air),
  });
}

/** NVIDIA Air as the local stack runs it: the local Air server, its token in the environment. */
export interface LocalAir {
  /** The API base, `http://127.0.0.1:<port>/api/v3/`. */
  endpoint: string;
  /** The environment variable holding the token (set by the runtime, read at each Air call). */
  tokenEnv: string;
}

/**
 * The environment the functions' declarations call for (`environmentFor`), with the local
 * stack's names. The functions share one process, so it is the union over all of them; the
 * builders in lib/wiring/ still refuse what a function does not declare.
 */
function localEnvironment(
  config: LocalStackConfig,
  queues: LocalQueues,
  air: LocalAir | undefined,
): Record<string, string> {
  const values: DeploymentValues = {
    table: config.table,
    snapshotBucket: config.bucket,
    snapshotPrefix: config.prefix,
    adoptedPrefixes: config.adoptPrefixes,
    trashDays: config.trashDays,
    eventBus: "simsnap",
    queueUrls: Object.fromEntries(
      Object.entries(queues).map(([name, queue]) => [name, queue.url]),
    ) as Record<QueueName, string>,
    pruneDebounceSeconds: config.pruneDebounceSeconds,
    archiveBucket: config.archiveBucket,
    archiveStorageClass: config.archiveStorageClass,
    simulationRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/simsnap-demo`,
    retention: config.retention,
    freshnessWatches: freshnessWatches(config.schedules, SNAPSHOT_SCHEDULE_TARGET),
    archiveRetention: config.archiveRetention,
    air: air && { endpoint: air.endpoint, tokenEnv: air.tokenEnv },
    files: config.files,
    verificationCheck: config.verificationCheck,
    simSpaceWeaver: config.simSpaceWeaver,
  };
  return Object.assign(
    {},
    ...(Object.keys(topology.functions) as FunctionName[]).map((name) =>
      environmentFor(name, values),
    ),
  ) as Record<string, string>;
}

/**
 * Imports every function's entry module, the deployed code itself; after `pointFunctionsAt`,
 * since the modules build their settings and clients at import, as at a Lambda cold start.
 */
export async function loadHandlers(): Promise<FunctionModules> {
  const root = resolve(import.meta.dirname, "../..");
  const entries = await Promise.all(
    Object.entries(topology.functions).map(async ([name, spec]) => {
      const module = (await import(pathToFileURL(resolve(root, spec.entry)).href)) as Record<
        string,
        unknown
      >;
      return [name, module] as const;
    }),
  );
  return Object.fromEntries(entries) as FunctionModules;
}

/**
 * The export of a function's entry a trigger invokes (`DEFAULT_HANDLER` unless the topology names
 * another), as AWS runs it: each call an invocation of its own (`asOwnInvocations`). A name the
 * module does not export fails the start, not a later tick.
 */
export function entryPoint(
  modules: FunctionModules,
  name: FunctionName,
  exportName: string = DEFAULT_HANDLER,
): Handler {
  const handler = modules[name][exportName];
  if (typeof handler !== "function") {
    throw new Error(`${topology.functions[name].entry} exports no handler ${exportName}`);
  }
  return asOwnInvocations(handler as Handler);
}

/**
 * Chaos mode's lost S3 events: a seeded share of the snapshot bucket's Object Created events only,
 * since losing those is what simsnap must converge from; none without chaos mode.
 */
export function chaosEventDrop(
  config: LocalStackConfig,
  onDrop: (event: BusEvent) => void,
): EventDrop | undefined {
  const chaos = config.chaos;
  if (!chaos || chaos.dropEvents <= 0) return undefined;
  return {
    rate: chaos.dropEvents,
    seed: chaos.seed,
    pattern: {
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: [config.bucket] } },
    },
    onDrop,
  };
}

/**
 * The topology's EventBridge rules on the local bus, each sending what it matches to its queue,
 * with the local bucket, owned prefixes and files sources in the patterns.
 */
export function routeRules(bus: LocalEventBus, aws: LocalAws, config: LocalStackConfig): void {
  for (const rule of topology.rules) {
    const queue = aws.queues[rule.targetQueue];
    const pattern = rule.pattern({
      snapshotBucket: config.bucket,
      snapshotPrefixes: ownedPrefixes(config.prefix, config.adoptPrefixes),
      files: config.files && {
        bucket: config.files.bucket,
        prefixes: config.files.sources.map((source) => source.prefix),
      },
      simSpaceWeaver: config.simSpaceWeaver,
    });
    // A rule about what this deployment does not configure (files sources) is not deployed.
    if (pattern === undefined) continue;
    bus.addRule(rule.name, rule.bus, pattern, async (event) => {
      await aws.sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event) }),
      );
    });
  }
}

/**
 * Puts each object s3rver creates or deletes on the default bus as the "Object Created" or
 * "Object Deleted" event S3 sends to EventBridge, so the snapshot-files and files-source rules
 * see the local buckets as they see real ones. (s3rver reports DeleteObject, not DeleteObjects:
 * a batch delete reaches discovery through its scan, as a lost event would.)
 */
export function forwardS3Events(s3: LocalServers["s3"]["server"], bus: LocalEventBus): void {
  s3.on("event", (notification) => {
    for (const record of notification.Records) {
      if (record.eventName === "ObjectRemoved:Delete") {
        bus.put("default", {
          source: "aws.s3",
          "detail-type": "Object Deleted",
          resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
          detail: {
            version: "0",
            bucket: { name: record.s3.bucket.name },
            object: { key: record.s3.object.key, sequencer: record.s3.object.sequencer },
            "deletion-type": "Permanently Deleted",
            reason: "DeleteObject",
          },
        });
        continue;
      }
      if (!record.eventName.startsWith("ObjectCreated:")) continue;
      bus.put("default", {
        source: "aws.s3",
        "detail-type": "Object Created",
        resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
        detail: {
          version: "0",
          bucket: { name: record.s3.bucket.name },
          object: {
            key: record.s3.object.key,
            size: record.s3.object.size,
            etag: record.s3.object.eTag,
            sequencer: record.s3.object.sequencer,
          },
          reason: record.eventName.slice("ObjectCreated:".length) + "Object",
        },
      });
    }
  });
}

/**
 * The "AWS API Call via CloudTrail" event AWS delivers for a successful SimSpace Weaver call, for
 * the calls the local simulator reports, so the same rule reacts locally.
 */
export function cloudTrailEvent(call: SimulatorApiCall) {
  const time = call.eventTime.toISOString().replace(/\.\d+Z$/, "Z");
  return {
    source: "aws.simspaceweaver",
    "detail-type": "AWS API Call via CloudTrail",
    resources: [],
    time,
    detail: {
      eventVersion: "1.09",
      userIdentity: { type: "IAMUser", arn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/local` },
      eventTime: time,
      eventSource: "simspaceweaver.amazonaws.com",
      eventName: call.eventName,
      awsRegion: LOCAL_REGION,
      sourceIPAddress: "127.0.0.1",
      userAgent: "simsnap-local",
      requestParameters: call.requestParameters,
      responseElements: null,
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: LOCAL_ACCOUNT,
      eventCategory: "Management",
    },
  };
}

/** Running queue pollers; `stop` lets each finish the batch in hand. */
export interface LocalPollers {
  stop(): Promise<void>;
}

/** One poller per queue of the topology, feeding its consumer as Lambda's event source mapping. */
export function startPollers(
  modules: FunctionModules,
  aws: LocalAws,
  onError: (error: unknown) => void,
): LocalPollers {
  const pollers = Object.entries(topology.queues).map(([name, spec]) => {
    const handler = entryPoint(modules, spec.consumer) as (
      event: SQSEvent,
      context: Context,
    ) => Promise<SQSBatchResponse>;
    const queue = aws.queues[name as QueueName];
    return new QueuePoller({
      client: aws.sqs,
      queueName: name,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: LOCAL_REGION,
      batchSize: spec.batchSize,
      handler,
      onError,
      wakeups: aws.sends,
    });
  });
  for (const poller of pollers) poller.start();
  return {
    stop: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}

/** A schedule with the export it invokes, looked up once. */
type ArmedSchedule = ScheduleSpec & { invoke: Handler };

/**
 * Arms the schedules, each invoking its target's export with the input EventBridge Scheduler
 * would send. The exports are looked up first, so a schedule naming one its module lacks fails
 * the start. A failed tick is reported to `onError` and printed with what Lambda's retry does.
 */
export function startScheduler(
  modules: FunctionModules,
  schedules: readonly ScheduleSpec[],
  options: {
    onError: (error: unknown) => void;
    print: (line: string) => void;
    /** Where `rate(…)` periods count from (default now), so two schedulers tick together. */
    startedAt?: Date;
  },
): LocalScheduler<ArmedSchedule> {
  const armed = schedules.map((spec) => ({
    ...spec,
    invoke: entryPoint(modules, spec.target, spec.handler),
  }));
  const scheduler = new LocalScheduler<ArmedSchedule>(
    async (spec, scheduledTime) => {
      await spec.invoke(
        scheduleInput(spec, scheduledTime.toISOString()),
        lambdaContext(spec.target),
      );
    },
    {
      onError: (error, failure) => {
        options.onError(error);
        options.print(tickFailureLine(failure));
      },
    },
  );
  scheduler.start(armed, options.startedAt);
  return scheduler;
}
