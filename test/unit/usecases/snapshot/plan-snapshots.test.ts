import { describe, expect, it } from "vitest";
import { SimsnapConfigSchema } from "../../../../lib/domain/config-file.ts";
import {
  ScheduleTickSchema,
  type SnapshotRequest,
  type StopRequestedEvent,
} from "../../../../lib/domain/messages.ts";
import { scheduleInput, snapshotSchedules } from "../../../../lib/topology.ts";
import { filesProvider } from "../../../../lib/adapters/files/provider.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { planSnapshots } from "../../../../lib/usecases/snapshot/plan-snapshots.ts";
import { takeSnapshot } from "../../../../lib/usecases/snapshot/take-snapshot.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import tickSample from "../../../events/scheduler/tick.json" with { type: "json" };
import { snapshotWorld } from "../../../support/snapshot-world.ts";

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

    const result = await planSnapshots(tick, {
      providers: world.providers,
      requests,
      stops: new MemoryQueue<StopRequestedEvent>(),
    });

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

  it("never snapshots a files run: its provider lists no simulations, even when selected", async () => {
    const world = snapshotWorld({ "sim-a": "STARTED" });
    const requests = new MemoryQueue<SnapshotRequest>();
    const providers = directoryOf([...world.providers.all(), filesProvider]);

    for (const selector of [undefined, { providers: ["files" as const] }]) {
      const result = await planSnapshots(
        { ...tick, ...(selector ? { selector } : {}) },
        { providers, requests, stops: new MemoryQueue<StopRequestedEvent>() },
      );
      expect(result.skipped).toEqual([]);
      expect(result.requested).toEqual(selector ? [] : ["sim-a"]);
    }
  });

  it("applies the schedule's selector: name globs, then AWS tags", async () => {
    const world = snapshotWorld({
      "ocean-a": "STARTED",
      "ocean-b": "STARTED",
      "city-a": "STARTED",
      "ocean-c": "STOPPED",
    });
    world.provider.tags.set("ocean-a", { team: "oceans", tier: "gold" });
    world.provider.tags.set("ocean-b", { team: "oceans" });
    world.provider.tags.set("city-a", { team: "oceans", tier: "gold" });
    const requests = new MemoryQueue<SnapshotRequest>();

    const byName = await planSnapshots(
      { ...tick, selector: { names: ["ocean-*", "lake-?"] } },
      { providers: world.providers, requests, stops: new MemoryQueue<StopRequestedEvent>() },
    );
    const byBoth = await planSnapshots(
      { ...tick, selector: { names: ["ocean-*"], tags: { tier: "gold" } } },
      { providers: world.providers, requests, stops: new MemoryQueue<StopRequestedEvent>() },
    );

    expect(byName.requested).toEqual(["ocean-a", "ocean-b"]);
    expect(byBoth.requested).toEqual(["ocean-a"]);
    // Tags are read only for running simulations whose names matched: city-a never costs a call.
    expect(world.provider.tagCalls.map((arn) => arn.split("/").pop())).toEqual([
      "ocean-a",
      "ocean-b",
    ]);
  });

  it("reads the input a configured schedule sends, as in test/events/scheduler/tick.json", () => {
    const [hourly] = snapshotSchedules(
      SimsnapConfigSchema.parse({
        schedules: [
          { name: "hourly", expression: "cron(0 * * * ? *)", selector: { names: ["*"] } },
        ],
      }).schedules,
      "aws",
    );
    if (!hourly) throw new Error("no schedule");
    const sent = scheduleInput(hourly, tickSample.scheduledTime);

    expect(sent).toEqual(tickSample);
    expect(ScheduleTickSchema.parse(sent)).toEqual(tickSample);
    expect(scheduleInput(hourly).scheduledTime).toBe("<aws.scheduler.scheduled-time>");
  });

  it("carries a cycle schedule's action in its input, and no action for a snapshot schedule", () => {
    const { schedules } = SimsnapConfigSchema.parse({
      schedules: [
        { name: "nightly", expression: "cron(0 2 * * ? *)", action: "cycle" },
        { name: "hourly", expression: "cron(0 * * * ? *)" },
      ],
    });
    expect(schedules.map((s) => s.action)).toEqual(["cycle", "snapshot"]);
    const [nightly, hourly] = snapshotSchedules(schedules, "aws").map((s) =>
      ScheduleTickSchema.parse(scheduleInput(s, tick.scheduledTime)),
    );

    expect(nightly).toMatchObject({ schedule: "nightly", action: "cycle" });
    expect(hourly).not.toHaveProperty("action");
    expect(() =>
      SimsnapConfigSchema.parse({
        schedules: [{ name: "x", expression: "cron(0 2 * * ? *)", action: "restart" }],
      }),
    ).toThrow(/action/);
  });

  it("selects every running simulation when the tick has no selector, without reading tags", async () => {
    const world = snapshotWorld({ "sim-a": "STARTED", "sim-b": "STARTED" });
    const requests = new MemoryQueue<SnapshotRequest>();

    const result = await planSnapshots(tick, {
      providers: world.providers,
      requests,
      stops: new MemoryQueue<StopRequestedEvent>(),
    });

    expect(result.requested).toEqual(["sim-a", "sim-b"]);
    expect(world.provider.tagCalls).toEqual([]);
  });

  it("yields one snapshot per simulation when the tick arrives twice", async () => {
    const world = snapshotWorld({ "sim-a": "STARTED" });
    const requests = new MemoryQueue<SnapshotRequest>();
    await planSnapshots(tick, {
      providers: world.providers,
      requests,
      stops: new MemoryQueue<StopRequestedEvent>(),
    });
    await planSnapshots(tick, {
      providers: world.providers,
      requests,
      stops: new MemoryQueue<StopRequestedEvent>(),
    });

    for (const { message } of requests.sent) await takeSnapshot(message, world);

    expect(requests.sent).toHaveLength(2);
    expect(world.provider.snapshotCalls).toHaveLength(1);
    expect((await world.checkpoints.listBySimulation("sim-a")).items).toHaveLength(1);
  });
});
