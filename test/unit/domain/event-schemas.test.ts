import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../lib/domain/checkpoint.ts";
import {
  EVENT_DETAIL_SCHEMAS,
  SimulationStopRequestedDetailSchema,
} from "../../../lib/domain/event-schemas.ts";
import {
  checkpointCompleted,
  checkpointDeleted,
  checkpointFailed,
  checkpointsPruned,
  simulationStopFailed,
  simulationStopped,
  snapshotRequested,
} from "../../../lib/domain/events.ts";
import type { Job } from "../../../lib/domain/job.ts";
import { StopRequestedEventSchema } from "../../../lib/domain/messages.ts";
import { stopRequestFromEvent } from "../../../lib/usecases/stop/request-stop.ts";

const pending: Checkpoint = {
  id: "c1",
  version: 1,
  simulation: "sim-a",
  provider: "fake",
  name: "sim-a 2026-11-23T10:00:00Z",
  description: "",
  tags: ["nightly"],
  favorite: false,
  state: "PENDING",
  trigger: "schedule",
  createdAt: "2026-11-23T10:00:00.000Z",
  modifiedAt: "2026-11-23T10:00:00.000Z",
  jobId: "j1",
};
const complete: Checkpoint = {
  ...pending,
  state: "COMPLETE",
  completedAt: "2026-11-23T10:00:04.000Z",
  location: { bucket: "b", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
  size: 10,
};

const validate = (event: { detailType: string; detail: unknown }) =>
  EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS].parse(event.detail);

describe("the documented event schemas", () => {
  it("describe what every event constructor publishes", () => {
    const events = [
      snapshotRequested(pending, { id: "j1" } as Job),
      checkpointCompleted(complete),
      checkpointFailed({ ...pending, state: "FAILED", error: { code: "X", message: "y" } }),
      checkpointDeleted({ ...complete, state: "DELETED" }),
      checkpointsPruned({
        simulation: "sim-a",
        jobId: "p1",
        removed: ["c0"],
        kept: [{ id: "c1", reasons: ["last snapshot"] }],
        failed: [],
        report: { bucket: "b", key: "simsnap/reports/prune/sim-a/x.json" },
      }),
      simulationStopped({
        simulation: "sim-a",
        jobId: "s1",
        finalSnapshot: "COMPLETE",
        checkpointId: "c1",
        location: complete.location,
        forced: false,
        alreadyStopped: false,
      }),
      simulationStopFailed({
        simulation: "sim-a",
        jobId: "s1",
        error: { code: "FinalSnapshotFailed", message: "no" },
      }),
    ];
    for (const event of events) expect(() => validate(event), event.detailType).not.toThrow();
  });

  it("refuse a detail that breaks its promise (a COMPLETE checkpoint without a location)", () => {
    const broken = checkpointCompleted({ ...complete, location: undefined });
    expect(() => validate(broken)).toThrow(/location/);
    const wrongVersion = { ...checkpointCompleted(complete).detail, version: "2" };
    expect(() => EVENT_DETAIL_SCHEMAS["Checkpoint Completed"].parse(wrongVersion)).toThrow(
      /version/,
    );
  });

  it("read a stop request with defaults, and refuse an unknown field by name", () => {
    expect(SimulationStopRequestedDetailSchema.parse({ simulation: "sim-a" })).toEqual({
      version: "1",
      simulation: "sim-a",
      snapshot: true,
      force: false,
    });
    expect(() =>
      SimulationStopRequestedDetailSchema.parse({ simulation: "sim-a", forced: true }),
    ).toThrow(/forced/);
    expect(() => SimulationStopRequestedDetailSchema.parse({ simulation: "sim/a" })).toThrow(
      /must not contain/,
    );
  });

  it("take a stop request's id from its detail, else from the event, which redeliveries keep", () => {
    const event = {
      id: "evt-1",
      source: "com.example.ops",
      "detail-type": "Simulation Stop Requested",
      detail: { simulation: "sim-a" },
    };
    expect(stopRequestFromEvent(StopRequestedEventSchema.parse(event)).requestId).toBe("evt-1");
    const named = { ...event, detail: { simulation: "sim-a", requestId: "ops-1" } };
    expect(stopRequestFromEvent(StopRequestedEventSchema.parse(named)).requestId).toBe("ops-1");
  });
});

describe("the event samples of docs/events.md", () => {
  const events = readFileSync(new URL("../../../docs/events.md", import.meta.url), "utf8");
  const samples = [...events.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((match) => JSON.parse(match[1] ?? "") as Record<string, unknown>)
    .filter((sample) => "detail-type" in sample);

  it.each(Object.keys(EVENT_DETAIL_SCHEMAS))("show %s, valid against its schema", (type) => {
    const sample = samples.find((s) => s["detail-type"] === type);
    expect(sample, `no sample of ${type} in docs/events.md`).toBeDefined();
    expect(() =>
      EVENT_DETAIL_SCHEMAS[type as keyof typeof EVENT_DETAIL_SCHEMAS].parse(sample?.detail),
    ).not.toThrow();
    // simsnap publishes every event but the stop request, which others send.
    const publisher = type === "Simulation Stop Requested" ? "com.example.operations" : "simsnap";
    expect(sample?.source).toBe(publisher);
  });

  it("are every one valid against its schema, the further samples of a type too", () => {
    // Event patterns (Subscribing) list detail-types; only events carry a single one.
    for (const sample of samples.filter((s) => typeof s["detail-type"] === "string")) {
      const type = sample["detail-type"] as keyof typeof EVENT_DETAIL_SCHEMAS;
      expect(() => EVENT_DETAIL_SCHEMAS[type].parse(sample.detail), type).not.toThrow();
    }
    // A platform-held checkpoint completes without a file: its sample shows the platform's id.
    expect(
      samples.some(
        (s) =>
          s["detail-type"] === "Checkpoint Completed" &&
          JSON.stringify(s.detail).includes('"platformId"') &&
          !JSON.stringify(s.detail).includes('"location"'),
      ),
    ).toBe(true);
  });
});
