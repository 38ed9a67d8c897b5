import { randomUUID } from "node:crypto";
import { AirClient } from "../adapters/air/client.ts";
import { SimsnapClient } from "../../packages/client/src/client.ts";
import type { Checkpoint, Job } from "../../packages/client/src/types.ts";
import { AIR_SCOPES } from "./air/model.ts";
import { startAirServer, type AirRequestRecord, type AirServer } from "./air/server.ts";
import { airDemoLine, airRequestLine } from "./console-lines.ts";
import type { LocalStackConfig } from "./demo-config.ts";

/** The local NVIDIA Air server as a local run holds it, with the token it accepts. */
export interface LocalAirServer {
  server: AirServer;
  /** The only token the server accepts, with every scope; put in `tokenEnv` for the functions. */
  token: string;
  tokenEnv: string;
}

const DAY_MS = 86_400_000;

/**
 * Starts the local NVIDIA Air server with the config file's Air demo simulations, each ACTIVE
 * and holding two checkpoints of earlier runs (a week old), as an Air simulation someone has
 * used for a while would: the first sync catalogs them as discovered, and retention has older
 * checkpoints to remove (to the trash; Air's DELETE comes with the purge) once simsnap captures
 * newer ones. The token is new for every run and accepted with every scope the API reference
 * names. Requests that change something are printed as they reach the server.
 */
export async function startLocalAir(
  config: LocalStackConfig,
  tokenEnv: string,
  print: (line: string) => void,
  onRequest?: (record: AirRequestRecord) => void,
): Promise<LocalAirServer> {
  const token = `local-air-${randomUUID()}`;
  const now = Date.now();
  const server = await startAirServer({
    tokens: { [token]: [...AIR_SCOPES] },
    delays: config.airStateDelayMs,
    simulations: config.airSimulations.map((name) => ({
      name,
      state: "ACTIVE",
      checkpoints: [8, 7].map((days) => ({
        name: `nightly ${new Date(now - days * DAY_MS).toISOString().slice(0, 10)}`,
        created: new Date(now - days * DAY_MS),
      })),
    })),
    onRequest: (record) => {
      onRequest?.(record);
      const line = airRequestLine(record);
      if (line) print(line);
    },
  });
  return { server, token, tokenEnv };
}

/** What the Air demo drives: the stack's API, the Air server behind it, where to print. */
export interface AirDemoOptions {
  apiEndpoint: string;
  simulation: string;
  air: LocalAirServer;
  print: (line: string) => void;
  /** Aborted when the run ends: the demo stops where it is. */
  signal: AbortSignal;
}

const WAIT = { timeoutMs: 30_000, intervalMs: 250 };

/**
 * The NVIDIA Air half of the demo, every step through simsnap's own HTTP API as a person would
 * take it (never the Air server directly): stop the simulation with a checkpoint (Air's shutdown
 * with `create_checkpoint`, tracked as a stop job until the checkpoint is COMPLETE in the
 * catalog), mark that checkpoint favorite (PATCHed to Air, read back from Air to show it took),
 * restore it by starting the same simulation from it, and stop once more, whose completion lets
 * retention move the older checkpoints to the trash while the favorite stays. Resolves
 * when done, or quietly once `signal` aborts.
 */
export async function runAirDemo(options: AirDemoOptions): Promise<void> {
  const { simulation, print, signal } = options;
  const api = new SimsnapClient({ endpoint: options.apiEndpoint });
  const air = new AirClient({
    endpoint: options.air.server.baseUrl,
    token: () => options.air.token,
  });
  const wait = (job: Job) => api.jobs.wait(job.id, { ...WAIT, signal });
  try {
    const first = await captureAtShutdown(api, simulation, print, wait);
    if (!first) return;
    await api.checkpoints.update(first.id, { favorite: true });
    const seen = await air.getCheckpoint(first.platformId ?? "");
    print(
      airDemoLine(
        `★ marked checkpoint ${first.platformId?.slice(0, 8)} favorite through the API; NVIDIA Air now says favorite=${seen.favorite} (retention keeps it)`,
      ),
    );
    const restore = await api.checkpoints.restore(first.id, { simulationName: simulation });
    print(
      airDemoLine(
        `↺ restore ${simulation} from ${first.platformId?.slice(0, 8)} (same simulation)`,
      ),
    );
    const restored = await wait(restore);
    print(
      airDemoLine(
        restored.status === "SUCCEEDED"
          ? `↺ ${simulation} started again from checkpoint ${first.platformId?.slice(0, 8)}: restored`
          : `↺ restore of ${simulation} is ${restored.status}: ${restored.error?.message ?? ""}`,
      ),
    );
    if (restored.status !== "SUCCEEDED") return;
    await captureAtShutdown(api, simulation, print, wait);
  } catch (error) {
    if (signal.aborted) return;
    print(airDemoLine(`stopped: ${(error as Error).message}`));
  }
}

/** Stops the simulation with a checkpoint through the API; the cataloged checkpoint, once COMPLETE. */
async function captureAtShutdown(
  api: SimsnapClient,
  simulation: string,
  print: (line: string) => void,
  wait: (job: Job) => Promise<Job>,
): Promise<Checkpoint | undefined> {
  const stop = await api.simulations.stop(simulation, {
    snapshot: true,
    reason: "air demo: checkpoint at shutdown",
  });
  print(
    airDemoLine(`■ stop ${simulation} with a checkpoint (NVIDIA Air saves it while shutting down)`),
  );
  const done = await wait(stop);
  const checkpoint = done.checkpointId ? await api.checkpoints.get(done.checkpointId) : undefined;
  if (done.status !== "SUCCEEDED" || checkpoint?.state !== "COMPLETE") {
    print(airDemoLine(`■ stop of ${simulation} is ${done.status}: ${done.error?.message ?? ""}`));
    return undefined;
  }
  print(
    airDemoLine(
      `✓ captured at shutdown: ${checkpoint.provider} checkpoint ${checkpoint.platformId?.slice(0, 8)} "${checkpoint.name ?? ""}" is ${checkpoint.state} in the catalog (provider ${checkpoint.provider})`,
    ),
  );
  return checkpoint;
}
