import { describe, expect, it } from "vitest";
import type { Job } from "../../../../lib/domain/job.ts";
import { sweepDecision } from "../../../../lib/domain/job-sweep.ts";
import type { SnapshotRequest } from "../../../../lib/domain/messages.ts";
import type { JobStore } from "../../../../lib/ports/catalog.ts";
import {
  directoryOf,
  type ProviderCapabilities,
} from "../../../../lib/ports/simulation-provider.ts";
import { requestStop, stopJobId } from "../../../../lib/usecases/stop/request-stop.ts";
import { FakeProvider } from "../../../support/fake-provider.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { snapshotWorld } from "../../../support/snapshot-world.ts";

/** A platform of which no checkpoint of a running simulation can be taken, nor one at a stop. */
class NoCheckpointProvider extends FakeProvider {
  override readonly capabilities: ProviderCapabilities = {
    ...new FakeProvider().capabilities,
    snapshotWhileRunning: false,
    checkpointOnStop: false,
  };
}

function world() {
  const base = snapshotWorld();
  const provider = new NoCheckpointProvider({ "sim-a": "STARTED" });
  return {
    ...base,
    provider,
    providers: directoryOf([provider]),
    requests: new MemoryQueue<SnapshotRequest>(),
  };
}
type World = ReturnType<typeof world>;

/**
 * The job store as a process sees it that dies right after its first write: the stop job is
 * created (the conditional put went through), then the process is gone before anything else.
 */
function diesAfterCreate(jobs: JobStore): JobStore {
  return new Proxy(jobs, {
    get(target, property, receiver) {
      if (property !== "create") return Reflect.get(target, property, receiver);
      return async (job: Job) => {
        await target.create(job);
        throw new Error("the process died after creating the stop job");
      };
    },
  });
}

const stop = { requestId: "req-1", simulation: "sim-a", snapshot: true, force: false };

/** The first delivery, which records the job and dies before anything else. */
async function crashAfterCreate(w: World, request = stop): Promise<Job> {
  await expect(requestStop(request, { ...w, jobs: diesAfterCreate(w.jobs) })).rejects.toThrow(
    /process died/,
  );
  const job = await w.jobs.get(stopJobId(request.requestId));
  if (!job) throw new Error("the first write did not happen");
  return job;
}

const stopFailed = (w: World) =>
  w.events.events.filter((e) => e.detailType === "Simulation Stop Failed");

describe("a stop refused at once, when the process dies between recording it and failing it", () => {
  it("records the refusal with the job, in its one write", async () => {
    const w = world();
    const job = await crashAfterCreate(w);

    expect(job).toMatchObject({
      status: "RUNNING",
      stop: { refusal: { code: "CheckpointUnsupported" } },
    });
    expect(w.provider.stopCalls).toEqual([]);
  });

  it("is failed by the redelivery, which does not stop the simulation", async () => {
    const w = world();
    await crashAfterCreate(w);

    const redelivered = await requestStop(stop, w);

    expect(redelivered).toMatchObject({ outcome: "duplicate", status: "FAILED" });
    expect(w.provider.stopCalls).toEqual([]);
    expect(w.provider.statuses.get("sim-a")).toBe("STARTED");
    expect(await w.jobs.get(stopJobId("req-1"))).toMatchObject({
      status: "FAILED",
      error: {
        code: "CheckpointUnsupported",
        message: expect.stringContaining("so it was not stopped"),
      },
    });
    expect(stopFailed(w)).toHaveLength(1);
    // A further redelivery finds it finished: nothing is stopped or published again.
    await requestStop(stop, w);
    expect(w.provider.stopCalls).toEqual([]);
    expect(stopFailed(w)).toHaveLength(1);
  });

  it("is failed by the sweeper when no redelivery comes, as refused, not as a stop", async () => {
    const w = world();
    const job = await crashAfterCreate(w);
    const grace = {
      statusCheck: 900,
      snapshotRequest: 900,
      restoreStep: 900,
      finalSnapshot: 900,
      verificationStep: 900,
    };

    expect(sweepDecision(job, { now: w.clock.now(), deadline: job.deadline ?? "", grace })).toEqual(
      { action: "fail", error: job.stop?.refusal },
    );
  });

  it("blocks no other request: a forced stop of the simulation ends the refused job and stops", async () => {
    const w = world();
    await crashAfterCreate(w);

    const forced = await requestStop({ ...stop, requestId: "req-2", force: true }, w);

    expect(forced).toMatchObject({ outcome: "stopped", status: "SUCCEEDED" });
    expect(await w.jobs.get(stopJobId("req-1"))).toMatchObject({
      status: "FAILED",
      error: { code: "CheckpointUnsupported" },
    });
    expect(w.provider.stopCalls).toEqual(["sim-a"]);
  });

  it("does the same for a cycle its platform cannot do", async () => {
    const w = world();
    const cycle = { ...stop, requestId: "cycle-1", then: "restart" as const };
    await crashAfterCreate(w, cycle);

    await requestStop(cycle, w);

    expect(w.provider.stopCalls).toEqual([]);
    expect(await w.jobs.get(stopJobId("cycle-1"))).toMatchObject({
      status: "FAILED",
      error: { code: "CycleUnsupported" },
    });
  });
});
