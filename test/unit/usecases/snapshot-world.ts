import type { StatusCheck } from "../../../lib/domain/messages.ts";
import type { SimulationStatus } from "../../../lib/ports/simulation-provider.ts";
import { FakeProvider } from "../../support/fake-provider.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
  MemoryQueue,
} from "../../support/memory.ts";

/** In-memory ports wired the way the functions wire the real ones. */
export function snapshotWorld(
  simulations: Record<string, SimulationStatus> = { "sim-a": "STARTED" },
) {
  const clock = new ManualClock(new Date("2026-11-23T10:00:00.000Z"));
  return {
    provider: new FakeProvider(simulations),
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    objects: new MemoryObjectStore(),
    events: new MemoryEventPublisher(),
    statusChecks: new MemoryQueue<StatusCheck>(),
    clock,
    destination: { bucket: "snapshots", prefix: "simsnap" },
    timing: {
      firstCheckSeconds: 10,
      maxCheckSeconds: 120,
      deadlineSeconds: 600,
      conflictRetrySeconds: 5,
      conflictMaxAttempts: 3,
    },
  };
}

/** A snapshot request as plan-snapshots would send it. */
export const request = (
  simulation = "sim-a",
  requestId = `schedule/hourly/${simulation}/2026-11-23T10:00:00.000Z`,
) => ({
  requestId,
  simulation,
  trigger: "schedule" as const,
  schedule: "hourly",
  requestedAt: "2026-11-23T10:00:00.000Z",
});
