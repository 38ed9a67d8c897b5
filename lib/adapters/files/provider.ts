import { FILES_PROVIDER } from "../../domain/file-discovery.ts";
import { ProviderError } from "../../domain/errors.ts";
import type {
  ProviderCapabilities,
  SimulationDetails,
  SimulationProvider,
  SimulationSummary,
} from "../../ports/simulation-provider.ts";

/** The provider's name in checkpoint records: every checkpoint discovery catalogs carries it. */
export const FILES = FILES_PROVIDER;

/**
 * Checkpoints another tool writes to S3 (a training loop, an HPC code): simsnap never asks for
 * one, so nothing is snapshotted, running or stopping. Each is a set of objects under its key in a
 * configured source (`object-set`) that simsnap can list, copy and delete, so it can be archived;
 * a restore copies the set back under a chosen prefix, where the tool resumes from it, and starts
 * no simulation. Runs carry no tags.
 */
export const FILES_CAPABILITIES: ProviderCapabilities = {
  snapshotWhileRunning: false,
  checkpointOnStop: false,
  checkpointStorage: "object-set",
  archivable: true,
  restoreInto: { newSimulation: false, sameSimulation: false, prefix: true },
  tags: false,
};

const unsupported = (operation: string): Promise<never> =>
  Promise.reject(
    new ProviderError(
      "UnsupportedOperation",
      `The files provider has no platform to ${operation}: its runs exist only as checkpoints another tool writes`,
      { status: 400 },
    ),
  );

/**
 * The `SimulationProvider` port for checkpoints other tools write. A run of a files source is a
 * simulation only in the catalog: there is no platform behind it, so listing finds none (a
 * schedule never snapshots one, `GET /simulations` shows runs from their checkpoints), describing
 * one answers not found (locating a simulation passes on to the platforms), and every operation
 * on a running simulation is `UnsupportedOperation`. It calls nothing, so every function may hold
 * it, which is what lets any checkpoint record naming `files` resolve its provider.
 */
export const filesProvider: SimulationProvider = {
  name: FILES,
  capabilities: FILES_CAPABILITIES,
  listSimulations: (): Promise<SimulationSummary[]> => Promise.resolve([]),
  describeSimulation: (simulation: string): Promise<SimulationDetails> =>
    Promise.reject(
      new ProviderError(
        "ResourceNotFoundException",
        `${simulation} is no running simulation: the files provider has no platform, only checkpoints`,
        { status: 404 },
      ),
    ),
  createSnapshot: () => unsupported("snapshot"),
  listTags: () => unsupported("read tags of"),
  stopSimulation: () => unsupported("stop"),
  deleteSimulation: () => unsupported("delete"),
  startSimulation: () => unsupported("start"),
};
