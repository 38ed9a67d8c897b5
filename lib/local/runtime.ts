import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildConsole } from "../../console/build.ts";
import type { SimsnapConfig } from "../domain/config-file.ts";
import { topology, type FunctionName, type ScheduleSpec } from "../topology.ts";
import {
  droppedEventLine,
  errorLine,
  eventLine,
  injectedFaultLine,
  startupLines,
} from "./console-lines.ts";
import { runAirDemo, startLocalAir, type LocalAirServer } from "./air-demo.ts";
import type { AirServer } from "./air/server.ts";
import { resolveLocalConfig, type LocalConfig } from "./demo-config.ts";
import {
  loadStopDemos,
  markFirstFavorite,
  startDemoSimulations,
  stopCleanly,
  waitForEnd,
  type LocalRunSummary,
} from "./demo.ts";
import {
  cliHint,
  DEFAULT_DATA_DIR,
  removeEndpointFile,
  writeEndpointFile,
} from "./endpoint-file.ts";
import { LocalEventBus } from "./event-bus.ts";
import { serveHttpApi, type HttpApiHandler } from "./http-server.ts";
import { startLocalServers } from "./servers.ts";
import { startSimulator, type LocalSimulator } from "./simulator.ts";
import { startTrainerDemo } from "./trainer-demo.ts";
import {
  chaosEventDrop,
  cloudTrailEvent,
  entryPoint,
  forwardS3Events,
  loadHandlers,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  pointFunctionsAt,
  provisionAws,
  routeRules,
  startPollers,
  startScheduler,
} from "./wiring.ts";

/** The function whose schedule ends or re-drives jobs left open, and so outlives the others. */
const SWEEPER: FunctionName = "sweep-jobs";

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
  /**
   * The local NVIDIA Air server, when it runs: the server (its hooks stage what Air does on its
   * own), the token it accepts and the variable the functions read it from.
   */
  air?: { server: AirServer; token: string; tokenEnv: string };
}

