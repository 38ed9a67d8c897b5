import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { DynamoDbCheckpointStore } from "../adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../adapters/dynamodb/job-store.ts";
import { SimSpaceWeaverClient } from "../adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../adapters/simspaceweaver/provider.ts";
import type { CheckpointState } from "../domain/checkpoint.ts";
import { loadSimulationCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { favoriteLine, simulationStartedLine, stoppingLine } from "./console-lines.ts";
import type { LocalStackConfig } from "./demo-config.ts";
import type { LocalEventBus } from "./event-bus.ts";
import type * as FilesDemoModule from "./files-demo.ts";
import type * as RestoreDemoModule from "./restore-demo.ts";
import type * as UndeleteDemoModule from "./undelete-demo.ts";
import type { LocalSimulator } from "./simulator.ts";
import { docClient, LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION } from "./wiring.ts";

/**
 * The checkpoint counts per state of each demo simulation, with the provider it runs on, printed
 * as the run's last line.
 */
export interface LocalRunSummary {
  simulations: {
    name: string;
    provider: string;
    checkpoints: Record<CheckpointState, number>;
    /** Checkpoints by the outcome of their latest restore test (`verification`). */
    verified: { PASSED: number; FAILED: number };
  }[];
}

/** How long the clean stop waits, each time, for the open jobs of the demo simulations. */
const OPEN_JOBS_WAIT_MS = 12_000;

/** How long the restore demo may take before the stop goes on without it. */
const RESTORE_DEMO_TIMEOUT_MS = 20_000;

/** How long the demo simulations may take to reach STARTED. */
const START_TIMEOUT_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the config file's demo simulations on the local simulator, through the same provider
 * adapter the functions use, unless a kept run's are still there, and waits until each is
 * STARTED: the schedules have something to snapshot from their first tick.
 */
export async function startDemoSimulations(
  simulatorEndpoint: string,
  config: LocalStackConfig,
  print: (line: string) => void,
): Promise<void> {
  const provider = new SimSpaceWeaverProvider(
    new SimSpaceWeaverClient({
      region: LOCAL_REGION,
      endpoint: simulatorEndpoint,
      credentials: LOCAL_CREDENTIALS,
    }),
  );
  const existing = new Set((await provider.listSimulations()).map((s) => s.name));
  for (const name of config.simulations) {
    if (existing.has(name)) continue;
    await provider.startSimulation({
      name,
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/simsnap-demo`,
      schema: { bucket: config.bucket, key: "schemas/demo.yaml" },
      maximumDuration: "2D",
      tags: config.demo.find((d) => d.name === name)?.tags,
    });
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (const name of config.simulations) {
    while ((await provider.describeSimulation(name)).status !== "STARTED") {
      if (Date.now() > deadline) throw new Error(`Demo simulation ${name} did not start`);
      await sleep(200);
    }
    print(simulationStartedLine(name));
  }
}

/**
 * Marks the first checkpoint of the first demo simulation favorite, as a user would, so the demo
 * shows that retention never removes favorites.
 */
export function markFirstFavorite(
  bus: LocalEventBus,
  dynamo: DynamoDBClient,
  config: LocalStackConfig,
  print: (line: string) => void,
): void {
  const catalog = new DynamoDbCheckpointStore(docClient(dynamo), config.table);
  const simulation = config.simulations[0] ?? "";
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
      print(favoriteLine(simulation, checkpoint.location?.key ?? id));
    },
  );
}

/** Resolves after `durationSeconds`, or when `signal` aborts (Ctrl-C), whichever comes first. */
export function waitForEnd(options: {
  durationSeconds?: number;
  signal?: AbortSignal;
}): Promise<void> {
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

let stopDemos:
  | {
      restore: Promise<typeof RestoreDemoModule>;
      files: Promise<typeof FilesDemoModule>;
      undelete: Promise<typeof UndeleteDemoModule>;
    }
  | undefined;

/**
 * The modules of the demos the clean stop runs, imported once. The runtime calls this right after
 * `loadHandlers`, not at the stop: they run the functions' own code (their wiring, their retry
 * helper and the shared logger), which reads the environment the runtime sets when it is first
 * loaded; and a Ctrl-C reaches the whole process group, tsx's esbuild service included, after
 * which no TypeScript module can be loaded any more ("The service is no longer running").
 */
export function loadStopDemos(): NonNullable<typeof stopDemos> {
  stopDemos ??= {
    restore: import("./restore-demo.ts"),
    files: import("./files-demo.ts"),
    undelete: import("./undelete-demo.ts"),
  };
  return stopDemos;
}

/** What the clean stop works with: the stack's clients and simulator, still running. */
export interface StopContext {
  config: LocalStackConfig;
  dynamo: DynamoDBClient;
  s3: S3Client;
  simulator: LocalSimulator;
  /** The local API, still serving: the undelete demo points the CLI at it. */
  apiEndpoint: string;
  /** Still sweeping: it ends or re-drives jobs whose messages were lost, so the waits can end. */
  sweeper: { stop(): void };
  print: (line: string) => void;
}

/**
 * The end of a run, with the schedules that start work stopped and everything else still
 * running: snapshots and prunes in flight finish (open jobs, then the prune their completions set
 * off after the debounce delay, then its job) while the sweeper still ends or re-drives those
 * whose messages were lost; then the sweeper stops, the restore demo runs when configured, and
 * the catalog is counted for the summary.
 */
export async function stopCleanly(context: StopContext): Promise<LocalRunSummary> {
  const { config, print } = context;
  print(stoppingLine());
  const jobs = new DynamoDbJobStore(docClient(context.dynamo), config.table);
  await waitForOpenJobs(jobs, config, OPEN_JOBS_WAIT_MS);
  // Completions that just happened trigger a prune after the debounce delay: let it run too.
  await sleep((config.pruneDebounceSeconds + 1.5) * 1000);
  await waitForOpenJobs(jobs, config, OPEN_JOBS_WAIT_MS);
  context.sweeper.stop();
  if (config.restoreDemo && config.simulations[0]) {
    // A prune undone through the CLI, then restored from: the newest trashed checkpoint.
    const { undeleteDemo } = await loadStopDemos().undelete;
    await undeleteDemo({
      simulations: config.simulations,
      apiEndpoint: context.apiEndpoint,
      print,
      timeoutMs: RESTORE_DEMO_TIMEOUT_MS,
    });
  }
  if (config.restoreDemo && config.simulations[0]) {
    const { restoreDemo } = await loadStopDemos().restore;
    await restoreDemo({
      simulation: config.simulations[0],
      simulator: context.simulator,
      s3: context.s3,
      print,
      timeoutMs: RESTORE_DEMO_TIMEOUT_MS,
    });
  }
  if (config.restoreDemo) {
    // The trainer's checkpoints: one is copied back from its archive under a restore prefix.
    const { filesRestoreDemo } = await loadStopDemos().files;
    await filesRestoreDemo({ print, timeoutMs: RESTORE_DEMO_TIMEOUT_MS });
  }
  return await summarize(
    new DynamoDbCheckpointStore(docClient(context.dynamo), config.table),
    config,
  );
}

async function waitForOpenJobs(jobs: DynamoDbJobStore, config: LocalStackConfig, graceMs: number) {
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    const open = await Promise.all(config.demo.map((s) => jobs.listOpen(s.name)));
    if (open.every((list) => list.length === 0)) return;
    await sleep(250);
  }
}

async function summarize(
  checkpoints: DynamoDbCheckpointStore,
  config: LocalStackConfig,
): Promise<LocalRunSummary> {
  const simulations = [];
  for (const { name, provider } of config.demo) {
    const counts: Record<CheckpointState, number> = {
      PENDING: 0,
      COMPLETE: 0,
      FAILED: 0,
      DELETED: 0,
    };
    const verified = { PASSED: 0, FAILED: 0 };
    for (const checkpoint of await loadSimulationCheckpoints(checkpoints, name)) {
      counts[checkpoint.state] += 1;
      if (checkpoint.verification) verified[checkpoint.verification.status] += 1;
    }
    simulations.push({ name, provider, checkpoints: counts, verified });
  }
  return { simulations };
}
