import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../lib/domain/checkpoint.ts";
import { EVENT_DETAIL_SCHEMAS } from "../../../lib/domain/event-schemas.ts";
import {
  archivesPruned,
  checkpointArchived,
  checkpointRestored,
  restoreFailed,
  restoreRequested,
  type DomainEvent,
} from "../../../lib/domain/events.ts";
import type { Job } from "../../../lib/domain/job.ts";

const archived: Checkpoint = {
  id: "c1",
  version: 3,
  simulation: "sim-a",
  provider: "fake",
  name: "hourly",
  description: "",
  tags: [],
  favorite: false,
  state: "COMPLETE",
  trigger: "schedule",
  createdAt: "2026-11-23T10:00:00.000Z",
  modifiedAt: "2026-11-23T10:01:00.000Z",
  completedAt: "2026-11-23T10:00:04.000Z",
  location: { bucket: "hot", key: "simsnap/snapshot/sim-a-261123-1000-00.zip" },
  size: 10,
  archive: {
    bucket: "archive",
    key: "sim-a/2026/11/sim-a-261123-1000-00.zip",
    storageClass: "STANDARD_IA",
    archivedAt: "2026-11-23T10:01:00.000Z",
  },
};

const progress: NonNullable<Job["restore"]> = {
  target: "sim-a-r261123-100000-3fa2",
  clientToken: "t",
  phase: "waiting",
  from: "archive",
  snapshot: { bucket: "hot", key: "simsnap/restore/c1/sim-a-261123-1000-00.zip" },
  executionId: "e1",
};

const job: Job = {
  id: "r1",
  version: 4,
  kind: "restore",
  simulation: "sim-a",
  checkpointId: "c1",
  status: "SUCCEEDED",
  startTime: "2026-11-23T11:00:00.000Z",
  aborted: false,
  stats: { objects: 0, bytes: 0 },
  attempts: 0,
  checks: 2,
  restore: progress,
};

const validate = (event: DomainEvent) =>
  EVENT_DETAIL_SCHEMAS[event.detailType as keyof typeof EVENT_DETAIL_SCHEMAS].parse(event.detail);

describe("archive and restore events", () => {
  it("match their documented schemas", () => {
    const events = [
      checkpointArchived(archived, {
        manifest: { bucket: "archive", key: `${archived.archive?.key}.manifest.json` },
        checksum: "crc64nvme:AAAAAAAAAAA=",
        copied: true,
      }),
      archivesPruned({ simulation: "sim-a", removed: ["c0"], failed: [] }),
      restoreRequested({
        ...job,
        status: "RUNNING",
        restore: { ...progress, phase: "locating", from: undefined, snapshot: undefined },
      }),
      checkpointRestored(job),
      restoreFailed({
        ...job,
        status: "FAILED",
        error: { code: "ArchiveMissing", message: "The archive copy is missing" },
      }),
    ];
    for (const event of events) expect(() => validate(event), event.detailType).not.toThrow();
  });

  it("are refused by the schemas when a required field is missing", () => {
    const restored = checkpointRestored({ ...job, restore: { ...progress, snapshot: undefined } });
    expect(() => validate(restored)).toThrow(/snapshot/);
  });
});
