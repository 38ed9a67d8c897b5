import { ConflictError, ProviderError } from "../../domain/errors.ts";
import type { Job } from "../../domain/job.ts";
import type {
  ProviderDirectory,
  SimulationDetails,
  SimulationProvider,
} from "../../ports/simulation-provider.ts";

/** A simulation and the provider it belongs to. */
export interface LocatedSimulation {
  provider: SimulationProvider;
  details: SimulationDetails;
}

const isNotFound = (error: unknown): boolean =>
  error instanceof ProviderError && error.code === "ResourceNotFoundException";

/**
 * The provider a simulation belongs to, asked of every configured one (a describe each, which the
 * caller needs anyway for the status): simsnap names simulations, and a request names only the
 * simulation. Undefined when no provider knows it. Two providers knowing the same name would make
 * every later step a guess, so that is refused; so is any provider's failure to answer, since the
 * one that failed may be the one holding the simulation. A provider whose platform cannot have a
 * simulation of that name (`simulationNameRefusal`) is not asked: it does not hold it, and its
 * refusal of the name must not hide the platform that does (an Air "My First Simulation" beside
 * SimSpace Weaver).
 */
export async function locateSimulation(
  simulation: string,
  providers: Pick<ProviderDirectory, "all">,
): Promise<LocatedSimulation | undefined> {
  const found: LocatedSimulation[] = [];
  for (const provider of providers.all()) {
    if (provider.simulationNameRefusal?.(simulation) !== undefined) continue;
    try {
      found.push({ provider, details: await provider.describeSimulation(simulation) });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  if (found.length > 1) {
    throw new ConflictError(
      `Simulation ${simulation} exists on several platforms (${found
        .map((f) => f.provider.name)
        .join(", ")}); simsnap identifies simulations by name, so rename it on all but one`,
    );
  }
  return found[0];
}

/**
 * The provider of a job's simulation: the one the job recorded when it started, or (older
 * records) the one that knows the simulation now; undefined when none does.
 */
export async function providerOfJob(
  job: Pick<Job, "provider" | "simulation">,
  providers: ProviderDirectory,
): Promise<SimulationProvider | undefined> {
  if (job.provider) return providers.byName(job.provider);
  return (await locateSimulation(job.simulation, providers))?.provider;
}
