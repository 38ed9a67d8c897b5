import type { Checkpoint, S3Location } from "../domain/checkpoint.ts";
import { FILES_PROVIDER } from "../domain/file-discovery.ts";
import type { Job, JobKind } from "../domain/job.ts";
import { SNAPSHOT_STAMP_SKEW_MS } from "../domain/snapshot-binding.ts";
import {
  normalizePrefix,
  parseSnapshotKey,
  type ParsedSnapshotKey,
  type SnapshotOwnership,
} from "../domain/snapshot-key.ts";

/**
 * What the chaos checker counts as a broken promise. Each kind is one way the catalog could lie
 * (a record that does not match the files) or work could be stranded (a job nobody will finish).
 */
export const CHAOS_VIOLATION_KINDS = [
  /** A job ended FAILED without saying why. */
  "failed-without-reason",
  /** A job still RUNNING after its deadline (plus the sweeper's period). */
  "open-past-deadline",
  /** A job still RUNNING with no deadline at all: nothing will ever end it. */
  "open-without-deadline",
  /** A checkpoint bound to a file whose stamp lies outside its own job's CreateSnapshot window. */
  "mis-bound",
  /** A requested checkpoint bound to a file whose job recorded no window to check it against. */
  "binding-unverifiable",
  /** A COMPLETE checkpoint whose file is not in its bucket. */
  "phantom-complete",
  /** A DELETED checkpoint whose hot file is still there. */
  "deleted-with-file",
  /** A file outside the owned prefixes (or planted by another tool) that has a checkpoint. */
  "foreign-cataloged",
  /** A file planted by another tool that is gone. */
  "foreign-deleted",
  /** Two checkpoints naming the same file. */
  "duplicate-location",
  /** Two COMPLETE checkpoints from one job. */
  "duplicate-complete",
  /** A PENDING checkpoint whose job already ended: nothing will ever complete or fail it. */
  "pending-after-job-ended",
  /** A PENDING checkpoint whose job does not exist: nothing will ever complete or fail it. */
  "pending-without-job",
  /**
   * A snapshot file of simsnap's own, older than the reconciling scan's grace, that no checkpoint
   * names: never pruned, never restorable (its event was lost and no job bound it).
   */
  "uncataloged",
] as const;
/** One kind of broken promise. */
export type ChaosViolationKind = (typeof CHAOS_VIOLATION_KINDS)[number];

/** One broken promise, naming the record (checkpoint id, job id or file) and why. */
export interface ChaosViolation {
  kind: ChaosViolationKind;
  subject: string;
  message: string;
}

/** Everything the audit looks at, read after the stack stopped. */
export interface ChaosAuditInput {
  checkpoints: readonly Checkpoint[];
  jobs: readonly Job[];
  /** Every object of the snapshot bucket and of the archive bucket, with when it was written. */
  objects: readonly (S3Location & { lastModified?: Date })[];
  /** The snapshot bucket and the prefixes simsnap may catalog and delete under. */
  owned: SnapshotOwnership;
  /** Files another tool wrote, planted before or during the run: simsnap must leave them be. */
  foreign: readonly S3Location[];
  /** When the stack stopped working (its scheduler, hence its sweeper, stopped). */
  now: Date;
  /**
   * How far a file's stamp may lie outside its job's window; by default the binding rule's own
   * `SNAPSHOT_STAMP_SKEW_MS`, so the audit allows exactly what simsnap promises.
   */
  skewMs?: number;
  /**
   * How long past its deadline a job may still be RUNNING: the sweeper only looks every so often,
   * so a job whose deadline passed a moment before the stack stopped was not yet seen.
   */
  deadlineGraceMs?: number;
  /**
   * How old a snapshot file of ours may be and still not be cataloged, counted as the scan counts
   * (from the later of its stamp and its write): the reconciling scan's grace, its period and
   * slack. Without it, files are not checked for this.
   */
  uncatalogedGraceMs?: number;
}

/** What a job ended as; `OVERDUE` jobs are RUNNING past their deadline or without one. */
export type JobOutcome = "SUCCEEDED" | "FAILED" | "ABORTED" | "RUNNING" | "OVERDUE";

