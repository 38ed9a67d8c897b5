import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { S3Client } from "@aws-sdk/client-s3";
import { SimSpaceWeaverNameSchema } from "../domain/names.ts";
import type { SimulationStatus } from "../ports/simulation-provider.ts";
import type { FaultRate } from "./faults.ts";
import { SimulatorFaults, type InjectedFault } from "./simulator-faults.ts";
import { SimulationOperations, type SimulatorApiCall } from "./simulator-operations.ts";
import { SimulationTable, type SimulatedSimulation } from "./simulator-state.ts";
import { parse, serveRequest } from "./simulator-wire.ts";

export type { SimulatorApiCall } from "./simulator-operations.ts";

/** How the simulator listens and how long its simulations take to change state. */
export interface SimulatorOptions {
  /** Where snapshot files are written and read back from (the local S3). */
  s3: S3Client;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** STARTING → STARTED. Default 1 s. */
  startDelayMs?: number;
  /** STOPPING → STOPPED, and DELETING → DELETED → gone. Default 1 s. */
  stopDelayMs?: number;
  /**
   * SNAPSHOT_IN_PROGRESS → file written → STARTED. Default 3 s; never before the second the file
   * is named after is over, so two snapshots of one simulation never share a key.
   */
  snapshotDelayMs?: number;
  /** One clock tick. Default 100 ms. */
  tickMs?: number;
  region?: string;
  account?: string;
  /**
   * Told of every successful StopSimulation and DeleteSimulation, as CloudTrail records them, so
   * the local runtime can put the "AWS API Call via CloudTrail" event AWS would deliver.
   */
  onApiCall?: (call: SimulatorApiCall) => void;
  /** Chaos mode from the start; `injectFaults` turns it on (or off) later. */
  faults?: FaultRate;
  /** Told of every fault injected, e.g. to print it. */
  onFault?: (fault: InjectedFault) => void;
}

/** Where the simulator answers with a simulation's clock (`serveClock`). */
export const CLOCK_PATH = "/_local/clock";

/** What a test may set up directly, without going through StartSimulation. */
export interface SimulationSeed {
  status?: SimulationStatus;
  tick?: number;
  description?: string;
  maximumDuration?: string;
  creationTime?: Date;
  tags?: Record<string, string>;
}

/**
 * A SimSpace Weaver look-alike for local mode and integration tests: the seven operations simsnap
 * uses at the model's paths, with the service's rest-json shapes, status codes and error headers,
 * and simulations whose status moves on after realistic delays. Snapshots are real zip files in
 * the local S3, so the whole snapshot → catalog → restore chain runs without AWS. The methods
 * beyond the API (`createSimulation`, `setStatus`, `failNextSnapshot`, `stallNextSnapshot`,
 * `simulation`) let tests stage what the real service does on its own. The protocol
 * (simulator-wire), the operations (simulator-operations), the simulations and their clock
 * (simulator-state), the snapshot files (simulator-snapshots) and chaos mode (simulator-faults)
 * each live in their own module; this class puts them behind one HTTP server.
 */
export class LocalSimulator {
  /** Base URL to give `SimSpaceWeaverClient` as its endpoint. */
  readonly endpoint: string;
  private readonly table: SimulationTable;
  private readonly operations: SimulationOperations;
  private readonly faults: SimulatorFaults;

  private constructor(
    private readonly server: Server,
    private readonly options: SimulatorOptions,
  ) {
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.endpoint = `http://${host}:${address.port}`;
    this.table = new SimulationTable(
      {
        start: options.startDelayMs ?? 1_000,
        stop: options.stopDelayMs ?? 1_000,
        snapshot: options.snapshotDelayMs ?? 3_000,
        tick: Math.max(1, options.tickMs ?? 100),
      },
      (name) => `arn:aws:simspaceweaver:${this.region}:${this.account}:simulation/${name}`,
    );
    this.operations = new SimulationOperations(this.table, {
      s3: options.s3,
      onApiCall: options.onApiCall,
    });
    this.faults = new SimulatorFaults(options.faults, options.onFault);
  }

