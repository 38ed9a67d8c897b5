import type { Checkpoint } from "../domain/checkpoint.ts";
import type { Job } from "../domain/job.ts";

/**
 * A job as the API shows it: what a client polls for (status, times, error, stats), without the
 * bookkeeping that makes the snapshot steps idempotent (claims, check counters, destinations),
 * which may change shape without notice.
 */
export interface JobView {
  id: string;
  kind: Job["kind"];
  simulation: string;
  checkpointId?: string;
  status: Job["status"];
  startTime: string;
  endTime?: string;
  aborted: boolean;
  error?: { code: string; message: string };
  stats: { objects: number; bytes: number };
  attempts: number;
  nextCheckAt?: string;
  /** The steps of a multi-step job (a stop: final snapshot, then StopSimulation). */
  steps?: { name: string; status: string; startedAt: string; endedAt?: string; message?: string }[];
  /** A restore job's target simulation and how far it got. */
  restore?: { target: string; phase: string; from?: string };
}

/** A checkpoint as the API shows it: the catalog record itself, `version` included (for `If-Match`). */
export type CheckpointView = Checkpoint;

/** The API's view of a job; absent fields stay absent rather than `null`. */
export function jobView(job: Job): JobView {
  const view: JobView = {
    id: job.id,
    kind: job.kind,
    simulation: job.simulation,
    status: job.status,
    startTime: job.startTime,
    aborted: job.aborted,
    stats: job.stats,
    attempts: job.attempts,
  };
  if (job.checkpointId !== undefined) view.checkpointId = job.checkpointId;
  if (job.endTime !== undefined) view.endTime = job.endTime;
  if (job.error !== undefined) view.error = job.error;
  if (job.nextCheckAt !== undefined) view.nextCheckAt = job.nextCheckAt;
  if (job.steps !== undefined) view.steps = job.steps;
  if (job.restore !== undefined) {
    const { target, phase, from } = job.restore;
    view.restore = from === undefined ? { target, phase } : { target, phase, from };
  }
  return view;
}

/** The ETag of a checkpoint's representation: its version, which every write increments. */
export const checkpointEtag = (checkpoint: Pick<Checkpoint, "version">): string =>
  `"${checkpoint.version}"`;