/** The checker's findings: what happened, and every broken promise. */
export interface ChaosReport {
  ok: boolean;
  jobs: Record<JobOutcome, number> & { total: number };
  jobsByKind: Partial<Record<JobKind, Record<JobOutcome, number>>>;
  /** Error codes of the FAILED jobs, so a run shows which faults jobs gave up on. */
  failureCodes: Record<string, number>;
  /**
   * `platformHeld`: checkpoints a platform holds (no file to check; see `auditChaosRun`);
   * `objectSets`: checkpoints another tool wrote (the demo trainer's), sets of objects that no
   * snapshot job binds, so the snapshot-file rules do not apply to them.
   */
  checkpoints: Record<Checkpoint["state"], number> & {
    total: number;
    discovered: number;
    platformHeld: number;
    objectSets: number;
  };
  violations: Record<ChaosViolationKind, number> & { total: number };
  details: ChaosViolation[];
}

/** Snapshot keys are stamped to the second. */
const STAMP_RESOLUTION_MS = 1000;

const locationId = (location: S3Location): string => `${location.bucket}/${location.key}`;

const emptyOutcomes = (): Record<JobOutcome, number> => ({
  SUCCEEDED: 0,
  FAILED: 0,
  ABORTED: 0,
  RUNNING: 0,
  OVERDUE: 0,
});

/** Under `<prefix>/` of an owned prefix in the snapshot bucket: the scope of simsnap's deletes. */
const isOwned = (location: S3Location, owned: SnapshotOwnership): boolean =>
  location.bucket === owned.bucket &&
  owned.prefixes.some((p) => {
    const prefix = normalizePrefix(p);
    return prefix === "" || location.key.startsWith(`${prefix}/`);
  });

/**
 * The simulation and stamp a snapshot key carries, whatever its prefix: whether the prefix is
 * owned is a separate finding, and a foreign file's stamp still shows which job it was bound to.
 */
