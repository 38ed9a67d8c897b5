import * as z from "zod";
import type { S3Location } from "../../domain/checkpoint.ts";
import { SimSpaceWeaverNameSchema } from "../../domain/names.ts";
import { parseInput } from "../../domain/validation.ts";
import {
  SIMULATION_STATUSES,
  type ProviderCapabilities,
  type SimulationDetails,
  type SimulationProvider,
  type SimulationStatus,
  type SimulationSummary,
  type SnapshotDestination,
  type StartSimulationInput,
} from "../../ports/simulation-provider.ts";
import type {
  S3Location as WeaverS3Location,
  SimSpaceWeaverClient,
  SimulationMetadata,
} from "./client.ts";

const KNOWN_STATUSES: ReadonlySet<string> = new Set(SIMULATION_STATUSES);

/** A status this code does not know yet reads as `UNKNOWN` rather than breaking a decision. */
const toStatus = (value: string | undefined): SimulationStatus =>
  value !== undefined && KNOWN_STATUSES.has(value) ? (value as SimulationStatus) : "UNKNOWN";

const toS3Location = (location: S3Location): WeaverS3Location => ({
  BucketName: location.bucket,
  ObjectKey: location.key,
});

const DestinationSchema = z.object({ bucket: z.string().min(1), prefix: z.string() });

/** A name checked against SimSpace Weaver's rule, or a `ValidationError` naming it. */
const name = (value: string): string =>
  parseInput(SimSpaceWeaverNameSchema, value, "SimSpace Weaver simulation name");

function toSummary(simulation: SimulationMetadata, fallbackName?: string): SimulationSummary {
  const summary: SimulationSummary = {
    name: simulation.Name ?? fallbackName ?? "",
    status: toStatus(simulation.Status),
  };
  if (simulation.TargetStatus !== undefined)
    summary.targetStatus = toStatus(simulation.TargetStatus);
  if (simulation.Arn !== undefined) summary.arn = simulation.Arn;
  if (simulation.CreationTime !== undefined) summary.creationTime = simulation.CreationTime;
  return summary;
}

/**
 * The provider's name in checkpoint records, for a function that records it without calling
 * SimSpace Weaver (and so without bundling its client).
 */
export const SIMSPACEWEAVER = "simspaceweaver";

/**
 * Why SimSpace Weaver could not have a simulation named so (`SimSpaceWeaverNameSchema`), or
 * undefined: the port's `simulationNameRefusal`, a fact of the platform needing no client, so
 * the wiring gives it to every view of the provider, restricted ones included.
 */
export function simSpaceWeaverNameRefusal(simulation: string): string | undefined {
  const result = SimSpaceWeaverNameSchema.safeParse(simulation);
  if (result.success) return undefined;
  const rules = [...new Set(result.error.issues.map((issue) => issue.message))].join("; ");
  return `SimSpace Weaver simulation names ${rules}`;
}

/**
 * SimSpace Weaver snapshots a running simulation into S3 (CreateSnapshot), where simsnap owns the
 * files; it restores only into a new simulation (StartSimulation with SnapshotS3Location) and
 * tags simulations with AWS tags. Stopping never saves anything by itself.
 */
export const SIMSPACEWEAVER_CAPABILITIES: ProviderCapabilities = {
  snapshotWhileRunning: true,
  checkpointOnStop: false,
  checkpointStorage: "s3",
  archivable: true,
  restoreInto: { newSimulation: true, sameSimulation: false, prefix: false },
  tags: true,
  // DescribeSimulation names the snapshot a simulation started from (SnapshotS3Location) and no
  // clock tick: the model (2022-10-28) reports clocks only as STARTED/STOPPED.
  restoreTest: { evidence: "snapshot-location" },
};

/**
 * The `SimulationProvider` port on AWS SimSpace Weaver. Names are checked against the service's
 * own rule (`SimSpaceWeaverNameSchema`, stricter than simsnap's) before any call, so a name it
 * cannot hold is a clear `ValidationError` here rather than a 400 from the service; everything the
 * service refuses surfaces as the client's `SimSpaceWeaverServiceError`.
 */
export class SimSpaceWeaverProvider implements SimulationProvider {
  readonly name = SIMSPACEWEAVER;
  readonly capabilities = SIMSPACEWEAVER_CAPABILITIES;

  constructor(private readonly client: SimSpaceWeaverClient) {}

  simulationNameRefusal(simulation: string): string | undefined {
    return simSpaceWeaverNameRefusal(simulation);
  }

  async listSimulations(): Promise<SimulationSummary[]> {
    const simulations: SimulationSummary[] = [];
    for await (const page of this.client.paginateSimulations()) {
      for (const simulation of page.Simulations ?? []) simulations.push(toSummary(simulation));
    }
    return simulations;
  }

  async describeSimulation(simulation: string): Promise<SimulationDetails> {
    const output = await this.client.describeSimulation({ Simulation: name(simulation) });
    const details: SimulationDetails = toSummary(output, simulation);
    if (output.ExecutionId !== undefined) details.executionId = output.ExecutionId;
    if (output.MaximumDuration !== undefined) details.maximumDuration = output.MaximumDuration;
    if (output.SnapshotS3Location?.BucketName && output.SnapshotS3Location.ObjectKey) {
      details.startedFrom = {
        bucket: output.SnapshotS3Location.BucketName,
        key: output.SnapshotS3Location.ObjectKey,
      };
    }
    const startError = output.StartError ?? output.SchemaError;
    if (startError !== undefined && startError !== "") details.startError = startError;
    return details;
  }

  async createSnapshot(simulation: string, destination: SnapshotDestination): Promise<void> {
    const checkedName = name(simulation);
    const { bucket, prefix } = parseInput(DestinationSchema, destination, "snapshot destination");
    await this.client.createSnapshot({
      Simulation: checkedName,
      Destination:
        prefix === "" ? { BucketName: bucket } : { BucketName: bucket, ObjectKeyPrefix: prefix },
    });
  }

  async listTags(arn: string): Promise<Record<string, string>> {
    return (await this.client.listTagsForResource({ ResourceArn: arn })).Tags ?? {};
  }

  async stopSimulation(simulation: string): Promise<void> {
    await this.client.stopSimulation({ Simulation: name(simulation) });
  }

  async deleteSimulation(simulation: string): Promise<void> {
    await this.client.deleteSimulation({ Simulation: name(simulation) });
  }

  async startSimulation(
    input: StartSimulationInput,
  ): Promise<{ arn?: string; executionId?: string }> {
    const output = await this.client.startSimulation({
      Name: name(input.name),
      RoleArn: input.roleArn,
      SchemaS3Location: input.schema && toS3Location(input.schema),
      SnapshotS3Location: input.snapshot && toS3Location(input.snapshot),
      MaximumDuration: input.maximumDuration,
      Description: input.description,
      ClientToken: input.clientToken,
      Tags: input.tags,
    });
    const result: { arn?: string; executionId?: string } = {};
    if (output.Arn !== undefined) result.arn = output.Arn;
    if (output.ExecutionId !== undefined) result.executionId = output.ExecutionId;
    return result;
  }
}
