import { SimSpaceWeaverClient } from "../../lib/adapters/simspaceweaver/client.ts";
import { SimSpaceWeaverProvider } from "../../lib/adapters/simspaceweaver/provider.ts";
import {
  startSimulator,
  type LocalSimulator,
  type SimulatorOptions,
} from "../../lib/local/simulator.ts";
import { LOCAL_CREDENTIALS } from "./local-aws.ts";

/** The local simulator and the real client and provider pointed at it. */
export interface LocalWeaver {
  simulator: LocalSimulator;
  client: SimSpaceWeaverClient;
  provider: SimSpaceWeaverProvider;
  /** Destroys the client, then closes the simulator (after its in-flight S3 calls settle). */
  close(): Promise<void>;
}

/**
 * Starts the SimSpace Weaver simulator and builds the adapters on it as a function would, so a
 * test meets the service through the same client, signing and error mapping as against AWS.
 */
export async function startLocalWeaver(options: SimulatorOptions): Promise<LocalWeaver> {
  const simulator = await startSimulator(options);
  const client = new SimSpaceWeaverClient({
    region: "us-east-1",
    endpoint: simulator.endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  return {
    simulator,
    client,
    provider: new SimSpaceWeaverProvider(client),
    async close() {
      client.destroy();
      await simulator.close();
    },
  };
}
