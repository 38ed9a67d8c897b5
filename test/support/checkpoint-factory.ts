import type { Checkpoint } from "../../lib/domain/checkpoint.ts";
import type { Job } from "../../lib/domain/job.ts";

let counter = 0;

/** A COMPLETE checkpoint with a file; every field can be overridden. */
export function checkpoint(overrides: Partial<Checkpoint> = {}): Checkpoint {
  counter += 1;
  const id = overrides.id ?? `cp-${String(counter).padStart(4, "0")}`;
  const createdAt = overrides.createdAt ?? "2026-01-01T00:00:00.000Z";
  return {
    id,
    version: 1,
    simulation: "sim-a",
    provider: "fake",
    name: `checkpoint ${counter}`,
    description: "",
    tags: [],
    favorite: false,
    state: "COMPLETE",
    trigger: "schedule",
    createdAt,
    modifiedAt: createdAt,
    completedAt: createdAt,
    location: { bucket: "snapshots", key: `simsnap/snapshot/${id}.zip` },
    size: 100,
    ...overrides,
  };
}

/** A RUNNING job; every field can be overridden. */
export function job(overrides: Partial<Job> = {}): Job {
  counter += 1;
  return {
    id: `job-${String(counter).padStart(4, "0")}`,
    version: 1,
    kind: "snapshot",
    simulation: "sim-a",
    status: "RUNNING",
    startTime: "2026-01-01T00:00:00.000Z",
    aborted: false,
    stats: { objects: 0, bytes: 0 },
    attempts: 0,
    checks: 0,
    ...overrides,
  };
}

/** `minutes` after 2026-01-01T00:00Z, as an ISO string. */
export const minutesIn = (minutes: number): string =>
  new Date(Date.UTC(2026, 0, 1) + minutes * 60_000).toISOString();
