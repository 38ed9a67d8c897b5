import { ConcurrentModificationError } from "../../domain/errors.ts";
import type { Job } from "../../domain/job.ts";
import type { JobStore } from "../../ports/catalog.ts";

/**
 * Saves a job a step moved on, with the store's conditional write. False when the write lost:
 * another delivery of the step, or the sweeper, moved the job on first, so this step is stale and
 * stops without error (a redelivery would only lose again).
 */
export async function saveIfCurrent(jobs: Pick<JobStore, "save">, next: Job): Promise<boolean> {
  try {
    await jobs.save(next);
    return true;
  } catch (error) {
    if (error instanceof ConcurrentModificationError) return false;
    throw error;
  }
}
