import { z } from "zod";
import { SimulationNameSchema } from "../domain/names.ts";
import { RetentionConfigSchema } from "../domain/retention.ts";

/**
 * What the local stack runs: its demo simulations, its schedules and its timings. Defaults give
 * a visible demo (a snapshot of every simulation every 10 seconds, written after 3 seconds).
 */
export const LocalConfigSchema = z.object({
  bucket: z.string().min(3).default("simsnap-snapshots"),
  prefix: z.string().default("simsnap"),
  table: z.string().min(3).default("simsnap-catalog"),
  simulations: z.array(SimulationNameSchema).min(1).default(["ocean-currents", "city-traffic"]),
  schedules: z
    .array(
      z.object({
        name: z.string().min(1),
        expression: z.string().min(1),
        timeZone: z.string().default("UTC"),
      }),
    )
    .default([{ name: "demo-every-10s", expression: "rate(10 seconds)", timeZone: "UTC" }]),
  snapshotDelayMs: z.number().int().nonnegative().default(3_000),
  statusCheckFirstSeconds: z.number().int().positive().default(5),
  statusCheckMaxSeconds: z.number().int().positive().max(900).default(20),
  snapshotDeadlineSeconds: z.number().int().positive().default(90),
  /** The demo policy visibly prunes: the two newest stay, plus the favorite. */
  retention: RetentionConfigSchema.prefault({ default: { keepLast: 2 } }),
  /** Completions within this window prune once (the prune queue's delay). */
  pruneDebounceSeconds: z.number().int().min(0).max(900).default(3),
  /** Mark the first checkpoint of the first demo simulation favorite, as a user would. */
  favoriteFirstCheckpoint: z.boolean().default(true),
});
/** What the local stack runs. */
export type LocalConfig = z.infer<typeof LocalConfigSchema>;
