import { mkdirSync, rmSync } from "node:fs";
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
import { DynamoDbCheckpointStore } from "../adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../adapters/dynamodb/job-store.ts";
import { SimSpaceWeaverClient } from "../adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../adapters/simspaceweaver/provider.ts";
import type { CheckpointState } from "../domain/checkpoint.ts";
import {
  DEFAULT_HANDLER,
  scheduleInput,
  topology,
  type FunctionName,
  type QueueName,
  type ScheduleSpec,
} from "../topology.ts";
import type { SimsnapConfig } from "../domain/config-file.ts";
import { environmentFor, type DeploymentValues } from "../settings.ts";
import { ownedPrefixes } from "../domain/snapshot-key.ts";
import { resolveLocalConfig, type LocalConfig, type LocalStackConfig } from "./demo-config.ts";
import { LocalEventBus, type BusEvent } from "./event-bus.ts";
import { lambdaContext, QueuePoller } from "./queue-poller.ts";
import { LocalScheduler } from "./scheduler.ts";
import { serveHttpApi, type HttpApiHandler } from "./http-server.ts";
import { startLocalServers } from "./servers.ts";
import { restoreDemo } from "./restore-demo.ts";
import { loadSimulationCheckpoints } from "../usecases/list-checkpoints.ts";
import { startSimulator, type LocalSimulator, type SimulatorApiCall } from "./simulator.ts";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** How a local run is started. */
export interface LocalRunOptions {
  config: LocalConfig;
  /** The config file (`simsnap.config.json`): destination, schedules, retention, demo simulations. */
  configFile: SimsnapConfig;
  dataDir: string;
  /** Stop after this many seconds; without it, run until `signal` aborts. */
  durationSeconds?: number;
  signal?: AbortSignal;
  keepData?: boolean;
  /** Where readable progress lines go. */
  print: (line: string) => void;
  /** Port of the HTTP API on 127.0.0.1 (default `topology.httpApi.localPort`, 0 for any free one). */
  apiPort?: number;
  /** Called once everything is up, with where to reach it (tests and tools drive the stack). */
  onReady?: (stack: LocalStackInfo) => void;
}

/** Where the parts of a running local stack can be reached. */
export interface LocalStackInfo {
  apiEndpoint: string;
  dataDir: string;
  endpoints: { s3: string; dynamodb: string; sqs: string; simulator: string; eventBridge: string };
  /** The simulator itself, so tests can stage what the real service does on its own. */
  simulator: LocalSimulator;
}

