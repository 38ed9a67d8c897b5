import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";
import { SimSpaceWeaverNameSchema } from "../domain/names.ts";

/** The operations the simulator serves, by their model names. */
export type SimulatorOperation =
  | "CreateSnapshot"
  | "DescribeSimulation"
  | "ListSimulations"
  | "StartSimulation"
  | "StopSimulation"
  | "DeleteSimulation"
  | "ListTagsForResource";

/**
 * An error as the service sends it: the `x-amzn-errortype` code and the HTTP status the SDK maps
 * to a typed exception, so simsnap's error handling meets the same shapes it gets from AWS.
 */
export class ServiceFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The service's answer to a request it refuses as malformed or not allowed in this state. */
export const validation = (message: string): ServiceFault =>
  new ServiceFault("ValidationException", 400, message);

/** The service's answer for a simulation it does not know. */
export const notFound = (name: string): ServiceFault =>
  new ServiceFault("ResourceNotFoundException", 404, `Simulation ${name} does not exist.`);

const S3LocationSchema = z.object({
  BucketName: z.string().min(3).max(63),
  ObjectKey: z.string().min(1).max(1024),
});

/** A schema or snapshot location in the service's own shape, as StartSimulation takes it. */
export type WeaverS3Location = z.output<typeof S3LocationSchema>;

const MAX_DURATION_MINUTES = 14 * 24 * 60;
const MaximumDurationSchema = z
  .string()
  .regex(/^\d{1,5}[DdHhMm]$/, "must be a number of minutes (m), hours (h) or days (d), e.g. 14D")
  .refine((value) => {
    const amount = Number(value.slice(0, -1));
    const unit = value.slice(-1).toUpperCase();
    const minutes = unit === "D" ? amount * 1440 : unit === "H" ? amount * 60 : amount;
    return minutes <= MAX_DURATION_MINUTES;
  }, "must be at most 14D");

const StartSimulationBody = z
  .object({
    Name: SimSpaceWeaverNameSchema,
    RoleArn: z
      .string()
      .regex(
        /^arn:(?:aws|aws-cn|aws-us-gov):iam::(\d{12})?:role\/(.+)$/,
        "must be an IAM role ARN",
      ),
    SchemaS3Location: S3LocationSchema.optional(),
    SnapshotS3Location: S3LocationSchema.optional(),
    MaximumDuration: MaximumDurationSchema.optional(),
    Description: z.string().max(500).optional(),
    ClientToken: z.string().min(1).max(128).optional(),
    Tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
  })
  .refine(
    (body) => (body.SchemaS3Location === undefined) !== (body.SnapshotS3Location === undefined),
    "provide either SchemaS3Location or SnapshotS3Location, not both and not neither",
  );

/** A StartSimulation request body, checked as the service checks it. */
export type StartSimulationRequest = z.output<typeof StartSimulationBody>;

const CreateSnapshotBody = z.object({
  Simulation: SimSpaceWeaverNameSchema,
  Destination: z.object({
    BucketName: z.string().min(3).max(63),
    ObjectKeyPrefix: z.string().max(900).optional(),
  }),
});

/** A CreateSnapshot request body, checked as the service checks it. */
export type CreateSnapshotRequest = z.output<typeof CreateSnapshotBody>;

const SimulationBody = z.object({ Simulation: SimSpaceWeaverNameSchema });

/** Parses `value` or throws the service's ValidationException listing every issue. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join(".") : "request"}: ${issue.message}`,
  );
  throw validation(
    `${issues.length} validation error${issues.length === 1 ? "" : "s"} detected: ${issues.join("; ")}`,
  );
}

/**
 * What the wire layer hands each operation, parsed and validated: the state behind the API is
 * kept apart from the protocol, so either can change without the other.
 */
export interface OperationHandlers {
  createSnapshot(body: CreateSnapshotRequest): unknown;
  describeSimulation(name: string): unknown;
  listSimulations(maxResults: string | null, nextToken: string | null): unknown;
  startSimulation(body: StartSimulationRequest): unknown;
  stopSimulation(name: string): unknown;
  deleteSimulation(name: string): unknown;
  listTagsForResource(arn: string): unknown;
}

