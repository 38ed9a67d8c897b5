import { NotFoundError } from "../../domain/errors.ts";
import { queryJobs, type JobQuery } from "../../domain/job-query.ts";
import type { Job } from "../../domain/job.ts";
import type { JobStore, Page } from "../../ports/catalog.ts";

/** What the job queries need. */
export interface JobReadDeps {
  jobs: JobStore;
}

/**
 * One page of `GET /jobs`: a simulation's jobs come from its index partition, all jobs from the
 * store's full listing; the pure `queryJobs` filters, orders (newest first) and pages them.
 */
export async function listJobs(query: JobQuery, deps: JobReadDeps): Promise<Page<Job>> {
  const candidates: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = query.simulation
      ? await deps.jobs.listBySimulation(query.simulation, { limit: 1000, cursor })
      : await deps.jobs.listAll({ limit: 1000, cursor });
    candidates.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return queryJobs(candidates, query);
}

/** One job by id; a missing one is a `NotFoundError` naming it. */
export async function getJob(id: string, deps: JobReadDeps): Promise<Job> {
  const job = await deps.jobs.get(id);
  if (!job) throw new NotFoundError(`Job ${id} does not exist`);
  return job;
}
