import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { expect } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../../lib/adapters/dynamodb/create-table.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { LOCAL_SNAPSHOT_BUCKET } from "../../lib/domain/config-file.ts";
import { AIR_SCOPES } from "../../lib/local/air/model.ts";
import {
  startAirServer,
  type AirServer,
  type AirSimulationSeed,
} from "../../lib/local/air/server.ts";
import { LocalEventBus, type BusEvent } from "../../lib/local/event-bus.ts";
import { lambdaContext } from "../../lib/local/queue-poller.ts";
import { startSimulator, type LocalSimulator } from "../../lib/local/simulator.ts";
import { queueUrlEnv, topology, type QueueName } from "../../lib/topology.ts";
import { startLocalAws, type LocalAws } from "./local-aws.ts";
import { captureLogs, type LogLine } from "./log-capture.ts";

/** The names the event samples in test/events/ use: the function tests deploy under them. */
export const FUNCTION_ENV_NAMES = {
  table: "simsnap-catalog",
  bucket: LOCAL_SNAPSHOT_BUCKET,
  prefix: "simsnap",
  archiveBucket: "simsnap-archive",
} as const;

/** The token the function tests' Air server accepts, with every scope. */
export const FUNCTION_ENV_AIR_TOKEN = "function-test-air-token";

/** What a function test runs against: real protocol servers on loopback, and views behind them. */
export interface FunctionEnv {
  aws: LocalAws;
  /** Present when asked for: the SimSpace Weaver look-alike the functions' provider talks to. */
  simulator?: LocalSimulator;
  /** Present when asked for: the local NVIDIA Air server, its token in `FUNCTION_ENV_AIR_TOKEN`. */
  air?: AirServer;
  catalog: DynamoDbCheckpointStore;
  jobs: DynamoDbJobStore;
  /** Events the functions put on the simsnap bus, in order. */
  events: BusEvent[];
  /** Takes the messages the functions sent to `queue` (their bodies, parsed). */
  received(queue: QueueName): Promise<unknown[]>;
  /** Writes a file into the snapshot bucket (a snapshot, as the provider would). */
  putObject(key: string, body: string, bucket?: string): Promise<void>;
  /** Whether `key` is in the snapshot bucket (or `bucket`): what a function left or removed. */
  objectExists(key: string, bucket?: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts s3rver, dynalite, local-aws-sqs, an EventBridge-like bus and, with `simulator`, the
 * SimSpace Weaver look-alike; creates the catalog table, both buckets and every topology queue;
 * and points the environment at them the way the CDK stack and the local runtime set it, so that
 * a `functions/*.ts` module imported afterwards (its settings are read at init) builds its
 * adapters against them. One per test file: call it in `beforeAll`, `close` in `afterAll`.
 */
export async function startFunctionEnv(
  options: {
    simulator?: boolean;
    air?: { simulations: AirSimulationSeed[] };
    /** Files sources (config `providers.files.sources`) in the snapshot bucket, as deployed. */
    fileSources?: readonly unknown[];
  } = {},
): Promise<FunctionEnv> {
  const aws = await startLocalAws();
  const events: BusEvent[] = [];
  const bus = new LocalEventBus();
  bus.addRule("recorder", "simsnap", { source: ["simsnap"] }, (event) => {
    events.push(event);
  });
  const busEndpoint = await bus.listen();
  const simulator = options.simulator ? await startSimulator({ s3: aws.s3 }) : undefined;
  const air = options.air
    ? await startAirServer({
        tokens: { [FUNCTION_ENV_AIR_TOKEN]: [...AIR_SCOPES] },
        delays: 0,
        simulations: options.air.simulations,
      })
    : undefined;

  const { table, bucket, prefix, archiveBucket } = FUNCTION_ENV_NAMES;
  await createCatalogTable(aws.dynamodb, table);
  for (const name of [bucket, archiveBucket]) {
    await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
  }
  const queueUrls = Object.fromEntries(
    await Promise.all(
      Object.keys(topology.queues).map(async (name) => {
        const created = await aws.sqs.send(new CreateQueueCommand({ QueueName: name }));
        return [name, created.QueueUrl ?? ""] as const;
      }),
    ),
  ) as Record<QueueName, string>;

  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_ENDPOINT_URL_S3: aws.servers.s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.servers.dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.servers.sqs.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: busEndpoint,
    POWERTOOLS_METRICS_DISABLED: "true",
    SIMSNAP_TABLE: table,
    SIMSNAP_SNAPSHOT_BUCKET: bucket,
    SIMSNAP_SNAPSHOT_PREFIX: prefix,
    SIMSNAP_EVENT_BUS: "simsnap",
    SIMSNAP_S3_FORCE_PATH_STYLE: "true",
    SIMSNAP_ARCHIVE_BUCKET: archiveBucket,
    SIMSNAP_SIMULATION_ROLE_ARN: "arn:aws:iam::123456789012:role/simsnap-test",
    ...(simulator ? { SIMSNAP_SIMSPACEWEAVER_ENDPOINT: simulator.endpoint } : {}),
    ...(options.fileSources
      ? {
          SIMSNAP_FILES_BUCKET: bucket,
          SIMSNAP_FILE_SOURCES: JSON.stringify(options.fileSources),
        }
      : {}),
    // As the local runtime sets it for the functions that declare Air: the token in a variable.
    ...(air
      ? {
          SIMSNAP_AIR_ENDPOINT: air.baseUrl,
          SIMSNAP_AIR_TOKEN_ENV: "AIR_API_TOKEN",
          AIR_API_TOKEN: FUNCTION_ENV_AIR_TOKEN,
        }
      : {}),
    ...Object.fromEntries(
      Object.entries(queueUrls).map(([name, url]) => [queueUrlEnv(name as QueueName), url]),
    ),
  });

