import { randomUUID } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpRequest, type HttpHandler, type HttpResponse } from "@smithy/protocol-http";
import { SignatureV4, type SignatureV4Init } from "@smithy/signature-v4";
import { ProviderError } from "../../domain/errors.ts";
import { parseJsonOrUndefined } from "../lenient-json.ts";

/** Statuses from the model; `string` stays open because the service may add new ones. */
export type SimulationStatus =
  | "UNKNOWN"
  | "STARTING"
  | "STARTED"
  | "STOPPING"
  | "STOPPED"
  | "FAILED"
  | "DELETING"
  | "DELETED"
  | "SNAPSHOT_IN_PROGRESS"
  | (string & {});

/** Target statuses from the model, open for the same reason as `SimulationStatus`. */
export type SimulationTargetStatus = "UNKNOWN" | "STARTED" | "STOPPED" | "DELETED" | (string & {});

/** The model's `S3Location`: schemas and snapshots are addressed by bucket and key. */
export interface S3Location {
  BucketName: string;
  ObjectKey: string;
}

/** Input of `CreateSnapshot`; the service appends `snapshot/<name>-<time>.zip` to the prefix. */
export interface CreateSnapshotInput {
  Simulation: string;
  Destination: { BucketName: string; ObjectKeyPrefix?: string };
}

/** Input of the operations that only name a simulation. */
export interface SimulationInput {
  Simulation: string;
}

/** Input of `ListSimulations`; `NextToken` comes from the previous page. */
export interface ListSimulationsInput {
  MaxResults?: number;
  NextToken?: string;
}

/** One simulation as `ListSimulations` reports it. */
export interface SimulationMetadata {
  Name?: string;
  Arn?: string;
  Status?: SimulationStatus;
  TargetStatus?: SimulationTargetStatus;
  CreationTime?: Date;
}

/** One page of `ListSimulations`; no `NextToken` on the last page. */
export interface ListSimulationsOutput {
  Simulations?: SimulationMetadata[];
  NextToken?: string;
}

/** Output of `DescribeSimulation`, with the model's field names and dates as `Date`. */
export interface DescribeSimulationOutput {
  Name?: string;
  Arn?: string;
  Status?: SimulationStatus;
  TargetStatus?: SimulationTargetStatus;
  CreationTime?: Date;
  Description?: string;
  ExecutionId?: string;
  MaximumDuration?: string;
  RoleArn?: string;
  SchemaS3Location?: S3Location;
  SnapshotS3Location?: S3Location;
  StartError?: string;
  /** Deprecated by the service in favour of `StartError`; kept because old simulations set it. */
  SchemaError?: string;
  LiveSimulationState?: {
    Clocks?: { Status?: string; TargetStatus?: string }[];
    Domains?: { Name?: string; Lifecycle?: string }[];
  };
  LoggingConfiguration?: {
    Destinations?: { CloudWatchLogsLogGroup?: { LogGroupArn?: string } }[];
  };
}

/** Input of `StartSimulation`: a schema or a snapshot, not both. */
export interface StartSimulationInput {
  Name: string;
  RoleArn: string;
  SchemaS3Location?: S3Location;
  SnapshotS3Location?: S3Location;
  MaximumDuration?: string;
  Description?: string;
  /** Idempotency token; generated per call when absent, as the AWS SDK does. */
  ClientToken?: string;
  Tags?: Record<string, string>;
}

/** Input of `ListTagsForResource`: the resource (a simulation) by ARN. */
export interface ListTagsForResourceInput {
  ResourceArn: string;
}

/** Output of `ListTagsForResource`. */
export interface ListTagsForResourceOutput {
  Tags?: Record<string, string>;
}

/** Output of `StartSimulation`. */
export interface StartSimulationOutput {
  Arn?: string;
  CreationTime?: Date;
  ExecutionId?: string;
}

/** The part of an HTTP handler the client uses, so tests can record requests with a plain object. */
export type SimSpaceWeaverRequestHandler = Pick<HttpHandler, "handle" | "destroy">;

/** How to reach and authenticate to SimSpace Weaver; everything but the region has a default. */
export interface SimSpaceWeaverClientOptions {
  region: string;
  /** Defaults to `https://simspaceweaver.<region>.amazonaws.com`; the local simulator sets it. */
  endpoint?: string;
  /** Defaults to the Node credential chain (environment, profile, container, instance role). */
  credentials?: SignatureV4Init["credentials"];
  /** Defaults to a `NodeHttpHandler`. */
  requestHandler?: SimSpaceWeaverRequestHandler;
}

