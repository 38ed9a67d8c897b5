import { ProviderError } from "../../domain/errors.ts";
import type {
  ProviderCapabilities,
  SimulationDetails,
  SimulationProvider,
  SimulationSummary,
} from "../../ports/simulation-provider.ts";
import {
  SIMSPACEWEAVER,
  SIMSPACEWEAVER_CAPABILITIES,
  simSpaceWeaverNameRefusal,
} from "./provider.ts";

/** Why nothing is asked of SimSpace Weaver here, named in every refusal and answer. */
export const SIMSPACEWEAVER_TURNED_OFF =
  "SimSpace Weaver is turned off in this deployment (config providers.simspaceweaver.enabled; AWS ended the service on 2026-05-20)";

/**
 * What a deployment can still do with SimSpace Weaver's checkpoints when it is off: their files
 * are in S3, so they stay cataloged, prunable and archivable; nothing runs there any more, so
 * nothing is snapshotted, stopped, restored into it or restore-tested (no `restoreTest`).
 */
export const TURNED_OFF_CAPABILITIES: ProviderCapabilities = {
  snapshotWhileRunning: false,
  checkpointOnStop: false,
  checkpointStorage: SIMSPACEWEAVER_CAPABILITIES.checkpointStorage,
  archivable: SIMSPACEWEAVER_CAPABILITIES.archivable,
  restoreInto: { newSimulation: false, sameSimulation: false, prefix: false },
  tags: false,
};

const refuse = (operation: string): Promise<never> =>
  Promise.reject(
    new ProviderError("UnsupportedOperation", `${SIMSPACEWEAVER_TURNED_OFF}: cannot ${operation}`, {
      status: 400,
    }),
  );

/**
 * SimSpace Weaver as a deployment that turned it off holds it: no client, no credentials, no
 * call. Its name still resolves every checkpoint record and job naming it; listing finds no
 * simulation (a schedule selects none, `GET /simulations` shows its old runs from their
 * checkpoints), describing one answers not found (so locating a name passes on to the platforms
 * that are on, and a stop or status check of an old run ends as for a deleted simulation), and
 * every operation on a simulation is `UnsupportedOperation`, naming the switch.
 */
export const turnedOffSimSpaceWeaver: SimulationProvider = {
  name: SIMSPACEWEAVER,
  capabilities: TURNED_OFF_CAPABILITIES,
  turnedOff: SIMSPACEWEAVER_TURNED_OFF,
  simulationNameRefusal: simSpaceWeaverNameRefusal,
  listSimulations: (): Promise<SimulationSummary[]> => Promise.resolve([]),
  describeSimulation: (simulation: string): Promise<SimulationDetails> =>
    Promise.reject(
      new ProviderError(
        "ResourceNotFoundException",
        `${simulation} is not looked up: ${SIMSPACEWEAVER_TURNED_OFF}`,
        { status: 404 },
      ),
    ),
  createSnapshot: () => refuse("take a snapshot"),
  listTags: () => refuse("read tags"),
  stopSimulation: () => refuse("stop a simulation"),
  deleteSimulation: () => refuse("delete a simulation"),
  startSimulation: () => refuse("start a simulation"),
};
