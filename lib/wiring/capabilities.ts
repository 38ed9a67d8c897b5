import { AIR, AIR_CAPABILITIES } from "../adapters/air/provider.ts";
import { FILES, FILES_CAPABILITIES } from "../adapters/files/provider.ts";
import {
  SIMSPACEWEAVER,
  SIMSPACEWEAVER_CAPABILITIES,
  simSpaceWeaverNameRefusal,
} from "../adapters/simspaceweaver/provider.ts";
import { turnedOffSimSpaceWeaver } from "../adapters/simspaceweaver/turned-off.ts";
import {
  directoryOf,
  type ProviderCapabilities,
  type ProviderDirectory,
  type SimulationProvider,
} from "../ports/simulation-provider.ts";
import type { FunctionName } from "../topology.ts";
import { restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

/** Every method of the port that calls the platform; a capabilities-only view rejects each. */
const CALLS = {
  listSimulations: false,
  describeSimulation: false,
  createSnapshot: false,
  listTags: false,
  stopSimulation: false,
  deleteSimulation: false,
  startSimulation: false,
} as const satisfies Partial<Record<keyof SimulationProvider, false>>;

/**
 * A provider as a function that may not call it sees it: its name and capabilities (whether a
 * checkpoint it holds is archivable, where its checkpoints live) and its platform's name rule
 * (`simulationNameRefusal`, which calls nothing), every call rejected as undeclared. No client is
 * built and no credential read.
 */
export function capabilitiesOnly(
  name: FunctionName,
  provider: string,
  capabilities: ProviderCapabilities,
  facts: Pick<SimulationProvider, "simulationNameRefusal"> = {},
): SimulationProvider {
  const nothing = {} as SimulationProvider;
  return {
    name: provider,
    capabilities,
    ...facts,
    ...restrict(nothing, CALLS, (method) => undeclared(name, `${provider} ${method}`)),
  };
}

/**
 * Every platform simsnap has an adapter for, by capabilities alone, for a function that decides
 * on a checkpoint's provider without calling it (archive-checkpoint skips what its platform
 * cannot give bytes of): capabilities are facts of the platform, not of the configuration, so a
 * checkpoint record naming a provider is always answered, never dead-lettered.
 */
export const providerCapabilities = (name: FunctionName): ProviderDirectory =>
  directoryOf([
    // Turned off, what the deployment can do with its checkpoints (no restore tests) is less.
    processSettings().SIMSNAP_SIMSPACEWEAVER_ENABLED
      ? capabilitiesOnly(name, SIMSPACEWEAVER, SIMSPACEWEAVER_CAPABILITIES, {
          simulationNameRefusal: simSpaceWeaverNameRefusal,
        })
      : turnedOffSimSpaceWeaver,
    capabilitiesOnly(name, AIR, AIR_CAPABILITIES),
    capabilitiesOnly(name, FILES, FILES_CAPABILITIES),
  ]);
