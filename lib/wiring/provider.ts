import { filesProvider } from "../adapters/files/provider.ts";
import {
  SIMSPACEWEAVER,
  SIMSPACEWEAVER_CAPABILITIES,
  simSpaceWeaverNameRefusal,
  SimSpaceWeaverProvider,
} from "../adapters/simspaceweaver/provider.ts";
import { turnedOffSimSpaceWeaver } from "../adapters/simspaceweaver/turned-off.ts";
import {
  directoryOf,
  type ProviderDirectory,
  type SimulationProvider,
} from "../ports/simulation-provider.ts";
import type { FunctionName, ProviderOperation } from "../topology.ts";
import { airProvider } from "./air.ts";
import { capabilitiesOnly } from "./capabilities.ts";
import { deferred, needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

/** The SimSpace Weaver operation behind each method of the port, as `needs.provider` names it. */
export const PROVIDER_OPERATIONS: Record<
  Exclude<
    keyof SimulationProvider,
    | "name"
    | "capabilities"
    | "checkpoints"
    | "stopWithCheckpoint"
    | "simulationNameRefusal"
    | "turnedOff"
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
  // The client (SigV4 signing, the credential chain) is imported on the first call.
  const load = once(async () => {
    const { SimSpaceWeaverClient } = await import("../adapters/simspaceweaver/client.ts");
    return new SimSpaceWeaverProvider(
      new SimSpaceWeaverClient({
        region: settings.AWS_REGION,
        endpoint: settings.SIMSNAP_SIMSPACEWEAVER_ENDPOINT,
      }),
    );
  });
  const calls = Object.fromEntries(
    Object.keys(PROVIDER_OPERATIONS).map((method) => [method, "call"]),
  ) as Record<keyof typeof PROVIDER_OPERATIONS, "call">;
  return {
    name: SIMSPACEWEAVER,
    capabilities: SIMSPACEWEAVER_CAPABILITIES,
    ...deferred<Pick<SimSpaceWeaverProvider, keyof typeof PROVIDER_OPERATIONS>>(load, calls),
  };
});

/**
 * SimSpace Weaver for function `name` (one client per process), with the operations its
 * `needs.provider` declares; the others reject. A function that declares none must not build it.
 * Turned off (`SIMSNAP_SIMSPACEWEAVER_ENABLED=false`), no client is built: every call is refused.
 */
export function simulationProvider(name: FunctionName): SimulationProvider {
  const declared = new Set(needsOf(name).provider);
  if (declared.size === 0) throw undeclared(name, "the simulation provider");
  // Turned off (config providers.simspaceweaver): no client, every call refused by name.
  if (!processSettings().SIMSNAP_SIMSPACEWEAVER_ENABLED) return turnedOffSimSpaceWeaver;
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
 * function declares none of its operations: no client is built; a view that calls nothing when
 * the deployment turns it off, `turnedOffSimSpaceWeaver`), NVIDIA Air when the
 * deployment configures it and the function declares Air operations (`airProvider`), and the
 * files provider, last: it calls nothing (its runs live only in the catalog), so a checkpoint
 * naming it resolves in every function, whether or not this deployment configures sources now.
 */
export function providerDirectory(name: FunctionName): ProviderDirectory {
  const weaverView = !processSettings().SIMSNAP_SIMSPACEWEAVER_ENABLED
    ? turnedOffSimSpaceWeaver
    : needsOf(name).provider.length > 0
      ? simulationProvider(name)
      : capabilitiesOnly(name, SIMSPACEWEAVER, SIMSPACEWEAVER_CAPABILITIES, {
          simulationNameRefusal: simSpaceWeaverNameRefusal,
        });
  const air = airProvider(name);
  return directoryOf(air ? [weaverView, air, filesProvider] : [weaverView, filesProvider]);
}
