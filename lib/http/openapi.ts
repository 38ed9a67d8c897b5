import * as z from "zod";
import { SIMSNAP_VERSION } from "../version.ts";
import { ErrorBodySchema } from "./responses.ts";
import { route, type Route, type RouteContract } from "./router.ts";
import {
  CheckpointViewSchema,
  JobViewSchema,
  RetentionPlanViewSchema,
  SimulationOverviewSchema,
} from "./views.ts";

/** A JSON Schema or OpenAPI object as generated; plain JSON. */
type Json = Record<string, unknown>;

/** The OpenAPI version the document follows: 3.1 takes JSON Schema 2020-12, which zod emits. */
export const OPENAPI_VERSION = "3.1.0";

/** The path the API serves its own description on. */
export const OPENAPI_PATH = "/openapi.json";

/**
 * Schemas many answers share, under the names clients see; each is written once in the document
 * and referenced, so a generated client gets one `Job` type rather than one per route.
 */
const SHARED_SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorBodySchema,
  Job: JobViewSchema,
  Checkpoint: CheckpointViewSchema,
  Simulation: SimulationOverviewSchema,
  RetentionPlan: RetentionPlanViewSchema,
};

const ref = (section: string, name: string) => ({ $ref: `#/components/${section}/${name}` });

/** Drops the keys that only a standalone JSON Schema document carries. */
function embedded(schema: Json): Json {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}

/** A request part (params, query, body, headers) as clients write it, before any transform. */
function inputSchema(schema: z.ZodType): Json {
  return embedded(z.toJSONSchema(schema, { io: "input" }) as Json);
}

const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

/**
 * Every response body as a component, generated in one pass over a registry so that a body
 * holding a shared schema (a page of `Job`s) refers to it instead of copying it. Answers describe
 * what the API sends, so they are generated as zod's output (defaults applied, transforms run).
 */
function responseComponents(routes: readonly RouteContract[]): {
  schemas: Record<string, Json>;
  nameOf: (schema: z.ZodType) => string;
} {
  const names = new Map<z.ZodType, string>();
  for (const [name, schema] of Object.entries(SHARED_SCHEMAS)) names.set(schema, name);
  for (const contract of routes) {
    const statuses = Object.keys(contract.responses);
    for (const [status, response] of Object.entries(contract.responses)) {
      if (names.has(response.body)) continue;
      const suffix = statuses.length > 1 ? status : "";
      names.set(response.body, `${pascal(contract.operationId)}Response${suffix}`);
    }
  }
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of names) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    io: "output",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  const schemas: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) schemas[id] = embedded(schema);
  return { schemas, nameOf: (schema) => names.get(schema) as string };
}

/** Path, query and header parameters: one entry per field of the part's object schema. */
function parameters(contract: RouteContract): Json[] {
  const parts = [
    ["path", contract.params],
    ["query", contract.query],
    ["header", contract.headers],
  ] as const;
  return parts.flatMap(([where, schema]) => {
    if (schema === undefined) return [];
    const json = inputSchema(schema);
    const properties = (json.properties ?? {}) as Record<string, Json>;
    const required = new Set((json.required ?? []) as string[]);
    return Object.entries(properties).map(([name, property]) => {
      const { description, ...rest } = property;
      return {
        name,
        in: where,
        required: where === "path" || required.has(name),
        ...(typeof description === "string" ? { description } : {}),
        schema: rest,
      };
    });
  });
}

const correlationHeader = { "X-Correlation-Id": ref("headers", "CorrelationId") };

const json = (schema: Json) => ({ "application/json": { schema } });

