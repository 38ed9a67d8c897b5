import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { lambdaContext } from "../../../lib/local/queue-poller.ts";
import { METRICS_NAMESPACE, SCHEDULE_DIMENSION } from "../../../lib/observability/metric-names.ts";
import {
  metrics,
  recordArchive,
  recordCheckpointDeleted,
  recordCheckpointUndeleted,
  recordPrune,
  recordSchedulePlanned,
  recordSnapshotCheck,
  recordSnapshotFile,
  recordSnapshotTaken,
  recordStopFinished,
  recordSweep,
  recordTrashPurge,
  recordVerificationStep,
} from "../../../lib/observability/metrics.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";
import type { PruneSimulationResult } from "../../../lib/usecases/retention/prune.ts";

interface EmfRecord {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let write: MockInstance<typeof process.stdout.write>;
let writeError: MockInstance<typeof process.stderr.write>;
/** Everything written to standard output and standard error since the test began. */
const output = (): string =>
  [...write.mock.calls, ...writeError.mock.calls].map(([chunk]) => String(chunk)).join("");
/** The EMF records written to standard output since the test began. */
const records = (): EmfRecord[] =>
  write.mock.calls
    .map(([chunk]) => String(chunk).trim())
    .filter((line) => line.startsWith("{") && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfRecord);
const metricsOf = (record: EmfRecord) =>
  Object.fromEntries(
    record._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, [m.Unit, record[m.Name]]]),
  );

