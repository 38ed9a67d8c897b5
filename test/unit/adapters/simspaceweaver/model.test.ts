import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { HttpResponse, type HttpRequest } from "@smithy/protocol-http";
import { describe, expect, it } from "vitest";
import {
  SimSpaceWeaverClient,
  SimSpaceWeaverServiceError,
  type SimSpaceWeaverRequestHandler,
} from "../../../../lib/adapters/simspaceweaver/client.ts";
import { ProviderError } from "../../../../lib/domain/errors.ts";

/** The official model, copied from the shared reference folder so a clean clone has it. */
const MODEL_PATH = resolve(
  import.meta.dirname,
  "../../../fixtures/simspaceweaver-2022-10-28.min.json",
);

interface ModelMember {
  location?: string;
  locationName?: string;
  type?: string;
  shape?: string;
  members?: Record<string, ModelMember>;
}
interface ModelStructure {
  required?: string[];
  members: Record<string, ModelMember>;
}
interface ModelOperation {
  http: { method?: string; requestUri: string; responseCode: number };
  input: ModelStructure;
  output: ModelStructure;
}
interface Model {
  metadata: { protocol: string; signingName: string };
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelStructure>;
}

const model = JSON.parse(readFileSync(MODEL_PATH, "utf8")) as Model;

/** Members of a structure member, whether inline or through a shared shape. */
const membersOf = (member: ModelMember): Record<string, ModelMember> =>
  member.members ?? (member.shape ? (model.shapes[member.shape]?.members ?? {}) : {});

interface Recorded {
  requests: HttpRequest[];
  handler: SimSpaceWeaverRequestHandler;
}

/** A transport stub: records each request and answers with the next canned response. */
function recorder(
  ...responses: { status?: number; headers?: Record<string, string>; body?: unknown }[]
): Recorded {
  const requests: HttpRequest[] = [];
  return {
    requests,
    handler: {
      async handle(request) {
        requests.push(request);
        const next = responses.shift() ?? {};
        const text =
          next.body === undefined
            ? "{}"
            : typeof next.body === "string"
              ? next.body
              : JSON.stringify(next.body);
        return {
          response: new HttpResponse({
            statusCode: next.status ?? 200,
            headers: { "content-type": "application/json", ...next.headers },
            body: Readable.from([Buffer.from(text)]),
          }),
        };
      },
    },
  };
}

const clientWith = (handler: SimSpaceWeaverRequestHandler) =>
  new SimSpaceWeaverClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    requestHandler: handler,
  });

const location = { BucketName: "bucket", ObjectKey: "key.zip" };

/** Every operation the client implements, called with every member the model defines. */
const calls: Record<string, (client: SimSpaceWeaverClient) => Promise<unknown>> = {
  CreateSnapshot: (c) =>
    c.createSnapshot({
      Simulation: "sim-1",
      Destination: { BucketName: "bucket", ObjectKeyPrefix: "prefix" },
    }),
  DescribeSimulation: (c) => c.describeSimulation({ Simulation: "sim-1" }),
  ListSimulations: (c) => c.listSimulations({ MaxResults: 5, NextToken: "token-1" }),
  StartSimulation: (c) =>
    c.startSimulation({
      Name: "sim-1",
      RoleArn: "arn:aws:iam::123456789012:role/weaver",
      SchemaS3Location: location,
      SnapshotS3Location: location,
      MaximumDuration: "2D",
      Description: "demo",
      ClientToken: "token",
      Tags: { team: "a" },
    }),
  StopSimulation: (c) => c.stopSimulation({ Simulation: "sim-1" }),
  DeleteSimulation: (c) => c.deleteSimulation({ Simulation: "sim-1" }),
};

/** A value of the right kind for an output member named in the model. */
function cannedValue(name: string, member: ModelMember): unknown {
  if (member.type === "timestamp") return 1_700_000_000.5;
  if (member.type === "list") return [];
  if (member.type === "structure" || member.shape) {
    return Object.fromEntries(Object.keys(membersOf(member)).map((key) => [key, `${name}.${key}`]));
  }
  return `${name}-value`;
}

