import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { SimSpaceWeaverClient } from "../../lib/adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import { SimsnapClient } from "../../packages/client/src/client.ts";
import { SimsnapConfigSchema, type SimsnapConfigInput } from "../../lib/domain/config-file.ts";
import { LocalConfigSchema, type LocalConfig } from "../../lib/local/demo-config.ts";
import type { LocalRunSummary } from "../../lib/local/demo.ts";
import { runLocal, type LocalStackInfo } from "../../lib/local/runtime.ts";
import { LOCAL_CREDENTIALS } from "./local-aws.ts";

const aws = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: LOCAL_CREDENTIALS,
});

/** A local stack running in this process, with clients to drive it and to look behind it. */
export interface RunningStack {
  info: LocalStackInfo;
  client: SimsnapClient;
  /** The catalog itself, to seed records a test needs without waiting for real snapshots. */
  catalog: DynamoDbCheckpointStore;
  objects: S3ObjectStore;
  provider: SimSpaceWeaverProvider;
  lines: string[];
  stop(): Promise<LocalRunSummary>;
}

/**
 * Starts the whole local stack (`runLocal`) on free ports for a test file: no schedules (tests
 * ask for snapshots themselves), retention that keeps everything (so nothing a test made is
 * pruned under it), quick snapshots and status checks. `stop` ends the run and removes its data.
 */
export async function startLocalStack(
  options: {
    simulations?: string[];
    config?: Partial<LocalConfig>;
    file?: SimsnapConfigInput;
  } = {},
): Promise<RunningStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "simsnap-api-"));
  const controller = new AbortController();
  const lines: string[] = [];
  let ready!: (info: LocalStackInfo) => void;
  const started = new Promise<LocalStackInfo>((resolve) => (ready = resolve));
  const config = LocalConfigSchema.parse({
    snapshotDelayMs: 300,
    statusCheckFirstSeconds: 1,
    pruneDebounceSeconds: 1,
    favoriteFirstCheckpoint: false,
    restoreDemo: false,
    ...options.config,
  });
  const run = runLocal({
    config,
    configFile: SimsnapConfigSchema.parse({
      retention: { default: { keepLast: -1 } },
      local: { simulations: (options.simulations ?? ["alpha"]).map((name) => ({ name })) },
      ...options.file,
    }),
    dataDir,
    apiPort: 0,
    signal: controller.signal,
    print: (line) => lines.push(line),
    onReady: (info) => ready(info),
  });
  const info = await Promise.race([
    started,
    run.then(() => {
      throw new Error(`The local stack ended before it was ready:\n${lines.join("\n")}`);
    }),
  ]);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(aws(info.endpoints.dynamodb)), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    info,
    lines,
    client: new SimsnapClient({ endpoint: info.apiEndpoint }),
    catalog: new DynamoDbCheckpointStore(doc, config.table),
    objects: new S3ObjectStore(new S3Client({ ...aws(info.endpoints.s3), forcePathStyle: true })),
    provider: new SimSpaceWeaverProvider(new SimSpaceWeaverClient(aws(info.endpoints.simulator))),
    async stop() {
      controller.abort();
      try {
        return await run;
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
