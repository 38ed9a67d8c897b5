import * as z from "zod";
import { CheckpointPatchSchema } from "../domain/checkpoint-edit.ts";
import { CheckpointQuerySchema } from "../domain/checkpoint-query.ts";
import { JobQuerySchema } from "../domain/job-query.ts";
import { knownFieldsOnly } from "../domain/known-fields.ts";
import { newId } from "../domain/ids.ts";
import type { Job } from "../domain/job.ts";
import { SimulationNameSchema } from "../domain/names.ts";
import { booleanParam } from "../domain/query-params.ts";
import { MaximumDurationSchema, RestoreTargetSchema } from "../domain/restore.ts";
import {
  deleteCheckpoint,
  type DeleteCheckpointDeps,
} from "../usecases/catalog/delete-checkpoint.ts";
import { getJob, listJobs, type JobReadDeps } from "../usecases/catalog/list-jobs.ts";
import { undeleteCheckpoint } from "../usecases/catalog/undelete-checkpoint.ts";
import { recordCheckpointDeleted, recordCheckpointUndeleted } from "../observability/metrics.ts";
import { getCheckpoint, listCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { listSimulations, type ListSimulationsDeps } from "../usecases/catalog/list-simulations.ts";
import { requestPrune, type RequestPruneDeps } from "../usecases/retention/request-prune.ts";
import {
  requestSnapshot,
  type RequestSnapshotDeps,
} from "../usecases/snapshot/request-snapshot.ts";
import { orderStop } from "../usecases/stop/order-stop.ts";
import type { RequestStopDeps } from "../usecases/stop/request-stop.ts";
import { restoreCheckpoint, type RestoreDeps } from "../usecases/restore/restore-checkpoint.ts";
import {
  updateCheckpoint,
  type UpdateCheckpointDeps,
} from "../usecases/catalog/update-checkpoint.ts";
import { withOpenApi } from "./openapi.ts";
import { route, type HttpResult, type ResponseSpec, type Route } from "./router.ts";
import {
  checkpointEtag,
  CheckpointViewSchema,
  jobView,
  JobViewSchema,
  pageSchema,
  PrunePlannedViewSchema,
  PruneStartedViewSchema,
  SimulationOverviewSchema,
} from "./views.ts";
import { lazySchema } from "../domain/lazy-schema.ts";

/** Every port the API's use cases need; the function wires the real ones, tests the fakes. */
export type ApiDeps = RequestSnapshotDeps &
  RequestStopDeps &
  RestoreDeps &
  RequestPruneDeps &
  DeleteCheckpointDeps &
  UpdateCheckpointDeps &
  ListSimulationsDeps &
  JobReadDeps;

const IdParams = lazySchema(() =>
  z.object({
    id: z.string().min(1, "must not be empty").max(128, "must be at most 128 characters"),
  }),
);
const SimulationParams = lazySchema(() => z.object({ name: SimulationNameSchema }));

/**
 * `Idempotency-Key`: the same key on a retried POST addresses the same job, so a client that
 * timed out can simply send the request again.
 */
const IdempotencyHeaders = lazySchema(() =>
  z.object({
    "idempotency-key": z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, "must be 1 to 128 printable ASCII characters without spaces")
      .optional(),
  }),
);

/** `If-Match: "<version>"` (the ETag of the checkpoint as read); `*` matches any version. */
const IfMatchHeaders = lazySchema(() =>
  z.object({
    "if-match": z
      .string()
      .regex(/^(\*|(W\/)?"?\d{1,12}"?)$/, 'must be the ETag of the checkpoint as read, e.g. "3"')
      .transform((value) => (value === "*" ? undefined : Number(value.replace(/\D/g, ""))))
      .optional(),
  }),
);

const tags = lazySchema(() =>
  z.array(z.string().trim().min(1, "must not be empty").max(128)).max(50),
);

const SnapshotBody = lazySchema(() =>
  knownFieldsOnly(
    {
      name: z.string().trim().min(1, "must not be empty").max(256).optional(),
      description: z.string().max(1024).optional(),
      tags: tags.optional(),
      stop: z.boolean().default(false),
    },
    "is not a field of a snapshot request; use name, description, tags or stop",
  ).superRefine((body, context) => {
    for (const field of ["name", "tags"] as const) {
      if (body.stop && body[field] !== undefined) {
        context.addIssue({
          code: "custom",
          path: [field],
          message: "cannot be combined with stop: the stop names its final snapshot itself",
        });
      }
    }
  }),
);

const StopBody = lazySchema(() =>
  knownFieldsOnly(
    {
      snapshot: z.boolean().default(true),
      force: z.boolean().default(false),
      reason: z.string().max(1024).optional(),
    },
    "is not a field of a stop request; use snapshot, force or reason",
  ),
);