beforeEach(() => {
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", undefined);
  vi.stubEnv("POWERTOOLS_DEV", undefined);
  write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  writeError = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(() => {
  write.mockRestore();
  writeError.mockRestore();
  vi.unstubAllEnvs();
});

/** Runs `work` as one invocation of a function whose chain flushes `target` with `logMetrics`. */
const invoke = (work: () => unknown, target = metrics) =>
  middy(async () => {
    work();
  }).use(logMetrics(target))(undefined, lambdaContext("test"));

const pruned = (overrides: Partial<PruneSimulationResult>): PruneSimulationResult => ({
  simulation: "ocean",
  outcome: "pruned",
  plan: { simulation: "ocean", keep: [], remove: [], refused: null },
  removed: [],
  trashed: [],
  failed: [],
  awaitingArchive: [],
  skipped: [],
  ...overrides,
});

describe("metrics", () => {
  it("writes one EMF record in simsnap's namespace with the service dimension", async () => {
    await invoke(() => recordSnapshotTaken({ outcome: "failed" }));
    const [record, ...rest] = records();
    expect(rest).toEqual([]);
    expect(record?._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: METRICS_NAMESPACE, Dimensions: [["service"]] }),
    ]);
    expect(record?.service).toBe("simsnap");
    expect(metricsOf(record!)).toEqual({
      SnapshotsFailed: ["Count", 1],
      JobsFailed: ["Count", 1],
    });
  });

  it("writes nothing, not even a warning, when nothing happened, and passes the result through", async () => {
    const result = { outcome: "duplicate" as const, checkpointId: "c", jobId: "j" };
    await invoke(() => {
      expect(recordSnapshotTaken(result)).toBe(result);
      recordSnapshotFile({ outcome: "ignored" });
      recordPrune([pruned({ outcome: "duplicate" })]);
    });
    expect(records()).toEqual([]);
    // Powertools warns of an invocation without metrics; here that is most invocations.
    expect(output()).toBe("");
  });

  it("measures a completed snapshot job's age from its start", async () => {
    const now = new Date("2026-11-23T10:05:00.000Z");
    await invoke(() => {
      recordSnapshotCheck({ outcome: "completed", startedAt: "2026-11-23T10:00:00.000Z" }, now);
      recordSnapshotFile({ outcome: "discovered", checkpointId: "d" }, now);
    });
    expect(records().map(metricsOf)).toEqual([
      {
        SnapshotsCompleted: ["Count", 1],
        SnapshotJobAge: ["Seconds", 300],
        SnapshotsDiscovered: ["Count", 1],
      },
    ]);
  });

  it("counts a restore test abandoned because its checkpoint was deleted as a failed job, not a failed verification", async () => {
    await invoke(() => recordVerificationStep({ outcome: "abandoned" }));
    await invoke(() => recordVerificationStep({ outcome: "failed" }));
    expect(records().map(metricsOf)).toEqual([
      { JobsFailed: ["Count", 1] },
      { VerificationsFailed: ["Count", 1], JobsFailed: ["Count", 1] },
    ]);
  });

  it("publishes an invocation's metrics once, when it ends, the records of a batch together", async () => {
    await invoke(() => {
      recordSnapshotTaken({ outcome: "failed" });
      expect(records()).toEqual([]);
      recordSnapshotTaken({ outcome: "failed" });
    });
    expect(records().map(metricsOf)).toEqual([
      { SnapshotsFailed: ["Count", [1, 1]], JobsFailed: ["Count", [1, 1]] },
    ]);
  });

  it("publishes what an invocation counted before it failed", async () => {
    await expect(
      invoke(() => {
        recordStopFinished({ outcome: "refused" });
        throw new Error("later failure");
      }),
    ).rejects.toThrow("later failure");
    expect(records().map(metricsOf)).toEqual([{ JobsFailed: ["Count", 1] }]);
  });

  it("adds up a prune run, counting refused and partial runs as failed jobs", async () => {
    await invoke(() =>
      recordPrune([
        pruned({ removed: ["a", "b"] }),
        pruned({
          outcome: "partial",
          removed: ["c"],
          failed: [{ id: "d", key: "k", code: "AccessDenied", message: "no" }],
        }),
        pruned({ outcome: "refused" }),
      ]),
    );
    expect(records().map(metricsOf)).toEqual([
      {
        CheckpointsPruned: ["Count", 3],
        PruneDeleteFailures: ["Count", 1],
        JobsFailed: ["Count", 2],
      },
    ]);
  });

  it("counts the trash: moved by a prune or a DELETE, undeleted, purged, and the bytes left", async () => {
    await invoke(() =>
      recordPrune([pruned({ removed: ["a", "b"], trashed: ["a", "b"], trashedBytes: 300 })]),
    );
    const trashed = { ...checkpoint(), state: "DELETED" as const, size: 50 };
    const inTrash = { ...trashed, trash: { bucket: "b", key: "simsnap/trash/c/v1/f.zip" } };
    await invoke(() => {
      recordCheckpointDeleted(inTrash);
      // A final delete (trashDays 0) is not a move to the trash.
      recordCheckpointDeleted(trashed);
      recordCheckpointUndeleted(checkpoint());
    });
    await invoke(() => recordTrashPurge({ purged: ["a"], failed: [], bytesInTrash: 0 }));
    expect(records().map(metricsOf)).toEqual([
      {
        CheckpointsPruned: ["Count", 2],
        CheckpointsTrashed: ["Count", 2],
        TrashedBytes: ["Bytes", 300],
      },
      {
        CheckpointsTrashed: ["Count", 1],
        TrashedBytes: ["Bytes", 50],
        CheckpointsUndeleted: ["Count", 1],
      },
      { CheckpointsPurged: ["Count", 1], BytesInTrash: ["Bytes", 0] },
    ]);
  });

  it("counts a sweep's re-sent steps and the jobs it ended, failed ones by kind", async () => {
    const base = { simulation: "ocean" };
    await invoke(() =>
      recordSweep({
        swept: [
          { ...base, jobId: "a", kind: "snapshot", action: "resent", step: "status-check" },
          { ...base, jobId: "b", kind: "restore", action: "resent", step: "restore-step" },
          { ...base, jobId: "c", kind: "snapshot", action: "failed", status: "FAILED" },
          { ...base, jobId: "d", kind: "stop", action: "failed", status: "FAILED" },
          { ...base, jobId: "e", kind: "snapshot", action: "settled", status: "SUCCEEDED" },
        ],
      }),
    );
    await invoke(() => recordSweep({ swept: [] }));
    expect(records().map(metricsOf)).toEqual([
      {
        JobsResent: ["Count", 2],
        JobsFailed: ["Count", 2],
        SnapshotsFailed: ["Count", 1],
        SnapshotsCompleted: ["Count", 1],
      },
    ]);
  });

  it("counts archived bytes", async () => {
    await invoke(() => recordArchive({ outcome: "archived", checkpointId: "c", bytes: 5_000 }));
    expect(records().map(metricsOf)).toEqual([
      { CheckpointsArchived: ["Count", 1], ArchivedBytes: ["Bytes", 5_000] },
    ]);
  });

  it("publishes the oldest checkpoint age of a schedule under its name, 0 when none ran", async () => {
    await invoke(() =>
      recordSchedulePlanned("hourly", 2, [
        { simulation: "ocean", ageSeconds: 3_600 },
        { simulation: "city", ageSeconds: 9_000 },
      ]),
    );
    await invoke(() => recordSchedulePlanned("nightly", 0, []));
    // The age is written at once, with its dimension; the requests when the invocation ends.
    const [hourly, requested, nightly] = records();
    expect(metricsOf(requested!)).toEqual({ SnapshotsRequested: ["Count", 2] });
    expect(requested?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service"]]);
    expect(hourly?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ["service", SCHEDULE_DIMENSION],
    ]);
    expect(hourly?.[SCHEDULE_DIMENSION]).toBe("hourly");
    expect(metricsOf(hourly!)).toEqual({ CheckpointAge: ["Seconds", 9_000] });
    expect(nightly?.[SCHEDULE_DIMENSION]).toBe("nightly");
    expect(metricsOf(nightly!)).toEqual({ CheckpointAge: ["Seconds", 0] });
  });

  it("writes nothing where POWERTOOLS_METRICS_DISABLED is set at cold start (the local runtime)", async () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
    vi.resetModules();
    const coldStart = await import("../../../lib/observability/metrics.ts");
    await invoke(() => coldStart.recordSnapshotTaken({ outcome: "failed" }), coldStart.metrics);
    expect(records()).toEqual([]);
  });
});
