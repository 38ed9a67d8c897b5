import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import type { ArchiveSettings } from "../../lib/usecases/archive/archive-checkpoint.ts";
import { checkpoint as makeCheckpoint } from "./checkpoint-factory.ts";
import { MemoryArchiveStore } from "./memory-archive.ts";
import {
  ManualClock,
  MemoryCheckpointStore,
  MemoryEventPublisher,
  MemoryJobStore,
} from "./memory.ts";

/** The archive settings the use-case tests run with. */
export const archiveSettings: ArchiveSettings = {
  bucket: "archive",
  storageClass: "STANDARD_IA",
  checksumAlgorithm: "CRC64NVME",
  retrySeconds: 30,
};

/** In-memory ports for archiving and restoring, wired as the functions wire the real ones. */
export function archiveWorld(options: { checksums?: boolean } = {}) {
  const clock = new ManualClock(new Date("2026-11-23T12:00:00.000Z"));
  return {
    clock,
    checkpoints: new MemoryCheckpointStore(),
    jobs: new MemoryJobStore(),
    storage: new MemoryArchiveStore({ checksums: options.checksums, clock }),
    events: new MemoryEventPublisher(),
    archive: archiveSettings as ArchiveSettings | undefined,
    owned: { bucket: "snapshots", prefixes: ["simsnap"] },
    providers: directoryOf([]),
  };
}

/** A COMPLETE checkpoint and its snapshot file (`bytes`) in the hot bucket. */
export async function completedCheckpoint(
  world: ReturnType<typeof archiveWorld>,
  overrides: Partial<Checkpoint> = {},
  bytes: Uint8Array = new TextEncoder().encode(`zip of ${overrides.id ?? "c-1"}`),
): Promise<Checkpoint> {
  const simulation = overrides.simulation ?? "ocean-currents";
  const createdAt = overrides.createdAt ?? "2026-11-23T10:00:10.000Z";
  const checkpoint = makeCheckpoint({
    id: "c-1",
    version: 2,
    simulation,
    name: "hourly",
    createdAt,
    location: {
      bucket: "snapshots",
      key: snapshotKey("simsnap", simulation, new Date(createdAt)),
    },
    size: bytes.byteLength,
    ...overrides,
  });
  if (checkpoint.location) await world.storage.put(checkpoint.location, bytes);
  await world.checkpoints.create(checkpoint);
  return checkpoint;
}