/** The checkpoint counts per state of each demo simulation, printed as the run's last line. */
export interface LocalRunSummary {
  simulations: { name: string; checkpoints: Record<CheckpointState, number> }[];
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const clock = () => new Date().toISOString().slice(11, 19);

/** Turns a simsnap bus event into one readable line. */
export function describeEvent(event: BusEvent): string {
  const detail = event.detail as {
    checkpoint?: {
      simulation?: string;
      location?: { key?: string };
      size?: number;
      error?: { code: string; message: string };
      name?: string;
    };
    jobId?: string;
  };
  const checkpoint = detail.checkpoint ?? {};
  const simulation = (checkpoint.simulation ?? "?").padEnd(16);
  switch (event["detail-type"]) {
    case "Snapshot Requested":
      return `▸ snapshot requested   ${simulation} job ${detail.jobId?.slice(0, 8) ?? "?"}`;
    case "Checkpoint Completed":
      return `✓ checkpoint complete  ${simulation} ${checkpoint.location?.key ?? ""} (${checkpoint.size ?? 0} bytes)`;
    case "Checkpoint Failed":
      return `✗ checkpoint failed    ${simulation} ${checkpoint.error?.code ?? ""}: ${checkpoint.error?.message ?? ""}`;
    case "Checkpoint Deleted":
      return `✂ checkpoint deleted   ${simulation} ${checkpoint.location?.key ?? ""} (by request)`;
    case "Checkpoints Pruned": {
      const pruned = event.detail as {
        simulation?: string;
        removedCount?: number;
        kept?: unknown[];
        failedCount?: number;
      };
      return `✂ checkpoints pruned  ${(pruned.simulation ?? "?").padEnd(16)} removed ${pruned.removedCount ?? 0}, kept ${pruned.kept?.length ?? 0}${pruned.failedCount ? `, ${pruned.failedCount} failed` : ""}`;
    }
    case "Simulation Stopped": {
      const stopped = event.detail as {
        simulation?: string;
        finalSnapshot?: string;
        forced?: boolean;
      };
      return `■ simulation stopped   ${(stopped.simulation ?? "?").padEnd(16)} final snapshot ${stopped.finalSnapshot ?? "?"}${stopped.forced ? " (forced)" : ""}`;
    }
    case "Checkpoint Archived": {
      const archived = event.detail as {
        archive?: { key?: string; storageClass?: string };
        copied?: boolean;
      };
      return `⇪ checkpoint archived  ${simulation} ${archived.archive?.key ?? "?"} (${archived.archive?.storageClass ?? "?"}${archived.copied === false ? ", copy was already there" : ""})`;
    }
    case "Archives Pruned": {
      const pruned = event.detail as { simulation?: string; removedCount?: number };
      return `✂ archives pruned      ${(pruned.simulation ?? "?").padEnd(16)} removed ${pruned.removedCount ?? 0}`;
    }
    case "Restore Requested":
    case "Checkpoint Restored":
    case "Restore Failed": {
      const restore = event.detail as {
        simulation?: string;
        target?: string;
        from?: string;
        snapshot?: { key?: string };
        error?: { code?: string; message?: string };
      };
      const source = (restore.simulation ?? "?").padEnd(16);
      if (event["detail-type"] === "Restore Requested")
        return `↺ restore requested    ${source} → ${restore.target ?? "?"}`;
      if (event["detail-type"] === "Restore Failed")
        return `✗ restore failed       ${source} ${restore.error?.code ?? ""}: ${restore.error?.message ?? ""}`;
      return `↺ checkpoint restored  ${source} → ${restore.target ?? "?"} from the ${restore.from ?? "?"} copy ${restore.snapshot?.key ?? ""}`;
    }
    case "Simulation Stop Failed": {
      const failed = event.detail as { simulation?: string; error?: { message?: string } };
      return `✗ stop refused         ${(failed.simulation ?? "?").padEnd(16)} ${failed.error?.message ?? ""}`;
    }
    default:
      return `• ${event["detail-type"]} ${JSON.stringify(event.detail)}`;
  }
}

/**
 * The "AWS API Call via CloudTrail" event AWS delivers for a successful SimSpace Weaver call, for
 * the calls the local simulator reports, so the same rule reacts locally.
 */
function cloudTrailEvent(call: SimulatorApiCall) {
  const time = call.eventTime.toISOString().replace(/\.\d+Z$/, "Z");
  return {
    source: "aws.simspaceweaver",
    "detail-type": "AWS API Call via CloudTrail",
    resources: [],
    time,
    detail: {
      eventVersion: "1.09",
      userIdentity: { type: "IAMUser", arn: `arn:aws:iam::${ACCOUNT}:user/local` },
      eventTime: time,
      eventSource: "simspaceweaver.amazonaws.com",
      eventName: call.eventName,
      awsRegion: REGION,
      sourceIPAddress: "127.0.0.1",
      userAgent: "simsnap-local",
      requestParameters: call.requestParameters,
      responseElements: null,
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: "Management",
    },
  };
}

/**
 * The whole of simsnap on one machine: embedded S3, DynamoDB, SQS, the simulator and an
 * EventBridge-like bus on loopback, the real functions wired by `lib/topology.ts`, and the
 * configured schedules. The functions are the deployed ones, loaded after the environment points
 * their AWS SDK clients at the embedded servers.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunSummary> {
  const { print } = options;
  const config = resolveLocalConfig(options.config, options.configFile);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const dataDir = resolve(options.dataDir);
  if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });

  const servers = await startLocalServers({ dataDir });
  const stack: (() => Promise<void>)[] = [() => servers.close()];
  const errors: unknown[] = [];
  const onError = (error: unknown) => {
    errors.push(error);
    print(`! ${clock()} ${(error as Error).message ?? String(error)}`);
  };
  const chaos = config.chaos;
  try {
    const bus = new LocalEventBus({
      account: ACCOUNT,
      region: REGION,
      onError,
      drop:
        chaos && chaos.dropEvents > 0
          ? {
              rate: chaos.dropEvents,
              seed: chaos.seed,
              // Only the snapshot bucket's: losing those is what simsnap must converge from.
              pattern: {
                source: ["aws.s3"],
                "detail-type": ["Object Created"],
                detail: { bucket: { name: [config.bucket] } },
              },
              onDrop: (event) =>
                print(
                  `  ${clock()} ⚡ dropped S3 event   ${String((event.detail as { object?: { key?: string } }).object?.key ?? "?")}`,
                ),
            }
          : undefined,
    });
    const busEndpoint = await bus.listen();
    stack.push(() => bus.close());

    const s3 = new S3Client({
      region: REGION,
      endpoint: servers.s3.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    const sqs = new SQSClient({
      region: REGION,
      endpoint: servers.sqs.endpoint,
      credentials: CREDENTIALS,
    });
    const dynamo = new DynamoDBClient({
      region: REGION,
      endpoint: servers.dynamodb.endpoint,
      credentials: CREDENTIALS,
    });
    for (const bucket of [config.bucket, config.archiveBucket]) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
        if (error.name !== "BucketAlreadyOwnedByYou" && error.name !== "BucketAlreadyExists")
          throw error;
      });
    }
    await createCatalogTable(dynamo, config.table);
    const queues = await createQueues(sqs, { "prune-requests": config.pruneDebounceSeconds });

    const simulator = await startSimulator({
      s3,
      snapshotDelayMs: config.snapshotDelayMs,
      onApiCall: (call) => bus.put("default", cloudTrailEvent(call)),
      onFault: (fault) =>
        print(`  ${clock()} ⚡ injected ${fault.error} (${fault.status}) on ${fault.operation}`),
    });
    stack.push(() => simulator.close());

    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: servers.s3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: servers.dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: servers.sqs.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: busEndpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "ERROR",
      // EMF records are metrics only in Lambda's log stream; here they would be noise.
      POWERTOOLS_METRICS_DISABLED: "true",
      SIMSNAP_SIMSPACEWEAVER_ENDPOINT: simulator.endpoint,
      SIMSNAP_S3_FORCE_PATH_STYLE: "true",
      SIMSNAP_STATUS_CHECK_FIRST_SECONDS: String(config.statusCheckFirstSeconds),
      SIMSNAP_STATUS_CHECK_MAX_SECONDS: String(config.statusCheckMaxSeconds),
      SIMSNAP_SNAPSHOT_DEADLINE_SECONDS: String(config.snapshotDeadlineSeconds),
      SIMSNAP_CONFLICT_RETRY_SECONDS: "2",
      SIMSNAP_RESTORE_CHECK_FIRST_SECONDS: "1",
      SIMSNAP_RESTORE_CHECK_MAX_SECONDS: "2",
      // Local steps take seconds, and a killed stack's in-memory queues lose every message.
      SIMSNAP_SWEEP_GRACE_SECONDS: String(config.sweepGraceSeconds),
      // What each function's declaration calls for, as the stack sets it (one process: all of it).
      ...localEnvironment(config, queues),
    });

    const modules = await loadHandlers();

    for (const rule of topology.rules) {
      const queue = queues[rule.targetQueue];
      bus.addRule(
        rule.name,
        rule.bus,
        rule.pattern({
          snapshotBucket: config.bucket,
          snapshotPrefixes: ownedPrefixes(config.prefix, config.adoptPrefixes),
        }),
        async (event) => {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event) }),
          );
        },
      );
    }
    if (config.favoriteFirstCheckpoint) {
      const catalog = new DynamoDbCheckpointStore(docClient(dynamo), config.table);
      markFirstFavorite(bus, catalog, config.simulations[0] ?? "", print);
    }
    bus.addRule("console", "simsnap", { source: ["simsnap"] }, (event) =>
      print(`  ${clock()} ${describeEvent(event)}`),
    );
    servers.s3.server.on("event", (notification) => {
      for (const record of notification.Records) {
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

    const pollers = Object.entries(topology.queues).map(([name, spec]) => {
      const handler = entryPoint(modules, spec.consumer) as (
        event: SQSEvent,
        context: Context,
      ) => Promise<SQSBatchResponse>;
      const queue = queues[name as QueueName];
      return new QueuePoller({
        client: sqs,
        queueName: name,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: REGION,
        batchSize: spec.batchSize,
        handler,
        onError,
      });
    });
    for (const poller of pollers) poller.start();
    stack.push(async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    });

    const provider = new SimSpaceWeaverProvider(
      new SimSpaceWeaverClient({
        region: REGION,
        endpoint: simulator.endpoint,
        credentials: CREDENTIALS,
      }),
    );
    await startDemoSimulations(provider, config, print);
    // From here on only simsnap's own calls reach the simulator: chaos mode starts now.
    if (chaos) simulator.injectFaults({ rate: chaos.providerFaults, seed: chaos.seed });

    const api = await serveHttpApi({
      handler: entryPoint(modules, topology.httpApi.target) as HttpApiHandler,
      port: options.apiPort ?? topology.httpApi.localPort,
      onError,
    });
    stack.push(() => api.close());

    print(`simsnap local stack is up (data in ${dataDir})`);
    print(`  API ${api.endpoint}  (try: npm run --silent simsnap -- checkpoints list)`);
    print(
      `  S3 ${servers.s3.endpoint}  DynamoDB ${servers.dynamodb.endpoint}  SQS ${servers.sqs.endpoint}`,
    );
    print(`  SimSpace Weaver simulator ${simulator.endpoint}  EventBridge ${busEndpoint}`);
    const schedules = config.schedules.filter((s) => s.enabled !== false);
    for (const schedule of schedules)
      print(`  schedule ${schedule.name}: ${schedule.expression} (${schedule.timeZone})`);
    if (chaos) print(chaosBanner(chaos));

    // Looked up now, so that a schedule naming an export its module lacks fails the start.
    for (const spec of schedules) entryPoint(modules, spec.target, spec.handler);
    const scheduler = new LocalScheduler<ScheduleSpec>(
      async (spec, scheduledTime) => {
        await entryPoint(
          modules,
          spec.target,
          spec.handler,
        )(scheduleInput(spec, scheduledTime.toISOString()), lambdaContext(spec.target));
      },
      {
        onError: (error, failure) => {
          onError(error);
          print(
            `  ${clock()} ↻ schedule ${failure.schedule.name} tick ${failure.scheduledTime.toISOString()} failed (try ${failure.attempt}); ${
              failure.retryInSeconds === undefined
                ? "giving up, as Lambda does after its retries"
                : `Lambda retries it in ${failure.retryInSeconds} s`
            }`,
          );
        },
      },
    );
    scheduler.start(schedules);
    stack.push(async () => scheduler.stop());
    options.onReady?.({
      apiEndpoint: api.endpoint,
      dataDir,
      endpoints: {
        s3: servers.s3.endpoint,
        dynamodb: servers.dynamodb.endpoint,
        sqs: servers.sqs.endpoint,
        simulator: simulator.endpoint,
        eventBridge: busEndpoint,
      },
      simulator,
    });

    await waitForEnd(options);
    scheduler.stop();
    print(`${clock()} stopping: letting snapshots and prunes in flight finish`);
    const jobs = new DynamoDbJobStore(docClient(dynamo), config.table);
    await waitForOpenJobs(jobs, config, 12_000);
    // Completions that just happened trigger a prune after the debounce delay: let it run too.
    await new Promise((r) => setTimeout(r, (config.pruneDebounceSeconds + 1.5) * 1000));
    await waitForOpenJobs(jobs, config, 12_000);
    if (config.restoreDemo && config.simulations[0]) {
      await restoreDemo({
        simulation: config.simulations[0],
        simulator,
        s3,
        print,
        timeoutMs: 20_000,
      });
    }

    return await summarize(new DynamoDbCheckpointStore(docClient(dynamo), config.table), config);
  } finally {
    for (const close of stack.reverse()) await close().catch(() => undefined);
  }
}

/** The startup line naming the faults chaos mode injects, and how to run the same ones again. */
export function chaosBanner(chaos: NonNullable<LocalStackConfig["chaos"]>): string {
  const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;
  const faults =
    chaos.providerFaults > 0
      ? `${percent(chaos.providerFaults)} of SimSpace Weaver calls fail (InternalServerException, ThrottlingException or ConflictException, as each operation can)`
      : "no SimSpace Weaver faults";
  const drops =
    chaos.dropEvents > 0
      ? `${percent(chaos.dropEvents)} of the snapshot bucket's S3 Object Created events are dropped`
      : "no S3 events dropped";
  return `  chaos mode: ${faults}; ${drops}; seed ${chaos.seed} (--seed ${chaos.seed} draws the same sequence of faults)`;
}

/**
 * Marks the first checkpoint of `simulation` favorite, as a user would, so the demo shows that
 * retention never removes favorites.
 */
function markFirstFavorite(
  bus: LocalEventBus,
  catalog: DynamoDbCheckpointStore,
  simulation: string,
  print: (line: string) => void,
): void {
  let done = false;
  bus.addRule(
    "demo-favorite",
    "simsnap",
    {
      source: ["simsnap"],
      "detail-type": ["Checkpoint Completed"],
      detail: { checkpoint: { simulation: [simulation] } },
    },
    async (event) => {
      const id = (event.detail as { checkpoint?: { id?: string } }).checkpoint?.id;
      if (done || !id) return;
      done = true;
      const checkpoint = await catalog.get(id);
      if (!checkpoint) return;
      await catalog.save({
        ...checkpoint,
        favorite: true,
        version: checkpoint.version + 1,
        modifiedAt: new Date().toISOString(),
      });
      print(
        `  ${clock()} ★ marked favorite     ${simulation.padEnd(16)} ${checkpoint.location?.key ?? id} (retention will keep it)`,
      );
    },
  );
}

/**
 * The environment the functions' declarations call for (`environmentFor`), with the local
 * stack's names. The functions share one process, so it is the union over all of them; the
 * builders in lib/wiring/ still refuse what a function does not declare.
 */
function localEnvironment(
  config: LocalStackConfig,
  queues: Record<QueueName, { url: string }>,
): Record<string, string> {
  const values: DeploymentValues = {
    table: config.table,
    snapshotBucket: config.bucket,
    snapshotPrefix: config.prefix,
    adoptedPrefixes: config.adoptPrefixes,
    eventBus: "simsnap",
    queueUrls: Object.fromEntries(
      Object.entries(queues).map(([name, queue]) => [name, queue.url]),
    ) as Record<QueueName, string>,
    pruneDebounceSeconds: config.pruneDebounceSeconds,
    archiveBucket: config.archiveBucket,
    archiveStorageClass: config.archiveStorageClass,
    simulationRoleArn: `arn:aws:iam::${ACCOUNT}:role/simsnap-demo`,
    retention: config.retention,
    archiveRetention: config.archiveRetention,
  };
  return Object.assign(
    {},
    ...(Object.keys(topology.functions) as FunctionName[]).map((name) =>
      environmentFor(name, values),
    ),
  ) as Record<string, string>;
}

const docClient = (client: DynamoDBClient) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

async function createQueues(
  sqs: SQSClient,
  delays: Partial<Record<QueueName, number>>,
): Promise<Record<QueueName, { url: string; arn: string }>> {
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
  return Object.fromEntries(entries) as Record<QueueName, { url: string; arn: string }>;
}

/** The exports of every function's entry module, by function name. */
type FunctionModules = Record<FunctionName, Record<string, unknown>>;

async function loadHandlers(): Promise<FunctionModules> {
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
 * another), as AWS runs it; a name the module does not export fails the start, not a later tick.
 */
function entryPoint(
  modules: FunctionModules,
  name: FunctionName,
  exportName: string = DEFAULT_HANDLER,
): Handler {
  const handler = modules[name][exportName];
  if (typeof handler !== "function") {
    throw new Error(`${topology.functions[name].entry} exports no handler ${exportName}`);
  }
  return handler as Handler;
}

async function startDemoSimulations(
  provider: SimSpaceWeaverProvider,
  config: LocalStackConfig,
  print: (line: string) => void,
) {
  const existing = new Set((await provider.listSimulations()).map((s) => s.name));
  for (const name of config.simulations) {
    if (existing.has(name)) continue;
    await provider.startSimulation({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/simsnap-demo`,
      schema: { bucket: config.bucket, key: "schemas/demo.yaml" },
      maximumDuration: "2D",
      tags: config.demo.find((d) => d.name === name)?.tags,
    });
  }
  const deadline = Date.now() + 15_000;
  for (const name of config.simulations) {
    while ((await provider.describeSimulation(name)).status !== "STARTED") {
      if (Date.now() > deadline) throw new Error(`Demo simulation ${name} did not start`);
      await new Promise((r) => setTimeout(r, 200));
    }
    print(`  simulation ${name} STARTED`);
  }
}

function waitForEnd(options: LocalRunOptions): Promise<void> {
  return new Promise((resolveEnd) => {
    const timer =
      options.durationSeconds !== undefined
        ? setTimeout(resolveEnd, options.durationSeconds * 1000)
        : undefined;
    options.signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolveEnd();
    });
  });
}

async function waitForOpenJobs(jobs: DynamoDbJobStore, config: LocalStackConfig, graceMs: number) {
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    const open = await Promise.all(config.simulations.map((s) => jobs.listOpen(s)));
    if (open.every((list) => list.length === 0)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function summarize(
  checkpoints: DynamoDbCheckpointStore,
  config: LocalStackConfig,
): Promise<LocalRunSummary> {
  const simulations = [];
  for (const name of config.simulations) {
    const counts: Record<CheckpointState, number> = {
      PENDING: 0,
      COMPLETE: 0,
      FAILED: 0,
      DELETED: 0,
    };
    for (const checkpoint of await loadSimulationCheckpoints(checkpoints, name)) {
      counts[checkpoint.state] += 1;
    }
    simulations.push({ name, checkpoints: counts });
  }
  return { simulations };
}
