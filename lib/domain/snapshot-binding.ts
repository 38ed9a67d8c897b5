import { snapshotDeadline, type SnapshotDeadlineTiming } from "./job-deadline.ts";
import { isJobFinished, type Job } from "./job.ts";
import { normalizePrefix } from "./snapshot-key.ts";

/**
 * How far outside a job's CreateSnapshot window a file's stamp may fall and still be bound to that
 * job, when no window contains it exactly. The provider stamps the file with its own clock at the
 * call; simsnap measures the window with the function's clock. Both are NTP-synchronised AWS
 * clocks (the local simulator even shares simsnap's), which agree to well under a second, so a
 * few seconds absorb clock offset and request latency. It must stay far below the time between
 * two snapshots of one simulation: the old rule's 120 s of skew, with no upper bound, is what bound
 * every file after one crash to the previous job. A wider skew buys nothing but ambiguity.
 */
export const SNAPSHOT_STAMP_SKEW_MS = 5_000;

/**
 * How long an event waits for a CreateSnapshot call still in flight. A call answers in about a
 * second; waiting a few seconds lets the job record its window before the file is judged, and the
 * wait never outlasts the call's claim, after which the call counts as lost.
 */
export const IN_FLIGHT_RETRY_SECONDS = 5;

/** A snapshot file as its key tells it: where it is and the second the provider stamped on it. */
export interface StampedFile {
  bucket: string;
  prefix: string;
  simulation: string;
  time: Date;
}

/** The closed interval of times a job's file may be stamped with. */
export interface SnapshotWindow {
  from: Date;
  to: Date;
}

/**
 * What to do with a file: bind it to `job`; `wait` because a call whose window could hold it has
 * not answered yet; or `none`, when no job or more than one could have produced it (the file is
 * then cataloged as `discovered`, never given to a job by guess). `ended` names the jobs that
 * already ended whose windows hold the stamp: the file is likely one of theirs, which a
 * discovered record says, but an ended job's checkpoint is never brought back to life by it.
 */
export type SnapshotBinding =
  | { kind: "bind"; job: Job }
  | { kind: "wait"; reason: string; seconds: number }
  | { kind: "none"; reason: string; ended: Job[] };

/**
 * The longest a CreateSnapshot call may still be answering after it started: Lambda's longest
 * invocation. Only bounds how far back `bindingJobsStartedWithin` looks, so erring long is free.
 */
const CALL_MAX_MS = 900_000;
const SECOND_MS = 1000;

/**
 * The start times of the snapshot jobs whose windows could hold a stamp between `from` and `to`:
 * a job's call starts after the job (and at most the skew and a second after the stamp) and,
 * take-snapshot never calling past the job's first deadline, answers at most the job's deadline
 * budget (`snapshotDeadline`) plus one call after the job started. The binding reads ended jobs
 * from this range, since the openJobs index no longer holds them. A deployment that shortened its
 * snapshot timing since a job started may look back less far than that job reached.
 */
export function bindingJobsStartedWithin(
  stamps: { from: Date; to: Date },
  timing: SnapshotDeadlineTiming,
): { from: Date; to: Date } {
  const budgetMs = Date.parse(snapshotDeadline(new Date(0), timing));
  return {
    from: new Date(stamps.from.getTime() - SNAPSHOT_STAMP_SKEW_MS - budgetMs - CALL_MAX_MS),
    to: new Date(stamps.to.getTime() + SNAPSHOT_STAMP_SKEW_MS + SECOND_MS),
  };
}

const floorToSecond = (ms: number): number => Math.floor(ms / SECOND_MS) * SECOND_MS;

/**
 * The window of a job's accepted CreateSnapshot call, widened by `skewMs` on both sides: from the
 * second `callStartedAt` falls in (the stamp has one-second resolution) to `requestedAt`. A job
 * without both (a call refused, lost, or recorded by an older version) has no window, so no file
 * can ever be bound to it. Exported so that audits judge bindings by the very same rule.
 */
export function snapshotWindow(
  job: Pick<Job, "callStartedAt" | "requestedAt">,
  skewMs = 0,
): SnapshotWindow | undefined {
  if (job.callStartedAt === undefined || job.requestedAt === undefined) return undefined;
  const from = floorToSecond(new Date(job.callStartedAt).getTime());
  const to = new Date(job.requestedAt).getTime();
  if (to < from) return undefined;
  return { from: new Date(from - skewMs), to: new Date(to + skewMs) };
}

