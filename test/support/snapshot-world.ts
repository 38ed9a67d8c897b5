import type { StatusCheck } from "../../lib/domain/messages.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import type { ObjectInfo } from "../../lib/ports/object-store.ts";
import { directoryOf, type SimulationStatus } from "../../lib/ports/simulation-provider.ts";
import { FakeProvider } from "./fake-provider.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
  MemoryObjectStore,
  MemoryQueue,
} from "./memory.ts";

/** In-memory ports wired the way the functions wire the real ones. */
export function snapshotWorld(
  simulations: Record<string, SimulationStatus> = { "sim-a": "STARTED" },
) {
  const clock = new ManualClock(new Date("2026-11-23T10:00:00.000Z"));
  const provider = new FakeProvider(simulations);
  return {
    provider,
    providers: directoryOf([provider]),
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    objects: new MemoryObjectStore(),
    events: new MemoryEventPublisher(),
    statusChecks: new MemoryQueue<StatusCheck>(),
    clock,
    destination: { bucket: "snapshots", prefix: "simsnap" },
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
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

/**
 * Makes the fake provider write snapshot files the way SimSpace Weaver (and the local simulator)
 * does: each accepted CreateSnapshot stores a file stamped with the time of the call, halfway
 * through a call that takes `callMs` on the world's clock. Returns the files written, in order,
 * as S3's "Object Created" events announce them.
 */
export function providerWritesFiles(
  world: ReturnType<typeof snapshotWorld>,
  options: { callMs?: number } = {},
): ObjectInfo[] {
  const files: ObjectInfo[] = [];
  const half = (options.callMs ?? 0) / 2;
  const createSnapshot = world.provider.createSnapshot.bind(world.provider);
  world.provider.createSnapshot = async (simulation, destination) => {
    world.clock.advance(half);
    await createSnapshot(simulation, destination);
    const stamp = world.clock.now();
    const location = {
      bucket: destination.bucket,
      key: snapshotKey(destination.prefix, simulation, stamp),
    };
    await world.objects.put(location, `${simulation} at ${stamp.toISOString()}`);
    const stored = await world.objects.head(location);
    if (stored) files.push({ ...location, size: stored.size, etag: stored.etag });
    world.clock.advance(half);
  };
  return files;
}