/**
 * The whole of simsnap on one machine: embedded S3, DynamoDB, SQS, the simulator and an
 * EventBridge-like bus on loopback, the real functions wired by `lib/topology.ts`, and the
 * configured schedules. The functions are the deployed ones, loaded after the environment points
 * their AWS SDK clients at the embedded servers. The phases live in `wiring.ts` (what a
 * deployment creates and connects), `demo.ts` (the demo simulations and the clean stop) and
 * `console-lines.ts` (what is printed).
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunSummary> {
  const { print } = options;
  const config = resolveLocalConfig(options.config, options.configFile);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const dataDir = resolve(options.dataDir);
  if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // The web console is built while the servers start; the API function serves it at `/`.
  const consoleBuilt = buildConsole(join(dataDir, "console"));
  consoleBuilt.catch(() => undefined);

  const servers = await startLocalServers({ dataDir });
  const closers: (() => Promise<void>)[] = [() => servers.close()];
  const onError = (error: unknown) => print(errorLine(error));
  try {
    // What AWS would have: the bus, buckets, table and queues, and the simulator.
    const bus = new LocalEventBus({
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      onError,
      drop: chaosEventDrop(config, (event) => print(droppedEventLine(event))),
    });
    const busEndpoint = await bus.listen();
    closers.push(() => bus.close());
    const aws = await provisionAws(servers, config);
    const simulator = await startSimulator({
      s3: aws.s3,
      snapshotDelayMs: config.snapshotDelayMs,
      onApiCall: (call) => bus.put("default", cloudTrailEvent(call)),
      onFault: (fault) => print(injectedFaultLine(fault)),
    });
    closers.push(() => simulator.close());
    // NVIDIA Air, when configured or a demo simulation is on it: the local Air server, with its
    // token in the environment variable the config names, as an operator would export it.
    let air: LocalAirServer | undefined;
    if (config.air) {
      air = await startLocalAir(config, config.air.tokenEnv, print);
      closers.push(() => air?.server.close() ?? Promise.resolve());
      process.env[air.tokenEnv] = air.token;
    }
    const endpoints = {
      s3: servers.s3.endpoint,
      dynamodb: servers.dynamodb.endpoint,
      sqs: servers.sqs.endpoint,
      simulator: simulator.endpoint,
      eventBridge: busEndpoint,
    };

    // The functions, triggered as the stack triggers them.
    pointFunctionsAt(
      endpoints,
      config,
      aws.queues,
      air && { endpoint: air.server.baseUrl, tokenEnv: air.tokenEnv },
    );
    process.env.SIMSNAP_CONSOLE_DIR = await consoleBuilt;
    const modules = await loadHandlers();
    // Loaded now: after a Ctrl-C no module can be (see `loadStopDemos`); failures show at the stop.
    for (const demo of Object.values(loadStopDemos())) demo.catch(() => undefined);
    routeRules(bus, aws, config);
    if (config.favoriteFirstCheckpoint) markFirstFavorite(bus, aws.dynamo, config, print);
    bus.addRule("console", "simsnap", { source: ["simsnap"] }, (event) => print(eventLine(event)));
    forwardS3Events(servers.s3.server, bus);
    const pollers = startPollers(modules, aws, onError);
    closers.push(() => pollers.stop());

    await startDemoSimulations(simulator.endpoint, config, print);
    // From here on only simsnap's own calls reach the simulator: chaos mode starts now.
    if (config.chaos) {
      simulator.injectFaults({ rate: config.chaos.providerFaults, seed: config.chaos.seed });
    }
    const api = await serveHttpApi({
      handler: entryPoint(modules, topology.httpApi.target) as HttpApiHandler,
      port: options.apiPort ?? topology.httpApi.localPort,
      onError,
    });
    closers.push(() => api.close());
    // Where this stack answers, for the CLI (`--port 0` included); removed again at a clean stop.
    const endpointRecord = {
      endpoint: api.endpoint,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    writeEndpointFile(dataDir, endpointRecord);
    closers.push(async () => removeEndpointFile(dataDir, endpointRecord));

    const schedules = config.schedules.filter((s) => s.enabled !== false);
    const shown = {
      dataDir,
      api: api.endpoint,
      cli: cliHint({
        endpoint: api.endpoint,
        dataDir,
        defaultDataDir: resolve(DEFAULT_DATA_DIR),
        env: process.env,
      }),
      ...endpoints,
      air: air && {
        endpoint: air.server.baseUrl,
        simulations: config.airSimulations,
        tokenEnv: air.tokenEnv,
      },
    };
    for (const line of startupLines(shown, schedules, config.chaos)) print(line);
    // The sweeper gets a scheduler of its own: it goes on into the clean stop, since a job whose
    // message was lost (a kill -9 empties the local queues) only ends through it.
    const arming = { onError, print, startedAt: new Date() };
    const sweeps = (s: ScheduleSpec) => s.target === SWEEPER;
    const scheduler = startScheduler(
      modules,
      schedules.filter((s) => !sweeps(s)),
      arming,
    );
    closers.push(async () => scheduler.stop());
    const sweeper = startScheduler(modules, schedules.filter(sweeps), arming);
    closers.push(async () => sweeper.stop());
    // The demo trainer writes checkpoints of its own, as a training job beside simsnap would.
    const trainer = startTrainerDemo(config, aws.s3, print);
    closers.push(async () => trainer?.stop());
    options.onReady?.({ apiEndpoint: api.endpoint, dataDir, endpoints, simulator, air });

    // The Air demo runs beside the schedules, through the API, and ends with the run.
    const airDemoEnd = new AbortController();
    const airDemo =
      air && config.airDemo && config.airSimulations[0]
        ? runAirDemo({
            apiEndpoint: api.endpoint,
            simulation: config.airSimulations[0],
            air,
            print,
            signal: airDemoEnd.signal,
          })
        : Promise.resolve();
    await waitForEnd(options);
    airDemoEnd.abort();
    await airDemo;
    // Its last checkpoint finished, so the clean stop catalogs and prunes a quiet bucket.
    await trainer?.stop();
    scheduler.stop();
    const stack = {
      config,
      dynamo: aws.dynamo,
      s3: aws.s3,
      simulator,
      sweeper,
      print,
      apiEndpoint: api.endpoint,
    };
    return await stopCleanly(stack);
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}
