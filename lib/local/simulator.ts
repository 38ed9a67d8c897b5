import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32, inflateRawSync } from "node:zlib";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ZipFile } from "yazl";
import * as z from "zod";
import { SimulationNameSchema } from "../domain/names.ts";
import { snapshotKey } from "../domain/snapshot-key.ts";
import type { SimulationStatus } from "../ports/simulation-provider.ts";
import { FaultDice, type FaultRate } from "./faults.ts";

/** How the simulator listens and how long its simulations take to change state. */
export interface SimulatorOptions {
  /** Where snapshot files are written and read back from (the local S3). */
  s3: S3Client;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** STARTING → STARTED. Default 1 s. */
  startDelayMs?: number;
  /** STOPPING → STOPPED, and DELETING → DELETED → gone. Default 1 s. */
  stopDelayMs?: number;
  /** SNAPSHOT_IN_PROGRESS → file written → STARTED. Default 3 s. */
  snapshotDelayMs?: number;
  /** One clock tick. Default 100 ms. */
  tickMs?: number;
  region?: string;
  account?: string;
  /**
   * Told of every successful StopSimulation and DeleteSimulation, as CloudTrail records them, so
   * the local runtime can put the "AWS API Call via CloudTrail" event AWS would deliver.
   */
  onApiCall?: (call: SimulatorApiCall) => void;
  /** Chaos mode from the start; `injectFaults` turns it on (or off) later. */
  faults?: FaultRate;
  /** Told of every fault injected, e.g. to print it. */
  onFault?: (fault: InjectedFault) => void;
}

/** The operations the simulator serves, by their model names. */
export type SimulatorOperation =
  | "CreateSnapshot"
  | "DescribeSimulation"
  | "ListSimulations"
  | "StartSimulation"
  | "StopSimulation"
  | "DeleteSimulation"
  | "ListTagsForResource";

/** The transient errors chaos mode answers with: a server fault, a throttle, a conflict. */
export type InjectableError =
  "InternalServerException" | "ThrottlingException" | "ConflictException";

/**
 * Which of the injectable errors each operation can really return. The official model
 * (simspaceweaver-2022-10-28, the `errors` of each operation) declares InternalServerException
 * for every operation here but ListTagsForResource, and ConflictException for CreateSnapshot,
 * StartSimulation, StopSimulation and DeleteSimulation only; ThrottlingException is declared by
 * none, being one of the errors common to every AWS API action (HTTP 400, per the API reference's
 * Common Errors).
 */
export const INJECTABLE_ERRORS: Readonly<
  Record<SimulatorOperation, readonly [InjectableError, ...InjectableError[]]>
> = {
  CreateSnapshot: ["InternalServerException", "ThrottlingException", "ConflictException"],
  DescribeSimulation: ["InternalServerException", "ThrottlingException"],
  ListSimulations: ["InternalServerException", "ThrottlingException"],
  StartSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  StopSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  DeleteSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  ListTagsForResource: ["ThrottlingException"],
};

/** Status and message of each injectable error, as the service sends them. */
const INJECTED: Record<InjectableError, { status: number; message: string }> = {
  InternalServerException: {
    status: 500,
    message: "An internal error occurred; try again (fault injected by the local simulator).",
  },
  ThrottlingException: {
    status: 400,
    message: "Rate exceeded (fault injected by the local simulator).",
  },
  ConflictException: {
    status: 409,
    message:
      "The simulation is busy with another request; try again (fault injected by the local simulator).",
  },
};