const SERVICE = "simspaceweaver";
const THROTTLING_CODES = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "Throttling",
  "RequestLimitExceeded",
]);

/**
 * An error answered by SimSpace Weaver itself. `code` is the exception name from the model
 * (`ConflictException`, `ValidationException`, …) and the message is the service's own, so a
 * failed job shows the user exactly what the service said.
 */
export class SimSpaceWeaverServiceError extends ProviderError {
  /** The service's request id, for a support case. */
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { status: number; requestId?: string; cause?: unknown },
  ) {
    super(code, message, {
      status: options.status,
      retryable: options.status >= 500 || options.status === 429 || THROTTLING_CODES.has(code),
      cause: options.cause,
    });
    this.requestId = options.requestId;
  }
}

type Query = Record<string, string>;

interface Call {
  operation: string;
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
}

const toDate = (value: unknown): Date | undefined => {
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value === "string" && value !== "") {
    const date = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
};

const withDate = <T extends { CreationTime?: unknown }>(value: T): T & { CreationTime?: Date } => {
  const { CreationTime, ...rest } = value;
  const date = toDate(CreationTime);
  return (date === undefined ? rest : { ...rest, CreationTime: date }) as T & {
    CreationTime?: Date;
  };
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

async function readBody(body: unknown): Promise<string> {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<string | Uint8Array>) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  throw new TypeError(`Unsupported response body type ${typeof body}`);
}

const header = (response: HttpResponse, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
};

/** rest-json error names arrive as `Name:uri` in the header or `namespace#Name` in the body. */
const errorName = (raw: string): string => {
  const beforeColon = raw.split(":")[0] ?? raw;
  return beforeColon.slice(beforeColon.lastIndexOf("#") + 1).trim();
};

/**
 * A small typed client for the seven SimSpace Weaver operations simsnap calls. The service's AWS SDK
 * package is no longer published, so this speaks its rest-json protocol directly: requests shaped
 * as the official model says, signed with the SDK's own SigV4 signer and credential chain, sent
 * through the SDK's HTTP handler.
 */
export class SimSpaceWeaverClient {
  private readonly endpoint: URL;
  private readonly signer: SignatureV4;
  private readonly handler: SimSpaceWeaverRequestHandler;

  constructor(options: SimSpaceWeaverClientOptions) {
    this.endpoint = new URL(
      options.endpoint ?? `https://${SERVICE}.${options.region}.amazonaws.com`,
    );
    this.signer = new SignatureV4({
      service: SERVICE,
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
    this.handler =
      options.requestHandler ??
      new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 });
  }

  /** Asks for a snapshot; the call returns at once and the file appears when the status is back. */
  async createSnapshot(input: CreateSnapshotInput): Promise<Record<string, never>> {
    await this.send({
      operation: "CreateSnapshot",
      method: "POST",
      path: "/createsnapshot",
      body: { Simulation: input.Simulation, Destination: input.Destination },
    });
    return {};
  }

  /** The current state of one simulation, including the `ExecutionId` of its run. */
  async describeSimulation(input: SimulationInput): Promise<DescribeSimulationOutput> {
    const output = await this.send({
      operation: "DescribeSimulation",
      method: "GET",
      path: "/describesimulation",
      query: { simulation: input.Simulation },
    });
    return withDate(output) as DescribeSimulationOutput;
  }

  /** One page of the account's simulations; see `paginateSimulations` for all of them. */
  async listSimulations(input: ListSimulationsInput = {}): Promise<ListSimulationsOutput> {
    const query: Query = {};
    if (input.MaxResults !== undefined) query.maxResults = String(input.MaxResults);
    if (input.NextToken !== undefined) query.nextToken = input.NextToken;
    const output = await this.send({
      operation: "ListSimulations",
      method: "GET",
      path: "/listsimulations",
      query,
    });
    const simulations = Array.isArray(output.Simulations) ? output.Simulations : [];
    const page: ListSimulationsOutput = {
      Simulations: simulations.filter(isRecord).map((s) => withDate(s) as SimulationMetadata),
    };
    if (typeof output.NextToken === "string" && output.NextToken !== "") {
      page.NextToken = output.NextToken;
    }
    return page;
  }

