import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Json = Record<string, unknown>;

/** One answer as a test saw it. */
export interface SeenAnswer {
  method: string;
  /** The path as requested, without the query string. */
  path: string;
  status: number;
  body: unknown;
}

/** Where an answer sits in the document: the operation's path template and the response key. */
export interface DocumentedAnswer {
  operation: string;
  /** `"200"`, `"404"`, `"5XX"`, or a router-level component (`RouteNotFound`, `MethodNotAllowed`). */
  response: string;
}

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/**
 * Checks answers and requests against an OpenAPI document with a JSON Schema 2020-12 validator,
 * the dialect OpenAPI 3.1 uses: each answer's status must be documented for its operation (or be
 * one of the router's own answers) and its body must match the documented schema.
 */
export function openApiChecker(document: Json) {
  const paths = document.paths as Record<string, Record<string, Json>>;
  // Each path template as the router reads it: `{name}` is one segment, a trailing "/" is allowed.
  const routes = Object.entries(paths).flatMap(([template, item]) => {
    const pattern = template
      .split("/")
      .map((segment) =>
        /^\{\w+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    const regex = new RegExp(`^${pattern}/?$`);
    return Object.keys(item).map((method) => ({
      method: method.toUpperCase(),
      path: template,
      match: (path: string) => regex.test(path),
    }));
  });
  // strict: false because the document carries OpenAPI keywords (paths, responses) beside schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(document, "openapi.json");

  const resolve = (ref: string): Json => {
    let node: unknown = document;
    for (const part of ref.replace(/^#\//, "").split("/")) {
      node = (node as Json)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    }
    return node as Json;
  };

  const validate = (schemaPointer: string, value: unknown): string[] => {
    const check = ajv.getSchema(`openapi.json#/${schemaPointer}`);
    if (!check) throw new Error(`no schema at ${schemaPointer}`);
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };

  /** Where the document states this answer; throws naming what is missing. */
  function documented(answer: SeenAnswer): DocumentedAnswer & { schema: string } {
    const candidates = routes.filter((r) => r.match(answer.path));
    const found = candidates.find((r) => r.method === answer.method);
    if (!found) {
      const component = candidates.length === 0 ? "RouteNotFound" : "MethodNotAllowed";
      const expected = candidates.length === 0 ? 404 : 405;
      if (answer.status !== expected) throw new Error(`router answered ${answer.status}`);
      return {
        operation: "(router)",
        response: component,
        schema: pointer(
          "components",
          "responses",
          component,
          "content",
          "application/json",
          "schema",
        ),
      };
    }
    const operation = paths[found.path]?.[found.method.toLowerCase()];
    if (!operation) throw new Error(`${found.method} ${found.path} is not in the document`);
    const responses = operation.responses as Record<string, Json>;
    const key = [String(answer.status), `${String(answer.status).charAt(0)}XX`].find(
      (k) => responses[k] !== undefined,
    );
    if (key === undefined) {
      throw new Error(`${found.method} ${found.path} answered ${answer.status}, not documented`);
    }
    const response = responses[key] as Json;
    const base =
      typeof response.$ref === "string"
        ? (response.$ref as string).replace(/^#\//, "").split("/")
        : ["paths", found.path, found.method.toLowerCase(), "responses", key];
    const target = typeof response.$ref === "string" ? resolve(response.$ref) : response;
    if (!target.content) throw new Error(`${found.method} ${found.path} ${key} has no content`);
    return {
      operation: `${found.method} ${found.path}`,
      response: key,
      schema: pointer(...base, "content", "application/json", "schema"),
    };
  }

  return {
    /** The answer's place in the document; throws if the status is undocumented or the body wrong. */
    check(answer: SeenAnswer): DocumentedAnswer {
      const { schema, ...place } = documented(answer);
      const errors = validate(schema, answer.body);
      if (errors.length > 0) {
        throw new Error(
          `${answer.method} ${answer.path} ${answer.status}: ${errors.join("; ")}\n${JSON.stringify(answer.body)}`,
        );
      }
      return place;
    },
    /** The errors of a request body against the operation's documented request body. */
    requestErrors(method: string, path: string, body: unknown): string[] {
      const found = routes.find((r) => r.method === method && r.match(path));
      if (!found) throw new Error(`no route for ${method} ${path}`);
      return validate(
        pointer(
          "paths",
          found.path,
          method.toLowerCase(),
          "requestBody",
          "content",
          "application/json",
          "schema",
        ),
        body,
      );
    },
  };
}
