import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

const Ids = lazySchema(() => z.array(z.string().min(1)));

/**
 * The prune report as it is written to S3 (see `writeReport` in the prune use case). A prune that
 * continues over several invocations writes it each time it hands over, and the next invocation
 * reads it back to carry out that very plan and add to its lists, so it is parsed like any other
 * input: a report that does not match (edited, truncated) stops the run instead of misleading it.
 */
export const PruneReportSchema = lazySchema(() =>
  z.object({
    simulation: z.string().min(1),
    runId: z.string().min(1),
    generatedAt: z.iso.datetime({ offset: true }),
    force: z.boolean(),
    refused: z.string().nullable(),
    keep: z.array(z.object({ id: z.string().min(1), reasons: z.array(z.string()) })),
    remove: z.array(z.object({ id: z.string().min(1) })),
    removed: Ids,
    trashed: Ids.default([]),
    purgeAfter: z.iso.datetime({ offset: true }).optional(),
    failed: z.array(
      z.object({ id: z.string(), key: z.string(), code: z.string(), message: z.string() }),
    ),
    awaitingArchive: Ids,
    skipped: z.array(z.object({ id: z.string(), key: z.string(), reason: z.string() })),
  }),
);

/**
 * Largest report a continuation reads back: a plan of 100,000 removals with their lists is a few
 * MB; a report beyond this is not one simsnap wrote for a run it could finish.
 */
export const MAX_PRUNE_REPORT_BYTES = 64 * 1024 * 1024;
