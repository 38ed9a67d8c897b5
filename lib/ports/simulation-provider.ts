import type { S3Location } from "../domain/checkpoint.ts";

/** Simulation statuses as SimSpace Weaver reports them. */
export const SIMULATION_STATUSES = [
  "UNKNOWN",
  "STARTING",
  "STARTED",
  "STOPPING",
  "STOPPED",
  "FAILED",
  "DELETING",
  "DELETED",
  "SNAPSHOT_IN_PROGRESS",
] as const;
/** One of the provider's simulation statuses. */
export type SimulationStatus = (typeof SIMULATION_STATUSES)[number];

/** What a listing says about one simulation. */
export interface SimulationSummary {
  name: string;
  status: SimulationStatus;
  targetStatus?: SimulationStatus;
  arn?: string;
  creationTime?: Date;
}

/** What a describe says; `executionId` identifies the current run. */
export interface SimulationDetails extends SimulationSummary {
  executionId?: string;
  maximumDuration?: string;
  startError?: string;
}

/** Where a snapshot is written: the provider appends `snapshot/<name>-<time>.zip`. */
export interface SnapshotDestination {
  bucket: string;
  prefix: string;
}

/** What starting a simulation needs; `snapshot` restores from a snapshot file. */
export interface StartSimulationInput {
  name: string;
  roleArn: string;
  schema?: S3Location;
  snapshot?: S3Location;
  maximumDuration?: string;
  description?: string;
  clientToken?: string;
  tags?: Record<string, string>;
}

/**
 * The simulation service as simsnap needs it. Every failure is a `ProviderError` carrying the
 * service's code and message, so use cases decide on codes (`ConflictException`, …), never on
 * transport details.
 */
export interface SimulationProvider {
  /** Identifies the provider in checkpoint records. */
  readonly name: string;
  listSimulations(): Promise<SimulationSummary[]>;
  describeSimulation(name: string): Promise<SimulationDetails>;
  createSnapshot(name: string, destination: SnapshotDestination): Promise<void>;
  /** The simulation's AWS tags, by its ARN (listings carry it); schedule selectors match on them. */
  listTags(arn: string): Promise<Record<string, string>>;
  stopSimulation(name: string): Promise<void>;
  deleteSimulation(name: string): Promise<void>;
  startSimulation(input: StartSimulationInput): Promise<{ arn?: string; executionId?: string }>;
}