  /** Starts listening; resolves once `endpoint` is reachable. */
  static async start(options: SimulatorOptions): Promise<LocalSimulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const simulator = new LocalSimulator(server, options);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.startsWith(CLOCK_PATH)) {
        simulator.serveClock(request, response);
        return;
      }
      void serveRequest(request, response, simulator.operations, (name, body) =>
        simulator.faults.inject(name, body),
      );
    });
    return simulator;
  }

  /** Adds a simulation directly (default STARTED, tick 0), as if it had been started earlier. */
  createSimulation(name: string, seed: SimulationSeed = {}): SimulatedSimulation {
    const checked = parse(SimSpaceWeaverNameSchema, name);
    if (this.table.has(checked)) throw new Error(`Simulation ${checked} already exists`);
    const sim = this.table.add(checked, {
      roleArn: `arn:aws:iam::${this.account}:role/simsnap-simulator`,
      description: seed.description,
      maximumDuration: seed.maximumDuration ?? "14D",
      creationTime: seed.creationTime,
    });
    sim.tags = { ...seed.tags };
    sim.tickBase = seed.tick ?? 0;
    this.table.changeStatus(sim, seed.status ?? "STARTED");
    return this.table.view(sim);
  }

  /** What the simulator holds for `name`, tick included; undefined once it is gone. */
  simulation(name: string): SimulatedSimulation | undefined {
    const sim = this.table.get(name);
    return sim && this.table.view(sim);
  }

  /**
   * Forces a status, as the service does on its own (a crash → FAILED, an operator's stop →
   * STOPPED). Pending transitions and an in-flight snapshot of the simulation are abandoned.
   */
  setStatus(name: string, status: SimulationStatus, startError?: string): void {
    const sim = this.table.mustGet(name);
    sim.startError = startError;
    this.table.changeStatus(sim, status);
  }

  /**
   * Makes the next snapshot of `name` end without a file: the simulation returns to STARTED (or
   * becomes FAILED) after the usual delay, as when the service gives up on a snapshot.
   */
  failNextSnapshot(name: string, status: "STARTED" | "FAILED" = "STARTED"): void {
    this.table.mustGet(name).snapshotModes.push({ kind: "fail", status });
  }

  /**
   * Makes the next `count` starts from a snapshot resume at tick 0 rather than at the tick the
   * snapshot recorded, as a restore that loses the simulation's clock would: the simulation starts,
   * and only its clock shows what was lost.
   */
  misrestoreNextStart(count = 1): void {
    this.table.misrestore(count);
  }

  /**
   * `GET /_local/clock?simulation=NAME`: the simulation's clock as its own app would tell it (in
   * SimSpace Weaver, through the app's endpoint; the service API reports no tick). Unsigned, as an
   * app endpoint is. The local restore tests' user check reads it (`lib/local/verify-tick.ts`).
   */
  serveClock(request: IncomingMessage, response: ServerResponse): void {
    const name = new URL(request.url ?? "/", "http://simulator").searchParams.get("simulation");
    const sim = name ? this.simulation(name) : undefined;
    const body = sim
      ? { simulation: sim.name, status: sim.status, tick: sim.tick, restoredTick: sim.restoredTick }
      : { message: `Simulation ${name ?? "(none)"} does not exist.` };
    const text = JSON.stringify(body);
    response.writeHead(sim ? 200 : 404, { "content-type": "application/json" });
    response.end(text);
  }

  /** Makes the next snapshot of `name` stay SNAPSHOT_IN_PROGRESS until `setStatus` moves it on. */
  stallNextSnapshot(name: string): void {
    this.table.mustGet(name).snapshotModes.push({ kind: "stall" });
  }

  /**
   * Chaos mode: from now on a share `rate` of the calls to the API (seeded: the same seed gives the
   * same faults for the same calls) is answered with an error the operation can really return
   * (`INJECTABLE_ERRORS`), in the service's wire shape, before the call has any effect. Undefined
   * or a rate of 0 turns it off. The local runtime turns it on once its demo simulations run, so
   * only simsnap's own calls meet the faults.
   */
  injectFaults(faults: FaultRate | undefined): void {
    this.faults.set(faults);
  }

  /** Stops listening and cancels every pending transition, after in-flight S3 calls settle. */
  async close(): Promise<void> {
    this.table.cancelTimers();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.table.settle();
    this.table.cancelTimers();
  }

  private get region(): string {
    return this.options.region ?? "us-east-1";
  }

  private get account(): string {
    return this.options.account ?? "123456789012";
  }
}

/** Starts the simulator on loopback; the local runtime and the integration tests share it. */
export const startSimulator = (options: SimulatorOptions): Promise<LocalSimulator> =>
  LocalSimulator.start(options);