const contains = (window: SnapshotWindow | undefined, time: number): boolean =>
  window !== undefined && window.from.getTime() <= time && time <= window.to.getTime();

/** A snapshot job of the file's simulation that wrote to the file's bucket and prefix. */
const sameDestination = (file: StampedFile, job: Job): boolean =>
  job.kind === "snapshot" &&
  job.checkpointId !== undefined &&
  job.simulation === file.simulation &&
  job.destination?.bucket === file.bucket &&
  normalizePrefix(job.destination.prefix) === normalizePrefix(file.prefix);

/**
 * A call that was made (its start is recorded) but has not answered, while its claim still holds:
 * its window's end is unknown, so any file stamped after its start may yet be its own.
 */
const mayStillBeCalling = (job: Job, time: number, now: Date): boolean =>
  !isJobFinished(job) &&
  job.callStartedAt !== undefined &&
  job.requestedAt === undefined &&
  job.claimedUntil !== undefined &&
  new Date(job.claimedUntil) > now &&
  floorToSecond(new Date(job.callStartedAt).getTime()) - SNAPSHOT_STAMP_SKEW_MS <= time;

/** Each job once, as its latest version: two listings of one moment may hold one job twice. */
function latestVersions(jobs: readonly Job[]): Job[] {
  const latest = new Map<string, Job>();
  for (const job of jobs) {
    const seen = latest.get(job.id);
    if (!seen || seen.version < job.version) latest.set(job.id, job);
  }
  return [...latest.values()];
}

const describeJob = (job: Job): string =>
  isJobFinished(job)
    ? `${job.id} (${job.status}${job.endTime ? ` at ${job.endTime}` : ""})`
    : job.id;

/**
 * Decides which open snapshot job, if any, produced a file. The file belongs to the one job whose
 * exact CreateSnapshot window contains its stamp; failing that, to the one job whose window
 * widened by `SNAPSHOT_STAMP_SKEW_MS` contains it; none or several candidates leave it unbound.
 * Jobs that already ended are candidates too, though never bound: a slow snapshot whose job
 * failed at its deadline makes its file ambiguous rather than a gift to an open neighbour whose
 * widened window also holds the stamp, and a file only an ended job's window holds is left
 * unbound (`ended` names it), never completing a checkpoint that already failed. While a call
 * that could have produced it is still in flight, the answer is to wait. Pass every open snapshot
 * job of the simulation and every ended one started in `bindingJobsStartedWithin`: a job left out
 * could make a bound file ambiguous. A job given twice counts once, at its latest version.
 */
export function bindSnapshotFile(
  file: StampedFile,
  jobs: readonly Job[],
  now: Date,
): SnapshotBinding {
  const relevant = latestVersions(jobs).filter((job) => sameDestination(file, job));
  const time = file.time.getTime();
  const stamp = file.time.toISOString();

  const calling = relevant.filter((job) => mayStillBeCalling(job, time, now));
  if (calling.length > 0) {
    const untilClaimEnds = Math.min(
      ...calling.map((job) => new Date(job.claimedUntil as string).getTime() - now.getTime()),
    );
    return {
      kind: "wait",
      reason: `CreateSnapshot of job ${calling.map((job) => job.id).join(", ")} has not answered yet`,
      seconds: Math.max(1, Math.min(IN_FLIGHT_RETRY_SECONDS, Math.ceil(untilClaimEnds / 1000))),
    };
  }

  for (const skew of [0, SNAPSHOT_STAMP_SKEW_MS]) {
    const candidates = relevant.filter((job) => contains(snapshotWindow(job, skew), time));
    const ended = candidates.filter(isJobFinished);
    const [only] = candidates;
    if (candidates.length === 1 && only && ended.length === 0) return { kind: "bind", job: only };
    const window = skew === 0 ? "CreateSnapshot window" : "skew-widened CreateSnapshot window";
    if (candidates.length === 1 && only) {
      return {
        kind: "none",
        reason: `stamp ${stamp} is in the ${window} of job ${describeJob(only)}, which ended before its file was bound`,
        ended,
      };
    }
    if (candidates.length > 1) {
      return {
        kind: "none",
        reason: `stamp ${stamp} is in the ${window}s of ${candidates.length} jobs (${candidates.map(describeJob).join(", ")})`,
        ended,
      };
    }
  }
  return {
    kind: "none",
    reason: `no snapshot job's CreateSnapshot window holds stamp ${stamp}`,
    ended: [],
  };
}