/** A fault chaos mode injected: which call got which error. */
export interface InjectedFault {
  operation: SimulatorOperation;
  error: InjectableError;
  status: number;
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

/** A state-changing call the simulator accepted, with CloudTrail's request parameters. */
export interface SimulatorApiCall {
  eventName: "StopSimulation" | "DeleteSimulation";
  eventTime: Date;
  requestParameters: { simulation: string };
}

/** What a test may set up directly, without going through StartSimulation. */
export interface SimulationSeed {
  status?: SimulationStatus;
  tick?: number;
  description?: string;
  maximumDuration?: string;
  creationTime?: Date;
  tags?: Record<string, string>;
}

/** The simulator's own view of one simulation, including what the API does not show (the tick). */
export interface SimulatedSimulation {
  name: string;
  arn: string;
  executionId: string;
  status: SimulationStatus;
  targetStatus: SimulationStatus;
  creationTime: Date;
  tick: number;
  startError?: string;
}

/** What a snapshot file holds (`state.json` in the zip); a restore starts from `tick`. */
export interface SnapshotState {
  simulation: string;
  executionId: string;
  tick: number;
  takenAt: string;
}

type SnapshotMode = { kind: "fail"; status: "STARTED" | "FAILED" } | { kind: "stall" };

interface Sim {
  seq: number;
  name: string;
  arn: string;
  executionId: string;
  creationTime: Date;
  status: SimulationStatus;
  targetStatus: SimulationStatus;
  roleArn: string;
  description?: string;
  maximumDuration: string;
  schema?: WeaverS3Location;
  snapshot?: WeaverS3Location;
  clientToken?: string;
  startError?: string;
  tags: Record<string, string>;
  tickBase: number;
  runMs: number;
  runningSince?: number;
  timer?: NodeJS.Timeout;
  /** Bumped on every status change, so a late timer or S3 call never overwrites a newer state. */
  generation: number;
  snapshotModes: SnapshotMode[];
}

interface WeaverS3Location {
  BucketName: string;
  ObjectKey: string;
}

class ServiceFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string) => new ServiceFault("ValidationException", 400, message);
const notFound = (name: string) =>
  new ServiceFault("ResourceNotFoundException", 404, `Simulation ${name} does not exist.`);

const RUNNING: ReadonlySet<SimulationStatus> = new Set(["STARTED", "SNAPSHOT_IN_PROGRESS"]);

const S3LocationSchema = z.object({
  BucketName: z.string().min(3).max(63),
  ObjectKey: z.string().min(1).max(1024),
});

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
    Name: SimulationNameSchema,
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

const CreateSnapshotBody = z.object({
  Simulation: SimulationNameSchema,
  Destination: z.object({
    BucketName: z.string().min(3).max(63),
    ObjectKeyPrefix: z.string().max(900).optional(),
  }),
});

const SimulationBody = z.object({ Simulation: SimulationNameSchema });

