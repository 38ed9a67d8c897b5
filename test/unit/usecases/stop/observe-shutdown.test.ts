import { describe, expect, it } from "vitest";
import { SimulationApiCallEventSchema } from "../../../../lib/domain/messages.ts";
import {
  observeShutdown,
  shutdownFromApiCall,
} from "../../../../lib/usecases/stop/observe-shutdown.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import deleteSimulation from "../../../events/cloudtrail/delete-simulation.json" with { type: "json" };
import stopSimulation from "../../../events/cloudtrail/stop-simulation.json" with { type: "json" };
import { request, snapshotWorld } from "../../../support/snapshot-world.ts";

/** The sample CloudTrail event (StopSimulation of traffic-sim at 11:02:07Z), as the function reads it. */
const stopped = shutdownFromApiCall(SimulationApiCallEventSchema.parse(stopSimulation));

describe("observeShutdown", () => {
  it("reads the simulation, the call, its time and its caller from CloudTrail's event", () => {
    expect(stopped).toEqual({
      simulation: "traffic-sim",
      call: "StopSimulation",
      at: "2026-11-23T11:02:07Z",
      by: "arn:aws:sts::123456789012:assumed-role/SimulationOperator/operator",
    });
    expect(shutdownFromApiCall(SimulationApiCallEventSchema.parse(deleteSimulation)).call).toBe(
      "DeleteSimulation",
    );
  });

  it("fails the pending snapshot job of an externally stopped simulation, naming the call", async () => {
    const world = snapshotWorld({ "traffic-sim": "STARTED" });
    world.clock.set("2026-11-23T11:00:00Z");
    const { jobId, checkpointId } = await takeSnapshot(request("traffic-sim"), world);

    const result = await observeShutdown(stopped, world);

    expect(result).toEqual({ failed: [jobId] });
    const message =
      "Simulation traffic-sim was stopped (StopSimulation at 2026-11-23T11:02:07Z by " +
      "arn:aws:sts::123456789012:assumed-role/SimulationOperator/operator); its snapshot cannot complete";
    expect(await world.jobs.get(jobId)).toMatchObject({
      status: "FAILED",
      error: { code: "SimulationEnded", message },
    });
    expect(await world.checkpoints.get(checkpointId)).toMatchObject({
      state: "FAILED",
      error: { code: "SimulationEnded", message },
    });
    expect(world.events.events.map((e) => e.detailType)).toEqual([
      "Snapshot Requested",
      "Checkpoint Failed",
    ]);
  });

  it("counts a job started within the second CloudTrail names as started before the call", async () => {
    const world = snapshotWorld({ "traffic-sim": "STARTED" });
    world.clock.set("2026-11-23T11:02:07.400Z");
    const { jobId } = await takeSnapshot(request("traffic-sim"), world);

    expect(await observeShutdown(stopped, world)).toEqual({ failed: [jobId] });
  });

  it("leaves alone a job started after the call (a new simulation of the same name)", async () => {
    const world = snapshotWorld({ "traffic-sim": "STARTED" });
    world.clock.set("2026-11-23T11:05:00Z");
    const { jobId } = await takeSnapshot(request("traffic-sim"), world);

    expect(await observeShutdown(stopped, world)).toEqual({ failed: [] });
    expect(await world.jobs.get(jobId)).toMatchObject({ status: "RUNNING" });
  });

  it("changes nothing when the same CloudTrail event arrives twice", async () => {
    const world = snapshotWorld({ "traffic-sim": "STARTED" });
    world.clock.set("2026-11-23T11:00:00Z");
    const { jobId, checkpointId } = await takeSnapshot(request("traffic-sim"), world);
    await observeShutdown(stopped, world);
    const job = await world.jobs.get(jobId);
    const checkpoint = await world.checkpoints.get(checkpointId);
    const events = world.events.events.length;

    expect(await observeShutdown(stopped, world)).toEqual({ failed: [] });
    expect(await world.jobs.get(jobId)).toEqual(job);
    expect(await world.checkpoints.get(checkpointId)).toEqual(checkpoint);
    expect(world.events.events).toHaveLength(events);
  });

  it("refuses a CloudTrail event without the simulation's name, naming the field", () => {
    const broken = {
      ...stopSimulation,
      detail: { ...stopSimulation.detail, requestParameters: { name: "traffic-sim" } },
    };
    expect(() => SimulationApiCallEventSchema.parse(broken)).toThrow(/requestParameters/);
  });
});