/** The model operation a request addresses, from its method and path; undefined when none. */
function operationOf(method: string | undefined, path: string): SimulatorOperation | undefined {
  switch (`${method} ${path}`) {
    case "POST /createsnapshot":
      return "CreateSnapshot";
    case "GET /describesimulation":
      return "DescribeSimulation";
    case "GET /listsimulations":
      return "ListSimulations";
    case "POST /startsimulation":
      return "StartSimulation";
    case "POST /stopsimulation":
      return "StopSimulation";
    case "DELETE /deletesimulation":
      return "DeleteSimulation";
    default:
      return method === "GET" && path.startsWith("/tags/") ? "ListTagsForResource" : undefined;
  }
}

/**
 * SigV4 scope is `<key>/<date>/<region>/<service>/aws4_request`, in the Authorization header or a
 * presigned URL's `X-Amz-Credential`. Only the scope is checked: enough to catch a client signing
 * for the wrong service (or not at all), without sharing secrets with the simulator.
 */
function signedForService(request: IncomingMessage, url: URL): boolean {
  const authorization = request.headers.authorization ?? "";
  const credential =
    /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)/.exec(authorization)?.[1] ??
    url.searchParams.get("X-Amz-Credential") ??
    "";
  const scope = credential.split("/");
  return scope.length === 5 && scope[3] === "simspaceweaver" && scope[4] === "aws4_request";
}

async function readRequestBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_048_576) throw validation("Request body is larger than 1 MiB.");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw validation("Request body is not valid JSON.");
  }
}

const queryName = (url: URL): string =>
  parse(z.object({ simulation: SimSpaceWeaverNameSchema }), {
    simulation: url.searchParams.get("simulation") ?? undefined,
  }).simulation;

/**
 * Answers one HTTP request the way SimSpace Weaver's rest-json endpoint does: checks the SigV4
 * scope, routes the model's paths to `handlers` with validated input, and writes the result or
 * the error with the service's status codes and error headers. `beforeOperation` runs once the
 * operation is known and before anything is read or changed (chaos mode throws from it).
 */
export async function serveRequest(
  request: IncomingMessage,
  response: ServerResponse,
  handlers: OperationHandlers,
  beforeOperation: (name: SimulatorOperation, request: IncomingMessage) => Promise<void>,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const url = new URL(request.url ?? "/", "http://simulator");
    if (!signedForService(request, url)) {
      throw new ServiceFault(
        "AccessDeniedException",
        403,
        "Missing or invalid SigV4 Authorization: the credential scope must name service simspaceweaver.",
      );
    }
    const result = await route(request, url, handlers, beforeOperation);
    send(response, 200, requestId, result);
  } catch (error) {
    const fault =
      error instanceof ServiceFault
        ? error
        : new ServiceFault("InternalServerException", 500, (error as Error).message);
    send(response, fault.status, requestId, { message: fault.message }, fault.code);
  }
}

function send(
  response: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  errorType?: string,
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId,
  };
  if (errorType) {
    headers["x-amzn-errortype"] =
      `${errorType}:http://internal.amazon.com/coral/com.amazonaws.simspaceweaver/`;
  }
  response.writeHead(status, headers);
  response.end(text);
}

async function route(
  request: IncomingMessage,
  url: URL,
  handlers: OperationHandlers,
  beforeOperation: (name: SimulatorOperation, request: IncomingMessage) => Promise<void>,
): Promise<unknown> {
  const operation = `${request.method} ${url.pathname.replace(/\/+$/, "")}`;
  const name = operationOf(request.method, url.pathname.replace(/\/+$/, ""));
  if (name !== undefined) await beforeOperation(name, request);
  switch (operation) {
    case "POST /createsnapshot":
      return handlers.createSnapshot(parse(CreateSnapshotBody, await readRequestBody(request)));
    case "GET /describesimulation":
      return handlers.describeSimulation(queryName(url));
    case "GET /listsimulations":
      return handlers.listSimulations(
        url.searchParams.get("maxResults"),
        url.searchParams.get("nextToken"),
      );
    case "POST /startsimulation":
      return handlers.startSimulation(parse(StartSimulationBody, await readRequestBody(request)));
    case "POST /stopsimulation":
      return handlers.stopSimulation(
        parse(SimulationBody, await readRequestBody(request)).Simulation,
      );
    case "DELETE /deletesimulation":
      return handlers.deleteSimulation(queryName(url));
    default:
      if (request.method === "GET" && url.pathname.startsWith("/tags/")) {
        return handlers.listTagsForResource(
          decodeURIComponent(url.pathname.slice("/tags/".length)),
        );
      }
      throw new ServiceFault(
        "UnknownOperationException",
        404,
        `No operation at ${request.method} ${url.pathname}.`,
      );
  }
}