const RestoreBody = lazySchema(() =>
  knownFieldsOnly(
    {
      simulationName: SimulationNameSchema.optional(),
      maximumDuration: MaximumDurationSchema.optional(),
      description: z.string().max(500, "must be at most 500 characters").optional(),
      target: RestoreTargetSchema.optional(),
    },
    "is not a field of a restore request; use simulationName, maximumDuration, description or target",
  ),
);

const PruneBody = lazySchema(() =>
  knownFieldsOnly(
    {
      simulation: SimulationNameSchema.optional(),
      dryRun: z.boolean().default(true),
      force: z.boolean().default(false),
    },
    "is not a field of a prune request; use simulation, dryRun or force",
  ),
);

const DeleteQuery = lazySchema(() =>
  knownFieldsOnly(
    { force: booleanParam.default(false) },
    "is not a query parameter of this route; use force",
  ),
);

const HealthBody = lazySchema(() => z.object({ status: z.literal("ok") }));
const SimulationList = lazySchema(() => z.object({ items: z.array(SimulationOverviewSchema) }));
const CheckpointPage = lazySchema(() => pageSchema(CheckpointViewSchema));

/** What the routes that start work answer (see `accepted`). */
const jobAccepted: ResponseSpec = {
  description: "The work goes on: the job to poll",
  body: JobViewSchema,
  headers: { Location: "Where to poll the job" },
};

const checkpointAnswer = (description: string): ResponseSpec => ({
  description,
  body: CheckpointViewSchema,
  headers: { ETag: "The checkpoint's version, for If-Match" },
});

/** 202 Accepted: the work goes on after the answer; the body is the job, `Location` where to poll it. */
const accepted = (job: Job): HttpResult => ({
  status: 202,
  body: jobView(job),
  headers: { location: `/jobs/${job.id}` },
});

/**
 * The catalog API's routes. Each one parses its input with its schemas, calls one use case and
 * maps the result: 200 for reads and edits, 202 for work that continues after the answer (the
 * body is the job to poll), errors through `toHttpError`. Each declares what it answers, from
 * which `GET /openapi.json` is generated.
 */
