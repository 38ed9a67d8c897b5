import { filesProvider } from "../adapters/files/provider.ts";
import { SimSpaceWeaverClient } from "../adapters/simspaceweaver/client.ts";
import {
  SIMSPACEWEAVER,
  SIMSPACEWEAVER_CAPABILITIES,
  simSpaceWeaverNameRefusal,
  SimSpaceWeaverProvider,
} from "../adapters/simspaceweaver/provider.ts";
import {
  directoryOf,
  type ProviderDirectory,
  type SimulationProvider,
} from "../ports/simulation-provider.ts";
import type { FunctionName, ProviderOperation } from "../topology.ts";
import { airProvider } from "./air.ts";
import { capabilitiesOnly } from "./capabilities.ts";
import { needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

/** The SimSpace Weaver operation behind each method of the port, as `needs.provider` names it. */
export const PROVIDER_OPERATIONS: Record<
  Exclude<
    keyof SimulationProvider,
    "name" | "capabilities" | "checkpoints" | "stopWithCheckpoint" | "simulationNameRefusal"
  >,
  ProviderOperation
> = {
  listSimulations: "ListSimulations",
  describeSimulation: "DescribeSimulation",
  listTags: "ListTagsForResource",
  createSnapshot: "CreateSnapshot",
  stopSimulation: "StopSimulation",
  startSimulation: "StartSimulation",
  deleteSimulation: "DeleteSimulation",
};

const weaver = once(() => {
  const settings = processSettings();
  return new SimSpaceWeaverProvider(
    new SimSpaceWeaverClient({
      region: settings.AWS_REGION,
      endpoint: settings.SIMSNAP_SIMSPACEWEAVER_ENDPOINT,
    }),
  );
});

/**
 * SimSpace Weaver for function `name` (one client per process), with the operations its
 * `needs.provider` declares; the others reject. A function that declares none must not build it.
 */
export function simulationProvider(name: FunctionName): SimulationProvider {
  const declared = new Set(needsOf(name).provider);
  if (declared.size === 0) throw undeclared(name, "the simulation provider");
  const provider = weaver();
  const allowed = Object.fromEntries(
    Object.entries(PROVIDER_OPERATIONS).map(([method, operation]) => [
      method,
      declared.has(operation),
    ]),
  ) as Record<keyof typeof PROVIDER_OPERATIONS, boolean>;
  return {
    name: provider.name,
    capabilities: provider.capabilities,
    // A name check calls nothing, so every function has it, whatever operations it declares.
    simulationNameRefusal: simSpaceWeaverNameRefusal,
    ...restrict(provider, allowed, (method) =>
      undeclared(name, `SimSpace Weaver ${PROVIDER_OPERATIONS[method]}`),
    ),
  };
}

/**
 * The providers function `name` reaches, for use cases that serve several platforms: SimSpace
 * Weaver, restricted as `simulationProvider` restricts it (its capabilities alone when the
 * function declares none of its operations: no client is built), NVIDIA Air when the
 * deployment configures it and the function declares Air operations (`airProvider`), and the
 * files provider, last: it calls nothing (its runs live only in the catalog), so a checkpoint
 * naming it resolves in every function, whether or not this deployment configures sources now.
 */
export function providerDirectory(name: FunctionName): ProviderDirectory {
  const weaverView =
    needsOf(name).provider.length > 0
      ? simulationProvider(name)
      : capabilitiesOnly(name, SIMSPACEWEAVER, SIMSPACEWEAVER_CAPABILITIES, {
          simulationNameRefusal: simSpaceWeaverNameRefusal,
        });
  const air = airProvider(name);
  return directoryOf(air ? [weaverView, air, filesProvider] : [weaverView, filesProvider]);
}
