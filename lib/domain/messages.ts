import { z } from "zod";
import { CheckpointTriggerSchema } from "./checkpoint.ts";
import { SimulationNameSchema } from "./names.ts";

const IsoDate = z.iso.datetime({ offset: true });

/**
 * A request to snapshot one simulation. `requestId` is the natural key of the request (schedule,
 * simulation and slot for scheduled ones): the checkpoint and job ids derive from it, so any number
 * of deliveries of the same request produce one snapshot.
 */
export const SnapshotRequestSchema = z.object({
  requestId: z.string().min(1).max(512),
  simulation: SimulationNameSchema,
  trigger: CheckpointTriggerSchema.exclude(["discovered"]),
  schedule: z.string().optional(),
  name: z.string().max(256).optional(),
  description: z.string().max(1024).optional(),
  tags: z.array(z.string().min(1).max(128)).max(50).optional(),
  requestedAt: IsoDate,
});
/** A request to snapshot one simulation. */
export type SnapshotRequest = z.infer<typeof SnapshotRequestSchema>;

/**
 * A delayed status check of one snapshot job. `dueAt` must equal the job's `nextCheckAt` for the
 * check to run, which is how duplicate and stale checks are recognised and dropped.
 */
export const StatusCheckSchema = z.object({
  jobId: z.string().min(1),
  check: z.number().int().nonnegative(),
  dueAt: IsoDate,
});
/** A delayed status check of one snapshot job. */
export type StatusCheck = z.infer<typeof StatusCheckSchema>;

/**
 * The schedule's input. EventBridge Scheduler fills `scheduledTime` from
 * `<aws.scheduler.scheduled-time>`, the slot's own time, identical on a redelivery.
 */
export const ScheduleTickSchema = z.object({
  schedule: z.string().min(1),
  scheduledTime: IsoDate,
});
/** The schedule's input. */
export type ScheduleTick = z.infer<typeof ScheduleTickSchema>;

/**
 * The part of S3's EventBridge "Object Created" event that simsnap reads; the sample in
 * `test/events/s3/object-created.json` is the full event as AWS sends it.
 */
export const ObjectCreatedEventSchema = z.object({
  source: z.literal("aws.s3"),
  "detail-type": z.literal("Object Created"),
  time: IsoDate,
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      etag: z.string().optional(),
    }),
  }),
});
/** S3's "Object Created" event. */
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEventSchema>;
