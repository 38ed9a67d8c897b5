import * as z from "zod";
import { knownFieldsOnly } from "./known-fields.ts";
import { JobKindSchema, JobStatusSchema, type Job } from "./job.ts";
import { fingerprintOf, pageOf, type ListingPage } from "./listing.ts";
import { SimulationNameSchema } from "./names.ts";
import { commaList, limitParam } from "./query-params.ts";
import { lazySchema } from "./lazy-schema.ts";

/**
 * The query string of `GET /jobs`: filters by simulation, kind and status (`kind` and `status`
 * take comma-separated lists), newest job first, paged by an opaque cursor.
 */
export const JobQuerySchema = lazySchema(() =>
  knownFieldsOnly(
    {
      simulation: SimulationNameSchema.optional(),
      kind: z
        .string()
        .transform(commaList)
        .pipe(z.array(JobKindSchema).min(1, "must name at least one kind"))
        .optional()
        .describe(`Comma list, any of: ${JobKindSchema.options.join(", ")}`),
      status: z
        .string()
        .transform(commaList)
        .pipe(z.array(JobStatusSchema).min(1, "must name at least one status"))
        .optional()
        .describe(`Comma list, any of: ${JobStatusSchema.options.join(", ")}`),
      limit: limitParam,
      cursor: z.string().min(1).max(2048).optional(),
    },
    "is not a query parameter of this listing",
  ),
);
/** A validated job query. */
export type JobQuery = z.output<typeof JobQuerySchema>;
/** A job query as a caller writes it (query-string values). */
export type JobQueryInput = z.input<typeof JobQuerySchema>;

/** True when the job passes every filter of the query. */
export const matchesJobQuery = (job: Job, query: JobQuery): boolean =>
  (query.simulation === undefined || job.simulation === query.simulation) &&
  (query.kind === undefined || query.kind.includes(job.kind)) &&
  (query.status === undefined || query.status.includes(job.status));

/** One page of the matching jobs, newest first; the cursor is bound to the filters. */
export function queryJobs(jobs: readonly Job[], query: JobQuery): ListingPage<Job> {
  const { limit, cursor, ...identity } = query;
  return pageOf(
    jobs.filter((job) => matchesJobQuery(job, query)),
    { startTime: (job: Job) => Date.parse(job.startTime) },
    {
      ordering: [{ field: "startTime", descending: true }],
      limit,
      cursor,
      fingerprint: fingerprintOf({ jobs: identity }),
    },
  );
}