function readSnapshotKey(key: string): ParsedSnapshotKey | undefined {
  const folder = key.lastIndexOf("snapshot/");
  if (folder < 0 || (folder > 0 && key[folder - 1] !== "/")) return undefined;
  return parseSnapshotKey(key, [key.slice(0, folder)]);
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function auditJobs(input: ChaosAuditInput, report: ChaosReport, add: Add): void {
  const grace = input.deadlineGraceMs ?? 0;
  for (const job of input.jobs) {
    let outcome: JobOutcome = job.status;
    if (job.status === "FAILED") {
      const code = job.error?.code || "(none)";
      report.failureCodes[code] = (report.failureCodes[code] ?? 0) + 1;
      if (!job.error?.code || !job.error.message) {
        add("failed-without-reason", job.id, `${job.kind} job of ${job.simulation} FAILED`);
      }
    } else if (job.status === "RUNNING") {
      if (!job.deadline) {
        outcome = "OVERDUE";
        add(
          "open-without-deadline",
          job.id,
          `${job.kind} job of ${job.simulation} started ${job.startTime} is RUNNING with no deadline`,
        );
      } else if (new Date(job.deadline).getTime() + grace < input.now.getTime()) {
        outcome = "OVERDUE";
        add(
          "open-past-deadline",
          job.id,
          `${job.kind} job of ${job.simulation} is RUNNING ${Math.round((input.now.getTime() - new Date(job.deadline).getTime()) / 1000)} s past its deadline ${job.deadline}`,
        );
      }
    }
    report.jobs[outcome] += 1;
    const byKind = (report.jobsByKind[job.kind] ??= emptyOutcomes());
    byKind[outcome] += 1;
  }
}

/**
 * A requested (non-discovered) checkpoint's file must carry a stamp inside its own job's
 * CreateSnapshot window, give or take the skew: anything else is another snapshot's file.
 */
function auditBinding(
  checkpoint: Checkpoint,
  location: S3Location,
  job: Job | undefined,
  input: ChaosAuditInput,
  add: Add,
): void {
  if (checkpoint.trigger === "discovered") return;
  const parsed = readSnapshotKey(location.key);
  if (!parsed || parsed.simulation !== checkpoint.simulation) {
    add(
      "mis-bound",
      checkpoint.id,
      `${checkpoint.simulation} checkpoint is bound to ${locationId(location)}, not a snapshot file of ${checkpoint.simulation}`,
    );
    return;
  }
  if (!job?.callStartedAt || !job.requestedAt) {
    add(
      "binding-unverifiable",
      checkpoint.id,
      job
        ? `${checkpoint.state} checkpoint bound to ${location.key}, but job ${job.id} recorded no CreateSnapshot window`
        : `${checkpoint.state} checkpoint bound to ${location.key}, but its job ${checkpoint.jobId ?? "(none)"} does not exist`,
    );
    return;
  }
  // A stamp names the whole second the file was stamped in: its first and last millisecond.
  const stamp = parsed.time.getTime();
  const skew = input.skewMs ?? SNAPSHOT_STAMP_SKEW_MS;
  const from = new Date(job.callStartedAt).getTime() - skew;
  const to = new Date(job.requestedAt).getTime() + skew;
  if (stamp + STAMP_RESOLUTION_MS <= from || stamp > to) {
    const off = stamp > to ? (stamp - to) / 1000 : (stamp + STAMP_RESOLUTION_MS - from) / 1000;
    add(
      "mis-bound",
      checkpoint.id,
      `bound to ${location.key} (stamp ${parsed.time.toISOString()}), ${off > 0 ? "+" : ""}${off} s outside job ${job.id}'s window ${job.callStartedAt} … ${job.requestedAt} (skew ${skew} ms)`,
    );
  }
}

type Add = (kind: ChaosViolationKind, subject: string, message: string) => void;

/**
 * Every snapshot file of ours (in the snapshot folder of an owned prefix, named as SimSpace Weaver
 * names them) stamped before the grace is named by a checkpoint, in whatever state: a lost event
 * and a job that never bound the file leave it to the reconciling scan, which must have found it.
 */
function auditUncataloged(input: ChaosAuditInput, add: Add): void {
  if (input.uncatalogedGraceMs === undefined) return;
  const named = new Set(
    input.checkpoints.flatMap((c) => (c.location ? [locationId(c.location)] : [])),
  );
  for (const object of input.objects) {
    if (object.bucket !== input.owned.bucket || named.has(locationId(object))) continue;
    const parsed = parseSnapshotKey(object.key, input.owned.prefixes);
    if (!parsed) continue;
    const since = Math.max(parsed.time.getTime(), object.lastModified?.getTime() ?? 0);
    const age = input.now.getTime() - since;
    if (age > input.uncatalogedGraceMs) {
      add(
        "uncataloged",
        locationId(object),
        `snapshot file stamped ${parsed.time.toISOString()}, ${Math.round(age / 1000)} s old at the stop, has no checkpoint`,
      );
    }
  }
}

/**
 * Checks the promises simsnap makes, from the records and files as they are after a chaos run:
 * every job ended (with a reason when it failed) or is within its deadline, every checkpoint is
 * bound to its own snapshot's file, COMPLETE means the file is there and DELETED that it is not,
 * nothing outside the owned prefixes was cataloged or deleted, every snapshot file of ours past
 * the reconciling scan's grace is cataloged, and no file or job is counted twice. Pure, so each check can be shown to fire on hand-built records.
 */
export function auditChaosRun(input: ChaosAuditInput): ChaosReport {
  const report: ChaosReport = {
    ok: true,
    jobs: { total: input.jobs.length, ...emptyOutcomes() },
    jobsByKind: {},
    failureCodes: {},
    checkpoints: {
      total: input.checkpoints.length,
      discovered: 0,
      platformHeld: 0,
      objectSets: 0,
      PENDING: 0,
      COMPLETE: 0,
      FAILED: 0,
      DELETED: 0,
    },
    violations: {
      total: 0,
      ...(Object.fromEntries(CHAOS_VIOLATION_KINDS.map((kind) => [kind, 0])) as Record<
        ChaosViolationKind,
        number
      >),
    },
    details: [],
  };
  const add: Add = (kind, subject, message) => {
    report.details.push({ kind, subject, message });
    report.violations[kind] += 1;
    report.violations.total += 1;
  };

  auditJobs(input, report, add);

  const objects = new Set(input.objects.map(locationId));
  const foreign = new Set(input.foreign.map(locationId));
  const jobsById = new Map(input.jobs.map((job) => [job.id, job]));
  const snapshotJobsByCheckpoint = new Map(
    input.jobs.filter((job) => job.kind === "snapshot").map((job) => [job.checkpointId, job]),
  );
  const jobOf = (checkpoint: Checkpoint): Job | undefined =>
    (checkpoint.jobId ? jobsById.get(checkpoint.jobId) : undefined) ??
    snapshotJobsByCheckpoint.get(checkpoint.id);

  for (const checkpoint of input.checkpoints) {
    report.checkpoints[checkpoint.state] += 1;
    if (checkpoint.trigger === "discovered") report.checkpoints.discovered += 1;
    if (checkpoint.platformId !== undefined) report.checkpoints.platformHeld += 1;
    // A files checkpoint is cataloged by discovery, not bound to a job: counted, not judged here
    // (its own guarantees have their tests and the files demo's audit at the end of a run).
    if (checkpoint.provider === FILES_PROVIDER) {
      report.checkpoints.objectSets += 1;
      continue;
    }
    const { location } = checkpoint;
    const job = jobOf(checkpoint);

    if (checkpoint.state === "PENDING") {
      if (!job) {
        add(
          "pending-without-job",
          checkpoint.id,
          `PENDING ${checkpoint.simulation} checkpoint created ${checkpoint.createdAt}; its job ${checkpoint.jobId ?? "(none)"} does not exist`,
        );
      } else if (job.status !== "RUNNING") {
        add(
          "pending-after-job-ended",
          checkpoint.id,
          `PENDING ${checkpoint.simulation} checkpoint; its job ${job.id} is ${job.status}`,
        );
      }
    }
    // A checkpoint its platform holds (NVIDIA Air) has no file: its platform confirmed it COMPLETE,
    // and the platform is gone once the run ends, so it is counted (`platformHeld`), not judged.
    if (checkpoint.state === "COMPLETE" && !location && checkpoint.platformId === undefined) {
      add("phantom-complete", checkpoint.id, "COMPLETE checkpoint with no location");
    }
    if (!location) continue;

    const where = locationId(location);
    if (foreign.has(where) || !isOwned(location, input.owned)) {
      add(
        "foreign-cataloged",
        checkpoint.id,
        `${checkpoint.state} ${checkpoint.trigger} checkpoint for ${where}, outside the owned prefixes`,
      );
    }
    if (checkpoint.state === "COMPLETE" && !objects.has(where)) {
      add("phantom-complete", checkpoint.id, `COMPLETE checkpoint, but ${where} does not exist`);
    }
    // Only the hot file counts: the archive copy (`checkpoint.archive`) is meant to outlive it.
    // A move to the trash that died after its record and before removing the original leaves
    // the file beside its trash copy, both named by the record; the purge removes both.
    const trashLeftover =
      checkpoint.trash !== undefined && objects.has(locationId(checkpoint.trash));
    if (checkpoint.state === "DELETED" && objects.has(where) && !trashLeftover) {
      add("deleted-with-file", checkpoint.id, `DELETED checkpoint, but ${where} is still there`);
    }
    if (checkpoint.state === "COMPLETE" || checkpoint.state === "DELETED") {
      auditBinding(checkpoint, location, job, input, add);
    }
  }

  for (const [where, group] of groupBy(input.checkpoints, (c) =>
    c.location ? locationId(c.location) : undefined,
  )) {
    if (group.length > 1) {
      add(
        "duplicate-location",
        where,
        `${group.length} checkpoints name this file: ${group.map((c) => `${c.id} (${c.state})`).join(", ")}`,
      );
    }
  }
  const complete = input.checkpoints.filter((c) => c.state === "COMPLETE");
  for (const [jobId, group] of groupBy(complete, (c) => c.jobId)) {
    if (group.length > 1) {
      add(
        "duplicate-complete",
        jobId,
        `job has ${group.length} COMPLETE checkpoints: ${group.map((c) => c.id).join(", ")}`,
      );
    }
  }

  auditUncataloged(input, add);

  for (const planted of foreign) {
    if (!objects.has(planted)) add("foreign-deleted", planted, "a file another tool wrote is gone");
  }

  report.ok = report.violations.total === 0;
  return report;
}
