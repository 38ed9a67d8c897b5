import type { S3Client } from "@aws-sdk/client-s3";
import { snapshotKey } from "../domain/snapshot-key.ts";
import { readSnapshot, writeSnapshot, type SnapshotState } from "./simulator-snapshots.ts";
import { RUNNING, type Sim, type SimulationTable } from "./simulator-state.ts";
import {
  ServiceFault,
  validation,
  type CreateSnapshotRequest,
  type OperationHandlers,
  type StartSimulationRequest,
} from "./simulator-wire.ts";

/** A state-changing call the simulator accepted, with CloudTrail's request parameters. */
export interface SimulatorApiCall {
  eventName: "StopSimulation" | "DeleteSimulation";
  eventTime: Date;
  requestParameters: { simulation: string };
}

const epochSeconds = (date: Date): number => date.getTime() / 1000;

/**
 * The seven operations as the service behaves: what each accepts in which status, which
 * transition it starts and what it answers, in the model's output shapes. Snapshots are written
 * to and read back from the local S3, so the whole snapshot → catalog → restore chain is real.
 */
export class SimulationOperations implements OperationHandlers {
  constructor(
    private readonly table: SimulationTable,
    private readonly options: {
      s3: S3Client;
      onApiCall?: (call: SimulatorApiCall) => void;
    },
  ) {}

  createSnapshot(body: CreateSnapshotRequest): unknown {
    const sim = this.table.mustGet(body.Simulation);
    if (sim.status === "SNAPSHOT_IN_PROGRESS") {
      throw new ServiceFault(
        "ConflictException",
        409,
        `A snapshot of simulation ${sim.name} is already in progress.`,
      );
    }
    if (sim.status !== "STARTED") {
      throw validation(
        `Simulation ${sim.name} is ${sim.status}; a snapshot needs a STARTED simulation.`,
      );
    }
    const requestedAt = new Date();
    const state: SnapshotState = {
      simulation: sim.name,
      executionId: sim.executionId,
      tick: this.table.tickOf(sim),
      takenAt: requestedAt.toISOString(),
    };
    const location = {
      bucket: body.Destination.BucketName,
      key: snapshotKey(body.Destination.ObjectKeyPrefix ?? "", sim.name, requestedAt),
    };
    this.table.changeStatus(sim, "SNAPSHOT_IN_PROGRESS", "STARTED");
    const generation = sim.generation;
    const mode = sim.snapshotModes.shift();
    if (mode?.kind === "stall") return {};
    // The key names the second it was requested, and the service's snapshots take minutes: it
    // never gives one simulation two files of the same second. So this one stays in progress at
    // least until its second is over; a quicker next snapshot would overwrite its key, a file
    // simsnap rightly refuses to bind a second time (its location is the first checkpoint's).
    const untilNextSecond = 1000 - (requestedAt.getTime() % 1000);
    this.table.later(sim, Math.max(this.table.timing.snapshot, untilNextSecond), async () => {
      if (mode?.kind === "fail") {
        this.table.changeStatus(sim, mode.status, "STARTED");
        return;
      }
      try {
        await writeSnapshot(this.options.s3, location, state, requestedAt);
      } finally {
        if (sim.generation === generation) this.table.changeStatus(sim, "STARTED");
      }
    });
    return {};
  }

  describeSimulation(name: string): unknown {
    const sim = this.table.mustGet(name);
    return {
      Name: sim.name,
      Arn: sim.arn,
      Status: sim.status,
      TargetStatus: sim.targetStatus,
      ExecutionId: sim.executionId,
      CreationTime: epochSeconds(sim.creationTime),
      Description: sim.description,
      MaximumDuration: sim.maximumDuration,
      RoleArn: sim.roleArn,
      SchemaS3Location: sim.schema,
      SnapshotS3Location: sim.snapshot,
      StartError: sim.startError,
      LiveSimulationState: {
        Clocks: [
          {
            Status: RUNNING.has(sim.status)
              ? "STARTED"
              : sim.status === "STARTING"
                ? "STARTING"
                : "STOPPED",
            TargetStatus: sim.targetStatus === "STARTED" ? "STARTED" : "STOPPED",
          },
        ],
        Domains: [],
      },
    };
  }

