import { describe, expect, it } from "vitest";
import type { SnapshotRequest } from "../../../lib/domain/messages.ts";
import { planSnapshots } from "../../../lib/usecases/plan-snapshots.ts";
import { takeSnapshot } from "../../../lib/usecases/take-snapshot.ts";
import { MemoryQueue } from "../../support/memory.ts";
import { snapshotWorld } from "./snapshot-world.ts";

const tick = { schedule: "hourly", scheduledTime: "2026-11-23T10:00:00Z" };

describe("planSnapshots", () => {
  it("sends one request per running simulation, none for the others", async () => {
    const world = snapshotWorld({
      "sim-b": "STARTED",
      "sim-a": "SNAPSHOT_IN_PROGRESS",
      "sim-c": "STOPPED",
      "sim-d": "STARTING",
    });
    const requests = new MemoryQueue<SnapshotRequest>();

    const result = await planSnapshots(tick, { provider: world.provider, requests });

    expect(result.requested).toEqual(["sim-a", "sim-b"]);
    expect(requests.sent.map((s) => s.message)).toEqual([
      {
        requestId: "schedule/hourly/sim-a/2026-11-23T10:00:00.000Z",
        simulation: "sim-a",
        trigger: "schedule",
        schedule: "hourly",
        requestedAt: "2026-11-23T10:00:00.000Z",
      },
      {
        requestId: "schedule/hourly/sim-b/2026-11-23T10:00:00.000Z",
        simulation: "sim-b",
        trigger: "schedule",
        schedule: "hourly",
        requestedAt: "2026-11-23T10:00:00.000Z",
      },
    ]);
  });

  it("yields one snapshot per simulation when the tick arrives twice", async () => {
    const world = snapshotWorld({ "sim-a": "STARTED" });
    const requests = new MemoryQueue<SnapshotRequest>();
    await planSnapshots(tick, { provider: world.provider, requests });
    await planSnapshots(tick, { provider: world.provider, requests });

    for (const { message } of requests.sent) await takeSnapshot(message, world);

    expect(requests.sent).toHaveLength(2);
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
  });
});
