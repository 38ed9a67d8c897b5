import * as z from "zod";
import { SimsnapConfigSchema } from "./config-file.ts";

/** A JSON Schema as generated: plain JSON. */
export type JsonSchema = Record<string, unknown>;

/**
 * Where the repository keeps the generated schema; config files point their `"$schema"` at it so
 * editors complete and check them. `npm run schema` writes it, and a test holds it equal to
 * `configJsonSchema()`.
 */
export const CONFIG_SCHEMA_FILE = "schema/simsnap.config.schema.json";

/**
 * The JSON Schema (2020-12) of `simsnap.config.json`, generated from `SimsnapConfigSchema` so it
 * can never disagree with what the loader accepts about fields, types, patterns and defaults. It
 * describes the file as written (zod's input side); the rules only code can check (a schedule
 * expression's grammar, unique names) stay with the loader, which is why `simsnap config
 * validate` is still the last word.
 */
export function configJsonSchema(): JsonSchema {
  const { $schema, ...schema } = z.toJSONSchema(SimsnapConfigSchema, { io: "input" }) as JsonSchema;
  return {
    $schema,
    title: "simsnap.config.json",
    description:
      "What a simsnap deployment does: snapshot schedules, retention, archive, providers, and the local demo. Generated from the config schema; check a file with `simsnap config validate`.",
    ...schema,
  };
}

/** The schema nodes a JSON value at `path` may have to satisfy (several under `anyOf`). */
function nodesAt(schema: JsonSchema, path: readonly PropertyKey[]): JsonSchema[] {
  let nodes = [schema];
  for (const segment of path) {
    nodes = nodes
      .flatMap((node) => [node, ...((node.anyOf ?? node.oneOf ?? []) as JsonSchema[])])
      .flatMap((node) => {
        if (typeof segment === "number") return node.items ? [node.items as JsonSchema] : [];
        const properties = (node.properties ?? {}) as Record<string, JsonSchema>;
        const next = properties[String(segment)] ?? node.additionalProperties;
        return typeof next === "object" && next !== null ? [next as JsonSchema] : [];
      });
  }
  return nodes.flatMap((node) => [node, ...((node.anyOf ?? node.oneOf ?? []) as JsonSchema[])]);
}

/**
 * The field names the object at `path` of a config file may have, read from the generated
 * schema, so a misspelt key can be answered with the field it most likely meant.
 */
export function knownFieldsAt(schema: JsonSchema, path: readonly PropertyKey[]): string[] {
  const names = nodesAt(schema, path).flatMap((node) => Object.keys(node.properties ?? {}));
  return [...new Set(names)];
}
