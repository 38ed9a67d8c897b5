import * as z from "zod";
import { CheckpointPatchSchema } from "../domain/checkpoint-edit.ts";
import { CheckpointQuerySchema } from "../domain/checkpoint-query.ts";
import { JobQuerySchema } from "../domain/job-query.ts";
import { knownFieldsOnly } from "../domain/known-fields.ts";
import { newId } from "../domain/ids.ts";
import type { Job } from "../domain/job.ts";
import { SimulationNameSchema } from "../domain/names.ts";
import { booleanParam } from "../domain/query-params.ts";
import { MaximumDurationSchema } from "../domain/restore.ts";
import {
  deleteCheckpoint,
  type DeleteCheckpointDeps,
} from "../usecases/catalog/delete-checkpoint.ts";
import { getJob, listJobs, type JobReadDeps } from "../usecases/catalog/list-jobs.ts";
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
import { route, type HttpResult, type Route } from "./router.ts";
import { checkpointEtag, jobView } from "./views.ts";

/** Every port the API's use cases need; the function wires the real ones, tests the fakes. */
export type ApiDeps = RequestSnapshotDeps &
  RequestStopDeps &
  RestoreDeps &
  RequestPruneDeps &
  DeleteCheckpointDeps &
  UpdateCheckpointDeps &
  ListSimulationsDeps &
  JobReadDeps;

const IdParams = z.object({
  id: z.string().min(1, "must not be empty").max(128, "must be at most 128 characters"),
});
const SimulationParams = z.object({ name: SimulationNameSchema });

/**
 * `Idempotency-Key`: the same key on a retried POST addresses the same job, so a client that
 * timed out can simply send the request again.
 */
const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "must be 1 to 128 printable ASCII characters without spaces")
    .optional(),
});

/** `If-Match: "<version>"` (the ETag of the checkpoint as read); `*` matches any version. */
const IfMatchHeaders = z.object({
  "if-match": z
    .string()
    .regex(/^(\*|(W\/)?"?\d{1,12}"?)$/, 'must be the ETag of the checkpoint as read, e.g. "3"')
    .transform((value) => (value === "*" ? undefined : Number(value.replace(/\D/g, ""))))
    .optional(),
});

const tags = z.array(z.string().trim().min(1, "must not be empty").max(128)).max(50);

const SnapshotBody = knownFieldsOnly(
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
});

const StopBody = knownFieldsOnly(
  {
    snapshot: z.boolean().default(true),
    force: z.boolean().default(false),
    reason: z.string().max(1024).optional(),
  },
  "is not a field of a stop request; use snapshot, force or reason",
);

const RestoreBody = knownFieldsOnly(
  {
    simulationName: SimulationNameSchema.optional(),
    maximumDuration: MaximumDurationSchema.optional(),
    description: z.string().max(500, "must be at most 500 characters").optional(),
  },
  "is not a field of a restore request; use simulationName, maximumDuration or description",
);

const PruneBody = knownFieldsOnly(
  {
    simulation: SimulationNameSchema.optional(),
    dryRun: z.boolean().default(true),
    force: z.boolean().default(false),
  },
  "is not a field of a prune request; use simulation, dryRun or force",
);

const DeleteQuery = knownFieldsOnly(
  { force: booleanParam.default(false) },
  "is not a query parameter of this route; use force",
);

/** 202 Accepted: the work goes on after the answer; the body is the job, `Location` where to poll it. */
const accepted = (job: Job): HttpResult => ({
  status: 202,
  body: jobView(job),
  headers: { location: `/jobs/${job.id}` },
});

/**
 * The catalog API's routes. Each one parses its input with its schemas, calls one use case and
 * maps the result: 200 for reads and edits, 202 for work that continues after the answer (the
 * body is the job to poll), errors through `toHttpError`.
 */
export function apiRoutes(deps: ApiDeps): Route[] {
  return [
    route({
      method: "GET",
      path: "/healthz",
      handle: async () => ({ status: 200, body: { status: "ok" } }),
    }),
    route({
      method: "GET",
      path: "/simulations",
      handle: async () => ({ status: 200, body: { items: await listSimulations(deps) } }),
    }),
    route({
      method: "POST",
      path: "/simulations/{name}/snapshots",
      params: SimulationParams,
      body: SnapshotBody,
      headers: IdempotencyHeaders,
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
      params: SimulationParams,
      body: StopBody,
      headers: IdempotencyHeaders,
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
      query: CheckpointQuerySchema,
      handle: async ({ query }) => ({ status: 200, body: await listCheckpoints(query, deps) }),
    }),
    route({
      method: "GET",
      path: "/checkpoints/{id}",
      params: IdParams,
      handle: async ({ params }) => {
        const checkpoint = await getCheckpoint(params.id, deps);
        return { status: 200, body: checkpoint, headers: { etag: checkpointEtag(checkpoint) } };
      },
    }),
    route({
      method: "PATCH",
      path: "/checkpoints/{id}",
      params: IdParams,
      body: CheckpointPatchSchema,
      headers: IfMatchHeaders,
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
      params: IdParams,
      query: DeleteQuery,
      handle: async ({ params, query }) => ({
        status: 200,
        body: await deleteCheckpoint(params.id, { force: query.force }, deps),
      }),
    }),
    route({
      method: "POST",
      path: "/checkpoints/{id}/restore",
      params: IdParams,
      body: RestoreBody,
      headers: IdempotencyHeaders,
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
      body: PruneBody,
      headers: IdempotencyHeaders,
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
      query: JobQuerySchema,
      handle: async ({ query }) => {
        const page = await listJobs(query, deps);
        return { status: 200, body: { ...page, items: page.items.map(jobView) } };
      },
    }),
    route({
      method: "GET",
      path: "/jobs/{id}",
      params: IdParams,
      handle: async ({ params }) => ({ status: 200, body: jobView(await getJob(params.id, deps)) }),
    }),
  ];
}