  listSimulations(maxResults: string | null, nextToken: string | null): unknown {
    let limit = 100;
    if (maxResults !== null) {
      limit = Number(maxResults);
      if (!/^\d+$/.test(maxResults) || limit < 1) {
        throw validation(
          `maxResults must be a positive integer, got ${JSON.stringify(maxResults)}.`,
        );
      }
    }
    let after = 0;
    if (nextToken !== null) {
      const decoded = /^seq:(\d+)$/.exec(Buffer.from(nextToken, "base64url").toString("utf8"));
      if (!decoded?.[1]) throw validation("The nextToken is not valid.");
      after = Number(decoded[1]);
    }
    const remaining = this.table
      .all()
      .filter((sim) => sim.seq > after)
      .sort((a, b) => a.seq - b.seq);
    const page = remaining.slice(0, limit);
    const last = page.at(-1);
    return {
      Simulations: page.map((sim) => ({
        Name: sim.name,
        Arn: sim.arn,
        Status: sim.status,
        TargetStatus: sim.targetStatus,
        CreationTime: epochSeconds(sim.creationTime),
      })),
      NextToken:
        remaining.length > limit && last
          ? Buffer.from(`seq:${last.seq}`).toString("base64url")
          : undefined,
    };
  }

  startSimulation(body: StartSimulationRequest): unknown {
    const existing = this.table.get(body.Name);
    if (existing) {
      if (body.ClientToken !== undefined && existing.clientToken === body.ClientToken) {
        return this.startOutput(existing);
      }
      throw validation(`A simulation named ${body.Name} already exists.`);
    }
    const sim = this.table.add(body.Name, {
      roleArn: body.RoleArn,
      description: body.Description,
      maximumDuration: body.MaximumDuration ?? "14D",
    });
    sim.schema = body.SchemaS3Location;
    sim.snapshot = body.SnapshotS3Location;
    sim.tags = { ...body.Tags };
    sim.clientToken = body.ClientToken;
    this.table.changeStatus(sim, "STARTING");
    const generation = sim.generation;
    this.table.later(sim, this.table.timing.start, () => this.finishStart(sim, generation));
    return this.startOutput(sim);
  }

  stopSimulation(name: string): unknown {
    return this.recorded("StopSimulation", name, this.stop(name));
  }

  deleteSimulation(name: string): unknown {
    return this.recorded("DeleteSimulation", name, this.delete(name));
  }

  listTagsForResource(arn: string): unknown {
    const sim = this.table.all().find((s) => s.arn === arn);
    if (!sim) {
      throw new ServiceFault("ResourceNotFoundException", 404, `Resource ${arn} does not exist.`);
    }
    return { Tags: sim.tags };
  }

  /** Tells `onApiCall` of an accepted call, after it succeeded, as CloudTrail would. */
  private recorded(
    eventName: SimulatorApiCall["eventName"],
    simulation: string,
    result: unknown,
  ): unknown {
    this.options.onApiCall?.({
      eventName,
      eventTime: new Date(),
      requestParameters: { simulation },
    });
    return result;
  }

  private startOutput(sim: Sim): unknown {
    return {
      Arn: sim.arn,
      CreationTime: epochSeconds(sim.creationTime),
      ExecutionId: sim.executionId,
    };
  }

  private async finishStart(sim: Sim, generation: number): Promise<void> {
    if (sim.snapshot) {
      const location = sim.snapshot;
      try {
        const state = await readSnapshot(this.options.s3, location);
        if (sim.generation !== generation) return;
        // A restore that loses the clock (`misrestoreNextStart`) starts over at tick 0.
        sim.tickBase = this.table.takeMisrestore() ? 0 : state.tick;
        sim.restoredTick = sim.tickBase;
      } catch (error) {
        if (sim.generation !== generation) return;
        sim.startError = `Could not load snapshot s3://${location.BucketName}/${location.ObjectKey}: ${
          (error as Error).message
        }`;
        this.table.changeStatus(sim, "FAILED", "STARTED");
        return;
      }
    }
    this.table.changeStatus(sim, "STARTED");
  }

  private stop(name: string): unknown {
    const sim = this.table.mustGet(name);
    if (sim.status === "STOPPING" || sim.status === "STOPPED") return {};
    if (sim.status === "DELETING" || sim.status === "DELETED") {
      throw validation(`Simulation ${name} is ${sim.status} and cannot be stopped.`);
    }
    this.table.changeStatus(sim, "STOPPING", "STOPPED");
    this.table.later(sim, this.table.timing.stop, () => this.table.changeStatus(sim, "STOPPED"));
    return {};
  }

  private delete(name: string): unknown {
    const sim = this.table.mustGet(name);
    if (sim.status === "DELETING" || sim.status === "DELETED") return {};
    this.table.changeStatus(sim, "DELETING", "DELETED");
    this.table.later(sim, this.table.timing.stop, () => {
      this.table.changeStatus(sim, "DELETED");
      this.table.later(sim, this.table.timing.stop, () => this.table.remove(sim));
    });
    return {};
  }
}
