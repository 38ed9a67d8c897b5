import { AirClient } from "../adapters/air/client.ts";
import { AirProvider } from "../adapters/air/provider.ts";
import { envToken, secretsManagerToken } from "../adapters/air/token.ts";
import type { PlatformCheckpoints, SimulationProvider } from "../ports/simulation-provider.ts";
import { callsAir, type Settings } from "../settings.ts";
import type { AirOperation, FunctionName } from "../topology.ts";
import { needsOf, restrict, undeclared } from "./declared.ts";
import { settingsFor } from "./settings.ts";

/** The Air operation behind each method of the port, as `needs.air` names it. */
export const AIR_PROVIDER_OPERATIONS = {
  listSimulations: "listSimulations",
  describeSimulation: "describeSimulation",
  stopSimulation: "stopSimulation",
  startSimulation: "startSimulation",
  stopWithCheckpoint: "stopWithCheckpoint",
  deleteSimulation: "deleteSimulation",
} as const satisfies Partial<Record<keyof SimulationProvider, AirOperation>>;

/** The Air operation behind each method of its platform checkpoint API. */
export const AIR_CHECKPOINT_OPERATIONS = {
  list: "checkpoints.list",
  get: "checkpoints.get",
  update: "checkpoints.update",
  delete: "checkpoints.delete",
  restore: "checkpoints.restore",
} as const satisfies Record<keyof PlatformCheckpoints, AirOperation>;

/** Port methods that NVIDIA Air does not have: they fail in the adapter, never reached here. */
const UNSUPPORTED = ["createSnapshot", "listTags"] as const;

/** Where the token comes from, named in the client's 401 and 403 messages. */
const tokenSourceOf = (settings: Settings): string =>
  settings.SIMSNAP_AIR_TOKEN_SECRET !== undefined
    ? `the Secrets Manager secret ${settings.SIMSNAP_AIR_TOKEN_SECRET}`
    : `the ${settings.SIMSNAP_AIR_TOKEN_ENV ?? "(unset)"} environment variable`;

/** One Air client per process, built on the first function's call that declares Air. */
let built: AirProvider | undefined;

function airAdapter(settings: Settings): AirProvider {
  if (built) return built;
  const endpoint = settings.SIMSNAP_AIR_ENDPOINT as string;
  const secret = settings.SIMSNAP_AIR_TOKEN_SECRET;
  const token =
    secret !== undefined
      ? secretsManagerToken(secret)
      : envToken(settings.SIMSNAP_AIR_TOKEN_ENV as string);
  built = new AirProvider(new AirClient({ endpoint, token, tokenSource: tokenSourceOf(settings) }));
  return built;
}

/**
 * NVIDIA Air for function `name`, with the operations its `needs.air` declares (the others
 * reject, as a missing grant would), or undefined when the function declares none or the
 * deployment configures no Air (`SIMSNAP_AIR_ENDPOINT` unset). The token is read at the first
 * call, not here, so a function that never reaches an Air simulation never reads it.
 */
export function airProvider(name: FunctionName): SimulationProvider | undefined {
  const needs = needsOf(name);
  if (!callsAir(needs)) return undefined;
  const settings = settingsFor(name);
  if (settings.SIMSNAP_AIR_ENDPOINT === undefined) return undefined;
  const declared = new Set<AirOperation>(needs.air);
  const provider = airAdapter(settings);
  const refuse = (operation: string) => undeclared(name, `NVIDIA Air ${operation}`);
  const methods = Object.fromEntries(
    Object.entries(AIR_PROVIDER_OPERATIONS).map(([method, op]) => [method, declared.has(op)]),
  ) as Record<keyof typeof AIR_PROVIDER_OPERATIONS, boolean>;
  const checkpointMethods = Object.fromEntries(
    Object.entries(AIR_CHECKPOINT_OPERATIONS).map(([method, op]) => [method, declared.has(op)]),
  ) as Record<keyof PlatformCheckpoints, boolean>;
  const unsupported = Object.fromEntries(UNSUPPORTED.map((method) => [method, true])) as Record<
    (typeof UNSUPPORTED)[number],
    boolean
  >;
  return {
    name: provider.name,
    capabilities: provider.capabilities,
    checkpoints: restrict(provider.checkpoints, checkpointMethods, (method) =>
      refuse(AIR_CHECKPOINT_OPERATIONS[method]),
    ),
    ...restrict(provider, methods, (method) => refuse(AIR_PROVIDER_OPERATIONS[method])),
    // Each answers Air's own UnsupportedOperation, whatever the function declares.
    ...restrict(provider, unsupported, () => refuse("(unsupported)")),
  };
}