  /**
   * Every page of `ListSimulations`, following `NextToken` to the end. A token repeated by the
   * service would loop forever, so it is an error, as in the AWS SDK's paginators.
   */
  async *paginateSimulations(
    input: Omit<ListSimulationsInput, "NextToken"> = {},
  ): AsyncGenerator<ListSimulationsOutput, void, undefined> {
    let token: string | undefined;
    do {
      const page = await this.listSimulations({ ...input, NextToken: token });
      yield page;
      if (page.NextToken !== undefined && page.NextToken === token) {
        throw new ProviderError(
          "InvalidPagination",
          `ListSimulations returned the same NextToken twice (${token})`,
          { status: 502 },
        );
      }
      token = page.NextToken;
    } while (token !== undefined);
  }

  /** Starts a new simulation from a schema or, to restore, from a snapshot file. */
  async startSimulation(input: StartSimulationInput): Promise<StartSimulationOutput> {
    const output = await this.send({
      operation: "StartSimulation",
      method: "POST",
      path: "/startsimulation",
      body: { ...input, ClientToken: input.ClientToken ?? randomUUID() },
    });
    return withDate(output) as StartSimulationOutput;
  }

  /** Stops a simulation for good: the service cannot restart it. */
  async stopSimulation(input: SimulationInput): Promise<Record<string, never>> {
    await this.send({
      operation: "StopSimulation",
      method: "POST",
      path: "/stopsimulation",
      body: { Simulation: input.Simulation },
    });
    return {};
  }

  /** Removes a simulation's service resources (not its snapshot files). */
  async deleteSimulation(input: SimulationInput): Promise<Record<string, never>> {
    await this.send({
      operation: "DeleteSimulation",
      method: "DELETE",
      path: "/deletesimulation",
      query: { simulation: input.Simulation },
    });
    return {};
  }

  /** The AWS tags of a resource; schedule selectors match simulations on them. */
  async listTagsForResource(input: ListTagsForResourceInput): Promise<ListTagsForResourceOutput> {
    const output = await this.send({
      operation: "ListTagsForResource",
      method: "GET",
      path: `/tags/${encodeURIComponent(input.ResourceArn)}`,
    });
    const tags = isRecord(output.Tags) ? output.Tags : {};
    return {
      Tags: Object.fromEntries(
        Object.entries(tags).filter(
          (entry): entry is [string, string] => typeof entry[1] === "string",
        ),
      ),
    };
  }

  /** Closes the handler's pooled connections, like `destroy()` on an AWS SDK client. */
  destroy(): void {
    this.handler.destroy?.();
  }

  private async send(call: Call): Promise<Record<string, unknown>> {
    const base = this.endpoint.pathname.replace(/\/+$/, "");
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers: Record<string, string> = { host: this.endpoint.host };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const request = new HttpRequest({
      method: call.method,
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname,
      port: this.endpoint.port === "" ? undefined : Number(this.endpoint.port),
      path: `${base}${call.path}`,
      query: call.query ?? {},
      headers,
      body,
    });
    const signed = await this.signer.sign(request);

    let response: HttpResponse;
    let text: string;
    try {
      ({ response } = await this.handler.handle(signed as HttpRequest));
      text = await readBody(response.body);
    } catch (error) {
      throw new ProviderError(
        "NetworkError",
        `SimSpace Weaver ${call.operation} request to ${this.endpoint.host} failed: ${
          (error as Error).message ?? String(error)
        }`,
        { status: 503, retryable: true, cause: error },
      );
    }

    const parsed = parseJsonOrUndefined(text);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      if (parsed === undefined && text.trim() !== "") {
        throw new ProviderError(
          "InvalidResponse",
          `SimSpace Weaver ${call.operation} answered ${response.statusCode} with a body that is not JSON`,
          { status: 502 },
        );
      }
      return isRecord(parsed) ? parsed : {};
    }
    throw toServiceError(response, parsed, call.operation);
  }
}

function toServiceError(
  response: HttpResponse,
  parsed: unknown,
  operation: string,
): SimSpaceWeaverServiceError {
  const body = isRecord(parsed) ? parsed : {};
  const rawName =
    header(response, "x-amzn-errortype") ??
    (typeof body.__type === "string" ? body.__type : undefined) ??
    (typeof body.code === "string" ? body.code : undefined);
  const code =
    rawName !== undefined && errorName(rawName) !== ""
      ? errorName(rawName)
      : `Http${response.statusCode}Error`;
  const rawMessage = body.message ?? body.Message;
  const message =
    typeof rawMessage === "string" && rawMessage !== ""
      ? rawMessage
      : `SimSpace Weaver ${operation} failed with HTTP ${response.statusCode}`;
  return new SimSpaceWeaverServiceError(code, message, {
    status: response.statusCode,
    requestId: header(response, "x-amzn-requestid"),
  });
}