const SnapshotStateSchema = z.object({
  simulation: z.string(),
  executionId: z.string(),
  tick: z.number().int().nonnegative(),
  takenAt: z.string(),
});

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join(".") : "request"}: ${issue.message}`,
  );
  throw validation(
    `${issues.length} validation error${issues.length === 1 ? "" : "s"} detected: ${issues.join("; ")}`,
  );
}

const epochSeconds = (date: Date): number => date.getTime() / 1000;

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

function zipBuffer(entries: Record<string, string>, mtime: Date): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, content] of Object.entries(entries)) {
    zip.addBuffer(Buffer.from(content), name, { mtime });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("error", reject);
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Reads every file of a zip archive (stored or deflated, no ZIP64) and checks each one's CRC-32,
 * so a truncated or corrupt snapshot is refused rather than restored. It is what the simulator
 * reads snapshots back with, and what tests use to check the files it writes.
 */
export function readZipEntries(zip: Uint8Array): Map<string, Buffer> {
  const data = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  const fail = (why: string): never => {
    throw new Error(`Not a valid zip file: ${why}`);
  };
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) fail("no end of central directory record");
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (offset + 46 > data.length || data.readUInt32LE(offset) !== 0x02014b50) {
      fail(`bad central directory entry ${n}`);
    }
    const method = data.readUInt16LE(offset + 10);
    const crc = data.readUInt32LE(offset + 16);
    const compressedSize = data.readUInt32LE(offset + 20);
    const size = data.readUInt32LE(offset + 24);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const local = data.readUInt32LE(offset + 42);
    const name = data.toString("utf8", offset + 46, offset + 46 + nameLength);
    if (local + 30 > data.length || data.readUInt32LE(local) !== 0x04034b50) {
      fail(`bad local header for ${name}`);
    }
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    const raw = data.subarray(start, start + compressedSize);
    if (raw.length !== compressedSize) fail(`${name} is truncated`);
    const content =
      method === 0
        ? Buffer.from(raw)
        : method === 8
          ? inflateRawSync(raw)
          : fail(`${name} uses method ${method}`);
    if (content.length !== size || crc32(content) !== crc) fail(`${name} fails its CRC check`);
    entries.set(name, content);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * A SimSpace Weaver look-alike for local mode and integration tests: the seven operations simsnap
 * uses at the model's paths, with the service's rest-json shapes, status codes and error headers,
 * and simulations whose status moves on after realistic delays. Snapshots are real zip files in
 * the local S3, so the whole snapshot → catalog → restore chain runs without AWS. The methods
 * beyond the API (`createSimulation`, `setStatus`, `failNextSnapshot`, `stallNextSnapshot`,
 * `simulation`) let tests stage what the real service does on its own.
 */
export class LocalSimulator {
  /** Base URL to give `SimSpaceWeaverClient` as its endpoint. */
  readonly endpoint: string;
  private readonly simulations = new Map<string, Sim>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly timing: { start: number; stop: number; snapshot: number; tick: number };
  private sequence = 0;
  private dice?: FaultDice;

  private constructor(
    private readonly server: Server,
    private readonly options: SimulatorOptions,
  ) {
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.endpoint = `http://${host}:${address.port}`;
    this.timing = {
      start: options.startDelayMs ?? 1_000,
      stop: options.stopDelayMs ?? 1_000,
      snapshot: options.snapshotDelayMs ?? 3_000,
      tick: Math.max(1, options.tickMs ?? 100),
    };
    this.injectFaults(options.faults);
  }

  /** Starts listening; resolves once `endpoint` is reachable. */
  static async start(options: SimulatorOptions): Promise<LocalSimulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const simulator = new LocalSimulator(server, options);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      void simulator.handle(request, response);
    });
    return simulator;
  }

  /** Adds a simulation directly (default STARTED, tick 0), as if it had been started earlier. */
  createSimulation(name: string, seed: SimulationSeed = {}): SimulatedSimulation {
    const checked = parse(SimulationNameSchema, name);
    if (this.simulations.has(checked)) throw new Error(`Simulation ${checked} already exists`);
    const sim = this.newSim(checked, {
      roleArn: `arn:aws:iam::${this.account}:role/simsnap-simulator`,
      description: seed.description,
      maximumDuration: seed.maximumDuration ?? "14D",
      creationTime: seed.creationTime,
    });
    sim.tags = { ...seed.tags };
    sim.tickBase = seed.tick ?? 0;
    this.changeStatus(sim, seed.status ?? "STARTED");
    return this.view(sim);
  }

  /** What the simulator holds for `name`, tick included; undefined once it is gone. */
  simulation(name: string): SimulatedSimulation | undefined {
    const sim = this.simulations.get(name);
    return sim && this.view(sim);
  }

  /**
   * Forces a status, as the service does on its own (a crash → FAILED, an operator's stop →
   * STOPPED). Pending transitions and an in-flight snapshot of the simulation are abandoned.
   */
  setStatus(name: string, status: SimulationStatus, startError?: string): void {
    const sim = this.mustGet(name);
    sim.startError = startError;
    this.changeStatus(sim, status);
  }

  /**
   * Makes the next snapshot of `name` end without a file: the simulation returns to STARTED (or
   * becomes FAILED) after the usual delay, as when the service gives up on a snapshot.
   */
  failNextSnapshot(name: string, status: "STARTED" | "FAILED" = "STARTED"): void {
    this.mustGet(name).snapshotModes.push({ kind: "fail", status });
  }

  /** Makes the next snapshot of `name` stay SNAPSHOT_IN_PROGRESS until `setStatus` moves it on. */
  stallNextSnapshot(name: string): void {
    this.mustGet(name).snapshotModes.push({ kind: "stall" });
  }

  /**
   * Chaos mode: from now on a share `rate` of the calls to the API (seeded: the same seed gives the
   * same faults for the same calls) is answered with an error the operation can really return
   * (`INJECTABLE_ERRORS`), in the service's wire shape, before the call has any effect. Undefined
   * or a rate of 0 turns it off. The local runtime turns it on once its demo simulations run, so
   * only simsnap's own calls meet the faults.
   */
  injectFaults(faults: FaultRate | undefined): void {
    this.dice = faults && faults.rate > 0 ? new FaultDice(faults, "simspaceweaver") : undefined;
  }

  /** Stops listening and cancels every pending transition, after in-flight S3 calls settle. */
  async close(): Promise<void> {
    for (const sim of this.simulations.values()) clearTimeout(sim.timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    for (const sim of this.simulations.values()) clearTimeout(sim.timer);
  }

  private get region(): string {
    return this.options.region ?? "us-east-1";
  }

  private get account(): string {
    return this.options.account ?? "123456789012";
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
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
      const result = await this.route(request, url);
      this.send(response, 200, requestId, result);
    } catch (error) {
      const fault =
        error instanceof ServiceFault
          ? error
          : new ServiceFault("InternalServerException", 500, (error as Error).message);
      this.send(response, fault.status, requestId, { message: fault.message }, fault.code);
    }
  }

  private send(
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

  /** Throws the injected fault for this call, if chaos mode picks it, with its body read. */
  private async injectFault(name: SimulatorOperation, request: IncomingMessage): Promise<void> {
    if (!this.dice?.roll()) return;
    const error = this.dice.pick(INJECTABLE_ERRORS[name]);
    const { status, message } = INJECTED[error];
    for await (const chunk of request as AsyncIterable<Buffer>) void chunk;
    this.options.onFault?.({ operation: name, error, status });
    throw new ServiceFault(error, status, message);
  }

  private async route(request: IncomingMessage, url: URL): Promise<unknown> {
    const operation = `${request.method} ${url.pathname.replace(/\/+$/, "")}`;
    const name = operationOf(request.method, url.pathname.replace(/\/+$/, ""));
    if (name !== undefined) await this.injectFault(name, request);
    switch (operation) {
      case "POST /createsnapshot":
        return this.createSnapshot(parse(CreateSnapshotBody, await readRequestBody(request)));
      case "GET /describesimulation":
        return this.describe(this.queryName(url));
      case "GET /listsimulations":
        return this.list(url.searchParams.get("maxResults"), url.searchParams.get("nextToken"));
      case "POST /startsimulation":
        return this.start(parse(StartSimulationBody, await readRequestBody(request)));
      case "POST /stopsimulation": {
        const name = parse(SimulationBody, await readRequestBody(request)).Simulation;
        return this.recorded("StopSimulation", name, this.stop(name));
      }
      case "DELETE /deletesimulation": {
        const name = this.queryName(url);
        return this.recorded("DeleteSimulation", name, this.delete(name));
      }
      default:
        if (request.method === "GET" && url.pathname.startsWith("/tags/")) {
          return this.listTags(decodeURIComponent(url.pathname.slice("/tags/".length)));
        }
        throw new ServiceFault(
          "UnknownOperationException",
          404,
          `No operation at ${request.method} ${url.pathname}.`,
        );
    }
  }

  /** Tells `onApiCall` of an accepted call, after it succeeded, as CloudTrail would. */
  private recorded(
    eventName: SimulatorApiCall["eventName"],
    simulation: string,
    result: unknown,
  ): unknown {
    this.options.onApiCall?.({
      eventName,
      eventTime: new Date(),
      requestParameters: { simulation },
    });
    return result;
  }

  private listTags(arn: string): unknown {
    const sim = [...this.simulations.values()].find((s) => s.arn === arn);
    if (!sim) {
      throw new ServiceFault("ResourceNotFoundException", 404, `Resource ${arn} does not exist.`);
    }
    return { Tags: sim.tags };
  }

  private queryName(url: URL): string {
    return parse(z.object({ simulation: SimulationNameSchema }), {
      simulation: url.searchParams.get("simulation") ?? undefined,
    }).simulation;
  }

  private describe(name: string): unknown {
    const sim = this.mustGet(name);
    return {
      Name: sim.name,
      Arn: sim.arn,
      Status: sim.status,
      TargetStatus: sim.targetStatus,
      ExecutionId: sim.executionId,
      CreationTime: epochSeconds(sim.creationTime),
      Description: sim.description,
      MaximumDuration: sim.maximumDuration,
      RoleArn: sim.roleArn,
      SchemaS3Location: sim.schema,
      SnapshotS3Location: sim.snapshot,
      StartError: sim.startError,
      LiveSimulationState: {
        Clocks: [
          {
            Status: RUNNING.has(sim.status)
              ? "STARTED"
              : sim.status === "STARTING"
                ? "STARTING"
                : "STOPPED",
            TargetStatus: sim.targetStatus === "STARTED" ? "STARTED" : "STOPPED",
          },
        ],
        Domains: [],
      },
    };
  }

  private list(maxResults: string | null, nextToken: string | null): unknown {
    let limit = 100;
    if (maxResults !== null) {
      limit = Number(maxResults);
      if (!/^\d+$/.test(maxResults) || limit < 1) {
        throw validation(
          `maxResults must be a positive integer, got ${JSON.stringify(maxResults)}.`,
        );
      }
    }
    let after = 0;
    if (nextToken !== null) {
      const decoded = /^seq:(\d+)$/.exec(Buffer.from(nextToken, "base64url").toString("utf8"));
      if (!decoded?.[1]) throw validation("The nextToken is not valid.");
      after = Number(decoded[1]);
    }
    const remaining = [...this.simulations.values()]
      .filter((sim) => sim.seq > after)
      .sort((a, b) => a.seq - b.seq);
    const page = remaining.slice(0, limit);
    const last = page.at(-1);
    return {
      Simulations: page.map((sim) => ({
        Name: sim.name,
        Arn: sim.arn,
        Status: sim.status,
        TargetStatus: sim.targetStatus,
        CreationTime: epochSeconds(sim.creationTime),
      })),
      NextToken:
        remaining.length > limit && last
          ? Buffer.from(`seq:${last.seq}`).toString("base64url")
          : undefined,
    };
  }

  private start(body: z.output<typeof StartSimulationBody>): unknown {
    const existing = this.simulations.get(body.Name);
    if (existing) {
      if (body.ClientToken !== undefined && existing.clientToken === body.ClientToken) {
        return this.startOutput(existing);
      }
      throw validation(`A simulation named ${body.Name} already exists.`);
    }
    const sim = this.newSim(body.Name, {
      roleArn: body.RoleArn,
      description: body.Description,
      maximumDuration: body.MaximumDuration ?? "14D",
    });
    sim.schema = body.SchemaS3Location;
    sim.snapshot = body.SnapshotS3Location;
    sim.tags = { ...body.Tags };
    sim.clientToken = body.ClientToken;
    this.changeStatus(sim, "STARTING");
    const generation = sim.generation;
    this.later(sim, this.timing.start, () => this.finishStart(sim, generation));
    return this.startOutput(sim);
  }

  private startOutput(sim: Sim): unknown {
    return {
      Arn: sim.arn,
      CreationTime: epochSeconds(sim.creationTime),
      ExecutionId: sim.executionId,
    };
  }

  private async finishStart(sim: Sim, generation: number): Promise<void> {
    if (sim.snapshot) {
      const location = sim.snapshot;
      try {
        const state = await this.readSnapshot(location);
        if (sim.generation !== generation) return;
        sim.tickBase = state.tick;
      } catch (error) {
        if (sim.generation !== generation) return;
        sim.startError = `Could not load snapshot s3://${location.BucketName}/${location.ObjectKey}: ${
          (error as Error).message
        }`;
        this.changeStatus(sim, "FAILED", "STARTED");
        return;
      }
    }
    this.changeStatus(sim, "STARTED");
  }

  private async readSnapshot(location: WeaverS3Location): Promise<SnapshotState> {
    const object = await this.options.s3.send(
      new GetObjectCommand({ Bucket: location.BucketName, Key: location.ObjectKey }),
    );
    const bytes = await object.Body?.transformToByteArray();
    if (!bytes) throw new Error("the object is empty");
    const state = readZipEntries(bytes).get("state.json");
    if (!state) throw new Error("state.json is missing from the snapshot");
    return SnapshotStateSchema.parse(JSON.parse(state.toString("utf8")));
  }

  private createSnapshot(body: z.output<typeof CreateSnapshotBody>): unknown {
    const sim = this.mustGet(body.Simulation);
    if (sim.status === "SNAPSHOT_IN_PROGRESS") {
      throw new ServiceFault(
        "ConflictException",
        409,
        `A snapshot of simulation ${sim.name} is already in progress.`,
      );
    }
    if (sim.status !== "STARTED") {
      throw validation(
        `Simulation ${sim.name} is ${sim.status}; a snapshot needs a STARTED simulation.`,
      );
    }
    const requestedAt = new Date();
    const state: SnapshotState = {
      simulation: sim.name,
      executionId: sim.executionId,
      tick: this.tickOf(sim),
      takenAt: requestedAt.toISOString(),
    };
    const location = {
      bucket: body.Destination.BucketName,
      key: snapshotKey(body.Destination.ObjectKeyPrefix ?? "", sim.name, requestedAt),
    };
    this.changeStatus(sim, "SNAPSHOT_IN_PROGRESS", "STARTED");
    const generation = sim.generation;
    const mode = sim.snapshotModes.shift();
    if (mode?.kind === "stall") return {};
    this.later(sim, this.timing.snapshot, async () => {
      if (mode?.kind === "fail") {
        this.changeStatus(sim, mode.status, "STARTED");
        return;
      }
      try {
        await this.options.s3.send(
          new PutObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            Body: await zipBuffer({ "state.json": JSON.stringify(state, null, 2) }, requestedAt),
            ContentType: "application/zip",
          }),
        );
      } finally {
        if (sim.generation === generation) this.changeStatus(sim, "STARTED");
      }
    });
    return {};
  }

  private stop(name: string): unknown {
    const sim = this.mustGet(name);
    if (sim.status === "STOPPING" || sim.status === "STOPPED") return {};
    if (sim.status === "DELETING" || sim.status === "DELETED") {
      throw validation(`Simulation ${name} is ${sim.status} and cannot be stopped.`);
    }
    this.changeStatus(sim, "STOPPING", "STOPPED");
    this.later(sim, this.timing.stop, () => this.changeStatus(sim, "STOPPED"));
    return {};
  }

  private delete(name: string): unknown {
    const sim = this.mustGet(name);
    if (sim.status === "DELETING" || sim.status === "DELETED") return {};
    this.changeStatus(sim, "DELETING", "DELETED");
    this.later(sim, this.timing.stop, () => {
      this.changeStatus(sim, "DELETED");
      this.later(sim, this.timing.stop, () => {
        if (this.simulations.get(sim.name) === sim) this.simulations.delete(sim.name);
      });
    });
    return {};
  }

  private newSim(
    name: string,
    fields: { roleArn: string; description?: string; maximumDuration: string; creationTime?: Date },
  ): Sim {
    const sim: Sim = {
      seq: ++this.sequence,
      name,
      arn: `arn:aws:simspaceweaver:${this.region}:${this.account}:simulation/${name}`,
      executionId: randomUUID(),
      creationTime: fields.creationTime ?? new Date(),
      status: "UNKNOWN",
      targetStatus: "STARTED",
      roleArn: fields.roleArn,
      description: fields.description,
      maximumDuration: fields.maximumDuration,
      tags: {},
      tickBase: 0,
      runMs: 0,
      generation: 0,
      snapshotModes: [],
    };
    this.simulations.set(name, sim);
    return sim;
  }

  private mustGet(name: string): Sim {
    const sim = this.simulations.get(name);
    if (!sim) throw notFound(name);
    return sim;
  }

  private tickOf(sim: Sim): number {
    const running = sim.runningSince === undefined ? 0 : Date.now() - sim.runningSince;
    return sim.tickBase + Math.floor((sim.runMs + running) / this.timing.tick);
  }

  /** Moves a simulation to `status`; the clock runs only while STARTED or SNAPSHOT_IN_PROGRESS. */
  private changeStatus(sim: Sim, status: SimulationStatus, targetStatus?: SimulationStatus): void {
    clearTimeout(sim.timer);
    sim.timer = undefined;
    const now = Date.now();
    if (sim.runningSince !== undefined && !RUNNING.has(status)) {
      sim.runMs += now - sim.runningSince;
      sim.runningSince = undefined;
    } else if (sim.runningSince === undefined && RUNNING.has(status)) {
      sim.runningSince = now;
    }
    sim.status = status;
    sim.targetStatus = targetStatus ?? defaultTarget(status, sim.targetStatus);
    sim.generation++;
  }

  /** Runs `step` after `ms` unless the simulation changes status first. */
  private later(sim: Sim, ms: number, step: () => void | Promise<void>): void {
    const generation = sim.generation;
    sim.timer = setTimeout(() => {
      sim.timer = undefined;
      if (sim.generation !== generation) return;
      const task = Promise.resolve()
        .then(step)
        .catch(() => undefined)
        .finally(() => this.tasks.delete(task));
      this.tasks.add(task);
    }, ms);
  }

  private view(sim: Sim): SimulatedSimulation {
    const view: SimulatedSimulation = {
      name: sim.name,
      arn: sim.arn,
      executionId: sim.executionId,
      status: sim.status,
      targetStatus: sim.targetStatus,
      creationTime: sim.creationTime,
      tick: this.tickOf(sim),
    };
    if (sim.startError !== undefined) view.startError = sim.startError;
    return view;
  }
}

function defaultTarget(status: SimulationStatus, previous: SimulationStatus): SimulationStatus {
  switch (status) {
    case "STARTING":
    case "STARTED":
    case "SNAPSHOT_IN_PROGRESS":
      return "STARTED";
    case "STOPPING":
    case "STOPPED":
      return "STOPPED";
    case "DELETING":
    case "DELETED":
      return "DELETED";
    default:
      return previous;
  }
}

/** Starts the simulator on loopback; the local runtime and the integration tests share it. */
export const startSimulator = (options: SimulatorOptions): Promise<LocalSimulator> =>
  LocalSimulator.start(options);