function operation(contract: RouteContract, nameOf: (schema: z.ZodType) => string): Json {
  const responses: Json = {};
  for (const [status, response] of Object.entries(contract.responses)) {
    const headers: Json = { ...correlationHeader };
    for (const [name, description] of Object.entries(response.headers ?? {})) {
      headers[name] = { description, schema: { type: "string" } };
    }
    responses[status] = {
      description: response.description,
      headers,
      content: json(ref("schemas", nameOf(response.body))),
    };
  }
  responses["400"] = ref("responses", "BadRequest");
  for (const [status, description] of Object.entries(contract.errors ?? {})) {
    responses[status] = {
      description,
      headers: correlationHeader,
      content: json(ref("schemas", "Error")),
    };
  }
  responses["5XX"] = ref("responses", "ServerError");
  const parameterList = parameters(contract);
  return {
    operationId: contract.operationId,
    summary: contract.summary,
    ...(parameterList.length > 0 ? { parameters: parameterList } : {}),
    ...(contract.body === undefined
      ? {}
      : {
          // An empty body reads as `{}`, so every field's default applies and none is needed.
          requestBody: { required: false, content: json(inputSchema(contract.body)) },
        }),
    responses,
  };
}

const errorAnswer = (description: string, headers: Json = {}) => ({
  description,
  headers: { ...correlationHeader, ...headers },
  content: json(ref("schemas", "Error")),
});

/**
 * The OpenAPI 3.1 document of `routes`, generated from the very zod schemas the router validates
 * with and the answers each route declares, so the document cannot drift from what the API
 * accepts and sends. Request parts are described as callers write them (zod's input), answers as
 * the API sends them (zod's output). The router's own answers (400 for any invalid part, 5xx,
 * 404 for an unknown path, 405 for another method) are shared components.
 */
export function openApiDocument(routes: readonly Route[]): Json {
  const contracts = routes.map((r) => r.contract);
  const { schemas, nameOf } = responseComponents(contracts);
  const paths: Record<string, Json> = {};
  for (const contract of contracts) {
    const item = (paths[contract.path] ??= {});
    item[contract.method.toLowerCase()] = operation(contract, nameOf);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "simsnap API",
      version: SIMSNAP_VERSION,
      description:
        "The catalog of checkpoints and the jobs that make them. Every error carries the Error " +
        "body; every answer carries X-Correlation-Id (the caller's, or one the API chose). An " +
        "unknown path is a 404 (RouteNotFound) and a known path with another method a 405 " +
        "(MethodNotAllowed, with Allow). In AWS every request is signed with SigV4 (service " +
        "execute-api); the local stack takes unsigned requests.",
    },
    security: [{ sigv4: [] }, {}],
    paths,
    components: {
      schemas,
      responses: {
        BadRequest: errorAnswer(
          "A path parameter, query parameter, header or body field breaks a rule; details name each field and rule",
        ),
        ServerError: errorAnswer(
          "The request could not be completed: 500 (quote the correlation id), 502 (the simulation platform is unavailable) or 503 (try again after Retry-After seconds)",
          { "Retry-After": { description: "Seconds to wait (503)", schema: { type: "string" } } },
        ),
        RouteNotFound: errorAnswer("No route has this path"),
        MethodNotAllowed: errorAnswer("The path exists, with other methods", {
          Allow: { description: "The methods the path takes", schema: { type: "string" } },
        }),
      },
      headers: {
        CorrelationId: {
          description: "Names the request in every log line; quote it when reporting a problem",
          schema: { type: "string" },
        },
      },
      securitySchemes: {
        sigv4: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description:
            "AWS Signature Version 4 for service execute-api; the caller needs execute-api:Invoke on the API",
        },
      },
    },
  };
}

/** The document's own shape, as far as a client needs to know before reading it. */
const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.looseObject({})),
});

/**
 * `routes` plus `GET /openapi.json`, which serves their document (itself included). It is
 * generated on the first request, not at cold start, since most invocations never ask for it.
 */
export function withOpenApi(routes: readonly Route[]): Route[] {
  let document: Json | undefined;
  const all: Route[] = [
    ...routes,
    route({
      method: "GET",
      path: OPENAPI_PATH,
      operationId: "getOpenApi",
      summary: "This document: the API's routes, inputs and answers (OpenAPI 3.1)",
      responses: { 200: { description: "The OpenAPI document", body: OpenApiDocumentSchema } },
      handle: async () => ({ status: 200, body: (document ??= openApiDocument(all)) }),
    }),
  ];
  return all;
}