describe("SimSpaceWeaverClient against the official model", () => {
  it("covers a rest-json service signed as simspaceweaver", () => {
    expect(model.metadata.protocol).toBe("rest-json");
    expect(model.metadata.signingName).toBe("simspaceweaver");
  });

  describe.each(Object.keys(calls))("%s", (operationName) => {
    const operation = model.operations[operationName];
    if (!operation) throw new Error(`${operationName} is not in the model`);
    const call = calls[operationName] as (client: SimSpaceWeaverClient) => Promise<unknown>;
    const members = Object.entries(operation.input.members);
    const queryMembers = members.filter(([, m]) => m.location === "querystring");
    const bodyMembers = members.filter(([, m]) => m.location === undefined);

    it("uses the model's method and request URI", async () => {
      const { requests, handler } = recorder();
      await call(clientWith(handler));
      const [request] = requests;
      // The model's default method is POST when it names none.
      expect(request?.method).toBe(operation.http.method ?? "POST");
      expect(request?.path).toBe(operation.http.requestUri);
      expect(request?.hostname).toBe("simspaceweaver.eu-west-1.amazonaws.com");
      expect(request?.protocol).toBe("https:");
    });

    it("puts exactly the model's query-string members in the query, by their location names", async () => {
      const { requests, handler } = recorder();
      await call(clientWith(handler));
      const query = requests[0]?.query ?? {};
      expect(Object.keys(query).sort()).toEqual(queryMembers.map(([, m]) => m.locationName).sort());
    });

    it("sends exactly the model's body members, with their nested field names", async () => {
      const { requests, handler } = recorder();
      await call(clientWith(handler));
      const request = requests[0];
      if (bodyMembers.length === 0) {
        expect(request?.body).toBeUndefined();
        return;
      }
      expect(request?.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(String(request?.body)) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(bodyMembers.map(([name]) => name).sort());
      for (const name of operation.input.required ?? []) {
        if (bodyMembers.some(([n]) => n === name)) expect(body[name]).toBeDefined();
      }
      for (const [name, member] of bodyMembers) {
        const nested = membersOf(member);
        if (member.type !== "map" && Object.keys(nested).length > 0) {
          expect(Object.keys(body[name] as object).sort(), name).toEqual(
            Object.keys(nested).sort(),
          );
        }
      }
    });

    it("signs with SigV4 for service simspaceweaver in the client's region", async () => {
      const { requests, handler } = recorder();
      await call(clientWith(handler));
      const authorization = requests[0]?.headers.authorization ?? "";
      expect(authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/simspaceweaver\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
      );
      expect(requests[0]?.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    });

    it("reads every output member the model defines, timestamps as Dates", async () => {
      const outputMembers = Object.entries(operation.output.members);
      const canned = Object.fromEntries(
        outputMembers.map(([name, member]) => [name, cannedValue(name, member)]),
      );
      const { handler } = recorder({ body: canned });
      const output = (await call(clientWith(handler))) as Record<string, unknown>;
      const expected = Object.fromEntries(
        outputMembers.map(([name, member]) => [
          name,
          member.type === "timestamp" ? new Date(1_700_000_000_500) : canned[name],
        ]),
      );
      // Operations with an empty output return an empty object.
      expect(output).toEqual(expected);
    });
  });

  it("serializes the query values the way the model's types say", async () => {
    const { requests, handler } = recorder();
    const client = clientWith(handler);
    await client.listSimulations({ MaxResults: 5, NextToken: "a b/c" });
    await client.describeSimulation({ Simulation: "sim.1_x-y" });
    expect(requests[0]?.query).toEqual({ maxResults: "5", nextToken: "a b/c" });
    expect(requests[1]?.query).toEqual({ simulation: "sim.1_x-y" });
  });

  it("generates a ClientToken (the model's idempotency token) when none is given", async () => {
    const { requests, handler } = recorder({}, {});
    const client = clientWith(handler);
    const input = { Name: "sim-1", RoleArn: "arn:aws:iam::123456789012:role/weaver" };
    await client.startSimulation(input);
    await client.startSimulation(input);
    const tokens = requests.map(
      (r) => (JSON.parse(String(r.body)) as { ClientToken?: string }).ClientToken,
    );
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it("keeps a path prefix of a custom endpoint and its port", async () => {
    const { requests, handler } = recorder();
    const client = new SimSpaceWeaverClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4510/weaver/",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      requestHandler: handler,
    });
    await client.stopSimulation({ Simulation: "sim-1" });
    expect(requests[0]).toMatchObject({
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4510,
      path: "/weaver/stopsimulation",
    });
    expect(requests[0]?.headers.host).toBe("127.0.0.1:4510");
  });
});

describe("SimSpaceWeaverClient pagination", () => {
  it("follows NextToken until a page has none", async () => {
    const { requests, handler } = recorder(
      { body: { Simulations: [{ Name: "a" }, { Name: "b" }], NextToken: "t1" } },
      { body: { Simulations: [{ Name: "c" }], NextToken: "t2" } },
      { body: { Simulations: [] } },
    );
    const names: string[] = [];
    for await (const page of clientWith(handler).paginateSimulations({ MaxResults: 2 })) {
      for (const simulation of page.Simulations ?? []) names.push(simulation.Name ?? "");
    }
    expect(names).toEqual(["a", "b", "c"]);
    expect(requests.map((r) => r.query)).toEqual([
      { maxResults: "2" },
      { maxResults: "2", nextToken: "t1" },
      { maxResults: "2", nextToken: "t2" },
    ]);
  });

  it("refuses a NextToken the service repeats instead of looping forever", async () => {
    const { handler } = recorder(
      { body: { Simulations: [], NextToken: "same" } },
      { body: { Simulations: [], NextToken: "same" } },
    );
    const pages = async () => {
      for await (const page of clientWith(handler).paginateSimulations()) void page;
    };
    await expect(pages()).rejects.toMatchObject({ code: "InvalidPagination" });
  });
});

describe("SimSpaceWeaverClient errors", () => {
  const failing = async (response: Parameters<typeof recorder>[0]) => {
    const { handler } = recorder(response);
    return clientWith(handler)
      .describeSimulation({ Simulation: "sim-1" })
      .then(
        () => {
          throw new Error("expected a rejection");
        },
        (error: unknown) => error,
      );
  };

  it("takes the code from x-amzn-errortype, without the part after the colon", async () => {
    const error = await failing({
      status: 409,
      headers: {
        "x-amzn-errortype": "ConflictException:http://internal.amazon.com/coral/x/",
        "x-amzn-requestid": "req-1",
      },
      body: { message: "A snapshot is in progress" },
    });
    expect(error).toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      code: "ConflictException",
      status: 409,
      message: "A snapshot is in progress",
      retryable: false,
      requestId: "req-1",
    });
  });

  it("falls back to the body's __type (namespace stripped) and Message", async () => {
    const error = await failing({
      status: 404,
      body: {
        __type: "com.amazonaws.simspaceweaver#ResourceNotFoundException",
        Message: "no such simulation",
      },
    });
    expect(error).toMatchObject({
      code: "ResourceNotFoundException",
      status: 404,
      message: "no such simulation",
    });
  });

  it("falls back to the body's code, and names the HTTP status when nothing names the error", async () => {
    expect(await failing({ status: 400, body: { code: "ValidationException" } })).toMatchObject({
      code: "ValidationException",
      message: "SimSpace Weaver DescribeSimulation failed with HTTP 400",
    });
    expect(await failing({ status: 502, body: "<html>bad gateway</html>" })).toMatchObject({
      code: "Http502Error",
      retryable: true,
    });
  });

  it.each([
    [500, "InternalServerException", true],
    [429, "TooManyRequestsException", true],
    [400, "ThrottlingException", true],
    [402, "ServiceQuotaExceededException", false],
    [403, "AccessDeniedException", false],
  ])("HTTP %i %s is retryable: %s", async (status, code, retryable) => {
    const error = await failing({ status, headers: { "x-amzn-errortype": code }, body: {} });
    expect(error).toMatchObject({ code, status, retryable });
  });

  it("turns a transport failure into a retryable NetworkError", async () => {
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:1");
    const client = clientWith({
      handle: () => Promise.reject(cause),
    });
    const error = await client.stopSimulation({ Simulation: "sim-1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(SimSpaceWeaverServiceError);
    expect(error).toMatchObject({ code: "NetworkError", retryable: true, cause });
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("refuses a successful answer whose body is not JSON", async () => {
    const { handler } = recorder({ body: "not json" });
    await expect(
      clientWith(handler).describeSimulation({ Simulation: "sim-1" }),
    ).rejects.toMatchObject({ code: "InvalidResponse" });
  });
});