export function apiRoutes(deps: ApiDeps): Route[] {
  return withOpenApi([
    route({
      method: "GET",
      path: "/healthz",
      operationId: "getHealth",
      summary: "Whether the API function answers",
      responses: { 200: { description: "The API answers", body: HealthBody } },
      handle: async () => ({ status: 200, body: { status: "ok" } }),
    }),
    route({
      method: "GET",
      path: "/simulations",
      operationId: "listSimulations",
      summary: "Every simulation a platform lists or the catalog has checkpoints of",
      responses: { 200: { description: "The simulations, by name", body: SimulationList } },
      handle: async () => ({ status: 200, body: { items: await listSimulations(deps) } }),
    }),
    route({
      method: "POST",
      path: "/simulations/{name}/snapshots",
      operationId: "createSnapshot",
      summary: "Take a snapshot now (or, with stop, a final one and then stop)",
      params: SimulationParams,
      body: SnapshotBody,
      headers: IdempotencyHeaders,
      responses: { 202: jobAccepted },
      errors: {
        404: "No platform knows the simulation",
        409: "The simulation cannot be snapshotted in its state, or by its platform",
      },
      handle: async ({ params, body, headers }) => {
        const { stop, ...snapshot } = body;
        const idempotencyKey = headers["idempotency-key"];
        const job = stop
          ? await orderStop(
              {
                simulation: params.name,
                snapshot: true,
                force: false,
                reason: snapshot.description,
                idempotencyKey,
              },
              deps,
            )
          : await requestSnapshot({ simulation: params.name, ...snapshot, idempotencyKey }, deps);
        return accepted(job);
      },
    }),
    route({
      method: "POST",
      path: "/simulations/{name}/stop",
      operationId: "stopSimulation",
      summary: "Stop a simulation, after a final snapshot unless told otherwise",
      params: SimulationParams,
      body: StopBody,
      headers: IdempotencyHeaders,
      responses: { 202: jobAccepted },
      errors: { 404: "No platform knows the simulation" },
      handle: async ({ params, body, headers }) =>
        accepted(
          await orderStop(
            { simulation: params.name, ...body, idempotencyKey: headers["idempotency-key"] },
            deps,
          ),
        ),
    }),
    route({
      method: "GET",
      path: "/checkpoints",
      operationId: "listCheckpoints",
      summary: "One page of the catalog, filtered and ordered",
      query: CheckpointQuerySchema,
      responses: { 200: { description: "One page of checkpoints", body: CheckpointPage } },
      handle: async ({ query }) => ({ status: 200, body: await listCheckpoints(query, deps) }),
    }),
    route({
      method: "GET",
      path: "/checkpoints/{id}",
      operationId: "getCheckpoint",
      summary: "One checkpoint, with its version as ETag",
      params: IdParams,
      responses: { 200: checkpointAnswer("The checkpoint") },
      errors: { 404: "No checkpoint has this id" },
      handle: async ({ params }) => {
        const checkpoint = await getCheckpoint(params.id, deps);
        return { status: 200, body: checkpoint, headers: { etag: checkpointEtag(checkpoint) } };
      },
    }),
    route({
      method: "PATCH",
      path: "/checkpoints/{id}",
      operationId: "updateCheckpoint",
      summary: "Rename, describe, tag or favorite a checkpoint",
      params: IdParams,
      body: CheckpointPatchSchema,
      headers: IfMatchHeaders,
      responses: { 200: checkpointAnswer("The checkpoint as changed") },
      errors: {
        404: "No checkpoint has this id",
        409: "The checkpoint changed since it was read (If-Match), or its state forbids the change",
      },
      handle: async ({ params, body, headers }) => {
        const checkpoint = await updateCheckpoint(
          params.id,
          body,
          { expectedVersion: headers["if-match"] },
          deps,
        );
        return { status: 200, body: checkpoint, headers: { etag: checkpointEtag(checkpoint) } };
      },
    }),
    route({
      method: "DELETE",
      path: "/checkpoints/{id}",
      operationId: "deleteCheckpoint",
      summary: "Mark a checkpoint DELETED, its file moved to the trash (or removed: trashDays 0)",
      params: IdParams,
      query: DeleteQuery,
      responses: { 200: { description: "The checkpoint, DELETED", body: CheckpointViewSchema } },
      errors: {
        404: "No checkpoint has this id",
        409: "The checkpoint is not COMPLETE, is a favorite (use force), or lies outside simsnap's prefixes",
      },
      handle: async ({ params, query }) => ({
        status: 200,
        body: await deleteCheckpoint(params.id, { force: query.force }, deps).then(
          recordCheckpointDeleted,
        ),
      }),
    }),
    route({
      method: "POST",
      path: "/checkpoints/{id}/undelete",
      operationId: "undeleteCheckpoint",
      summary: "Bring a DELETED checkpoint back from the trash to COMPLETE",
      params: IdParams,
      responses: {
        200: checkpointAnswer("The checkpoint, COMPLETE (as it was, if it already was)"),
      },
      errors: {
        404: "No checkpoint has this id",
        409: "Nothing to bring back: past purgeAfter, purged, deleted for good, or its bytes are gone",
      },
      handle: async ({ params }) => {
        const checkpoint = await undeleteCheckpoint(params.id, {
          ...deps,
          store: deps.trash?.store,
        }).then(recordCheckpointUndeleted);
        return { status: 200, body: checkpoint, headers: { etag: checkpointEtag(checkpoint) } };
      },
    }),
    route({
      method: "POST",
      path: "/checkpoints/{id}/restore",
      operationId: "restoreCheckpoint",
      summary: "Start a new simulation from a checkpoint",
      params: IdParams,
      body: RestoreBody,
      headers: IdempotencyHeaders,
      responses: { 202: jobAccepted },
      errors: {
        404: "No checkpoint has this id, or its file is gone",
        409: "The checkpoint cannot be restored in its state, or the target simulation exists",
      },
      handle: async ({ params, body, headers }) => {
        const { job } = await restoreCheckpoint(
          {
            checkpointId: params.id,
            clientToken: headers["idempotency-key"] ?? newId(),
            ...body,
          },
          deps,
        );
        return accepted(job);
      },
    }),
    route({
      method: "POST",
      path: "/prune",
      operationId: "prune",
      summary: "Plan a retention run (dryRun, the default) or start one",
      body: PruneBody,
      headers: IdempotencyHeaders,
      responses: {
        200: {
          description: "The plan of each simulation; nothing changed",
          body: PrunePlannedViewSchema,
        },
        202: {
          description: "The run started: one prune job per simulation",
          body: PruneStartedViewSchema,
        },
      },
      errors: { 404: "The catalog has no checkpoints of the simulation" },
      handle: async ({ body, headers }) => {
        const result = await requestPrune(
          { ...body, idempotencyKey: headers["idempotency-key"] },
          deps,
        );
        return result.dryRun
          ? { status: 200, body: result }
          : { status: 202, body: { ...result, jobs: result.jobs.map(jobView) } };
      },
    }),
    route({
      method: "GET",
      path: "/jobs",
      operationId: "listJobs",
      summary: "One page of jobs, newest first",
      query: JobQuerySchema,
      responses: { 200: { description: "One page of jobs", body: pageSchema(JobViewSchema) } },
      handle: async ({ query }) => {
        const page = await listJobs(query, deps);
        return { status: 200, body: { ...page, items: page.items.map(jobView) } };
      },
    }),
    route({
      method: "GET",
      path: "/jobs/{id}",
      operationId: "getJob",
      summary: "One job, to poll until it leaves RUNNING",
      params: IdParams,
      responses: { 200: { description: "The job", body: JobViewSchema } },
      errors: { 404: "No job has this id" },
      handle: async ({ params }) => ({ status: 200, body: jobView(await getJob(params.id, deps)) }),
    }),
  ]);
}