  const doc = DynamoDBDocumentClient.from(aws.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    aws,
    simulator,
    air,
    catalog: new DynamoDbCheckpointStore(doc, table),
    jobs: new DynamoDbJobStore(doc, table),
    events,
    async received(queue) {
      const bodies: unknown[] = [];
      for (;;) {
        const { Messages = [] } = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrls[queue], MaxNumberOfMessages: 10 }),
        );
        if (Messages.length === 0) return bodies;
        for (const message of Messages) {
          bodies.push(JSON.parse(message.Body ?? "null"));
          await aws.sqs.send(
            new DeleteMessageCommand({
              QueueUrl: queueUrls[queue],
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      }
    },
    async putObject(key, body, into = bucket) {
      await aws.s3.send(new PutObjectCommand({ Bucket: into, Key: key, Body: body }));
    },
    objectExists(key, from = bucket) {
      return aws.s3.send(new HeadObjectCommand({ Bucket: from, Key: key })).then(
        () => true,
        () => false,
      );
    },
    async close() {
      await air?.close();
      await simulator?.close();
      await bus.close();
      await aws.close();
    },
  };
}

/** What one invocation returned or threw, and the log lines it wrote. */
export interface Invocation<R> {
  result?: R;
  error?: unknown;
  lines: LogLine[];
  context: Context;
}

/**
 * Invokes a handler as Lambda would, with a fresh context (its own request id), and collects the
 * JSON log lines it wrote; an error is returned, not thrown, so a test can look at both.
 */
export async function invoke<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
  event: E,
  functionName = "test",
): Promise<Invocation<R>> {
  const context = lambdaContext(functionName);
  const logs = captureLogs();
  try {
    return { result: await handler(event, context), lines: logs.lines(), context };
  } catch (error) {
    return { error, lines: logs.lines(), context };
  } finally {
    logs.restore();
  }
}

/** An SQS event sample with the body of its first record replaced by `body` (as JSON). */
export function withBody<T extends { Records: { body: string }[] }>(sample: T, body: unknown): T {
  const [first] = sample.Records;
  return { ...sample, Records: [{ ...first!, body: JSON.stringify(body) }] } as T;
}

/** The message id of the record `withInvalidRecord` adds. */
export const INVALID_MESSAGE_ID = "00000000-0000-4000-8000-00000000bad0";

/**
 * The sample with a second record whose body no schema accepts (an empty object), to see a
 * record fail alone in the batch response, and its rejection logged.
 */
export function withInvalidRecord<T extends { Records: { body: string; messageId: string }[] }>(
  sample: T,
): T {
  const [first] = sample.Records;
  return {
    ...sample,
    Records: [...sample.Records, { ...first!, messageId: INVALID_MESSAGE_ID, body: "{}" }],
  } as T;
}

/**
 * The rejection line `withInvalidRecord`'s record leaves: a WARN naming `what` that carries the
 * invocation's Lambda context (what `injectLambdaContext` adds) and the record's message id.
 */
export const rejectionLine = (what: string, context: Context) =>
  expect.objectContaining({
    level: "WARN",
    message: `${what} rejected`,
    messageId: INVALID_MESSAGE_ID,
    function_request_id: context.awsRequestId,
    function_name: context.functionName,
    cold_start: expect.any(Boolean),
  });
