import * as z from "zod";
import { CheckpointTriggerSchema } from "./checkpoint.ts";
import {
  CheckpointCompletedDetailSchema,
  CheckpointFailedDetailSchema,
  SimulationStopRequestedDetailSchema,
} from "./event-schemas.ts";
import { SimulationNameSchema } from "./names.ts";
import { SimulationSelectorSchema } from "./selector.ts";
import { lazySchema } from "./lazy-schema.ts";

const IsoDate = z.iso.datetime({ offset: true });

/**
 * A request to snapshot one simulation. `requestId` is the natural key of the request (schedule,
 * simulation and slot for scheduled ones): the checkpoint and job ids derive from it, so any number
 * of deliveries of the same request produce one snapshot.
 */
export const SnapshotRequestSchema = lazySchema(() =>
  z.object({
    requestId: z.string().min(1).max(512),
    simulation: SimulationNameSchema,
    trigger: CheckpointTriggerSchema.exclude(["discovered"]),
    schedule: z.string().optional(),
    name: z.string().max(256).optional(),
    description: z.string().max(1024).optional(),
    tags: z.array(z.string().min(1).max(128)).max(50).optional(),
    requestedAt: IsoDate,
  }),
);
/** A request to snapshot one simulation. */
export type SnapshotRequest = z.infer<typeof SnapshotRequestSchema>;

/**
 * A delayed status check of one snapshot job. `dueAt` must equal the job's `nextCheckAt` for the
 * check to run, which is how duplicate and stale checks are recognised and dropped.
 */
export const StatusCheckSchema = lazySchema(() =>
  z.object({
    jobId: z.string().min(1),
    check: z.number().int().nonnegative(),
    dueAt: IsoDate,
  }),
);
/** A delayed status check of one snapshot job. */
export type StatusCheck = z.infer<typeof StatusCheckSchema>;

/**
 * What a snapshot schedule does to a running simulation it selects: `snapshot` (the default)
 * takes a snapshot where the provider can while it runs; `cycle` also checkpoints a simulation
 * whose platform saves checkpoints only while stopping (NVIDIA Air), by stopping it with one and
 * starting it again from exactly that checkpoint. Cycling interrupts the simulation, so it is
 * only ever an opt-in, for simulations that sleep anyway.
 */
export const ScheduleActionSchema = z.enum(["snapshot", "cycle"]);
/** One of the schedule actions. */
export type ScheduleAction = z.infer<typeof ScheduleActionSchema>;

/**
 * The schedule's input. EventBridge Scheduler fills `scheduledTime` from
 * `<aws.scheduler.scheduled-time>`, the slot's own time, identical on a redelivery. `selector` and
 * `action` are the configured schedule's own, carried in the input so that the function needs no
 * config file at run time; a tick without a selector selects every running simulation, one
 * without an action snapshots them.
 */
export const ScheduleTickSchema = lazySchema(() =>
  z.object({
    schedule: z.string().min(1),
    scheduledTime: IsoDate,
    selector: SimulationSelectorSchema.optional(),
    action: ScheduleActionSchema.optional(),
  }),
);
/** The schedule's input. */
export type ScheduleTick = z.infer<typeof ScheduleTickSchema>;

/**
 * The part of S3's EventBridge "Object Created" event that simsnap reads; the sample in
 * `test/events/s3/object-created.json` is the full event as AWS sends it.
 */
export const ObjectCreatedEventSchema = lazySchema(() =>
  z.object({
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
  }),
);
/** S3's "Object Created" event. */
export type ObjectCreatedEvent = z.infer<typeof ObjectCreatedEventSchema>;

/**
 * What the file-events queue carries: S3's "Object Created" and "Object Deleted" events under a
 * files source (the samples in `test/events/s3/` are whole events as AWS sends them), and
 * discovery's own delayed re-check of one checkpoint whose settle or quiet period was running
 * (`recheck`: its bucket and checkpoint key). Either names one key, and discovery re-lists the
 * checkpoint it belongs to, so a duplicate or a late message changes nothing.
 */
export const FileEventSchema = lazySchema(() =>
  z.union([
    z.object({
      source: z.literal("aws.s3"),
      "detail-type": z.enum(["Object Created", "Object Deleted"]),
      time: IsoDate,
      detail: z.object({
        bucket: z.object({ name: z.string().min(1) }),
        object: z.object({ key: z.string().min(1) }),
      }),
    }),
    z.strictObject({
      recheck: z.strictObject({
        bucket: z.string().min(1),
        key: z.string().min(1),
        dueAt: IsoDate,
      }),
    }),
  ]),
);
/** A message of the file-events queue. */
export type FileEvent = z.infer<typeof FileEventSchema>;

/**
 * A `Simulation Stop Requested` event as its rule delivers it to the stop-requests queue: the
 * whole EventBridge event, whose `id` identifies the request when the detail carries no
 * `requestId`.
 */
export const StopRequestedEventSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    "detail-type": z.literal("Simulation Stop Requested"),
    source: z.string().min(1),
    detail: SimulationStopRequestedDetailSchema,
  }),
);
/** A `Simulation Stop Requested` event. */
export type StopRequestedEvent = z.infer<typeof StopRequestedEventSchema>;

/**
 * The end of a shutdown snapshot as its rule delivers it to the final-snapshots queue: simsnap's
 * own `Checkpoint Completed` or `Checkpoint Failed` event.
 */
export const FinalSnapshotEventSchema = lazySchema(() =>
  z.discriminatedUnion("detail-type", [
    z.object({
      source: z.literal("simsnap"),
      "detail-type": z.literal("Checkpoint Completed"),
      detail: CheckpointCompletedDetailSchema,
    }),
    z.object({
      source: z.literal("simsnap"),
      "detail-type": z.literal("Checkpoint Failed"),
      detail: CheckpointFailedDetailSchema,
    }),
  ]),
);
/** The end of a shutdown snapshot. */
export type FinalSnapshotEvent = z.infer<typeof FinalSnapshotEventSchema>;

/**
 * CloudTrail records the simulation's name as `requestParameters.simulation` (the rest-json member
 * `Simulation`, in CloudTrail's lower camel case); the model's own spelling is accepted too.
 */
const RequestParametersSchema = lazySchema(() =>
  z.preprocess(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      !("simulation" in value) &&
      "Simulation" in value
        ? { simulation: (value as { Simulation: unknown }).Simulation }
        : value,
    z.object({ simulation: SimulationNameSchema }),
  ),
);

/**
 * A successful `StopSimulation` or `DeleteSimulation` call as EventBridge delivers it from
 * CloudTrail (`detail-type: "AWS API Call via CloudTrail"`): the part simsnap reads. The sample in
 * `test/events/cloudtrail/stop-simulation.json` is the whole event.
 */
export const SimulationApiCallEventSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    source: z.literal("aws.simspaceweaver"),
    "detail-type": z.literal("AWS API Call via CloudTrail"),
    detail: z.object({
      eventSource: z.literal("simspaceweaver.amazonaws.com"),
      eventName: z.enum(["StopSimulation", "DeleteSimulation"]),
      eventTime: IsoDate,
      userIdentity: z.object({ arn: z.string().optional() }).optional(),
      requestParameters: RequestParametersSchema,
    }),
  }),
);
/** A successful `StopSimulation` or `DeleteSimulation` call seen through CloudTrail. */
export type SimulationApiCallEvent = z.infer<typeof SimulationApiCallEventSchema>;
