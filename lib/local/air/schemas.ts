import * as z from "zod";
import { AIR_CHECKPOINT_STATES, AIR_SIMULATION_STATES, fieldErrors } from "./model.ts";

/**
 * DRF's field messages, picked by what the client sent: nothing, `null`, or a wrong value. The
 * local server answers with DRF's own words so a client's error handling meets what Air sends.
 */
const drfMessage =
  (invalid: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined
      ? "This field is required."
      : issue.input === null
        ? "This field may not be null."
        : invalid;

/** A uuid field (Django accepts any 8-4-4-4-12 hex, not only RFC versions). */
const uuidField = z.guid({ error: drfMessage("Must be a valid UUID.") });

/** A DRF CharField of at most 128 characters: trimmed, never blank. */
const nameField = z
  .string({ error: drfMessage("Not a valid string.") })
  .trim()
  .min(1, { error: "This field may not be blank." })
  .max(128, { error: "Ensure this field has no more than 128 characters." });

/** The values DRF's BooleanField reads as true and as false (`BooleanField.TRUE_VALUES`). */
const TRUE_VALUES = new Set<unknown>([
  "t",
  "T",
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "true",
  "True",
  "TRUE",
  "on",
  "On",
  "ON",
  "1",
  1,
]);
const FALSE_VALUES = new Set<unknown>([
  "f",
  "F",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "false",
  "False",
  "FALSE",
  "off",
  "Off",
  "OFF",
  "0",
  0,
]);

/** A DRF BooleanField: JSON booleans and the strings and numbers DRF reads as booleans. */
const booleanField = z.preprocess(
  (value) => (TRUE_VALUES.has(value) ? true : FALSE_VALUES.has(value) ? false : value),
  z.boolean({ error: drfMessage("Must be a valid boolean.") }),
);

/** `PATCH …/checkpoints/{id}/`: only `name` and `favorite` are writable; DRF drops the rest. */
export const CheckpointPatchBody = z.object({
  name: nameField.optional(),
  favorite: booleanField.optional(),
});

/** `PATCH /simulations/{id}/start/`: omitted = most recent COMPLETE checkpoint, null = none. */
export const StartBody = z.object({ checkpoint: uuidField.nullable().optional() });

/** `PATCH /simulations/{id}/shutdown/`: `create_checkpoint` defaults to true. */
export const ShutdownBody = z.object({ create_checkpoint: booleanField.optional() });

/** `POST /simulations/clone/`: checkpoint omitted = most recent COMPLETE one, null = none. */
export const CloneBody = z.object({
  simulation: uuidField,
  checkpoint: uuidField.nullable().optional(),
  attempt_start: booleanField.optional(),
  name: nameField.optional(),
});

const choiceMessage = (issue: { input?: unknown }): string =>
  `Select a valid choice. ${String(issue.input)} is not one of the available choices.`;

/** A django-filter UUIDFilter: a malformed value is a 400 on that parameter. */
const uuidFilter = z.guid({ error: "Enter a valid UUID." }).optional();

/**
 * A django-filter BooleanFilter: only the spellings its select widget knows filter; anything
 * else is ignored, as Air (through django-filter) ignores it.
 */
const booleanFilter = z
  .string()
  .optional()
  .transform((value) =>
    value === "true" || value === "True"
      ? true
      : value === "false" || value === "False"
        ? false
        : undefined,
  );

/** One key of an `ordering` parameter: a field, `-` first for descending. */
export interface OrderKey<F extends string> {
  field: F;
  descending: boolean;
}

/**
 * A django-filter OrderingFilter over `fields`: comma-separated keys, each a field or `-field`;
 * any other key is a 400 on `ordering` naming it.
 */
function orderingFilter<F extends string>(fields: readonly F[]) {
  const allowed = new Set<string>(fields);
  return z
    .string()
    .transform((value, context): OrderKey<F>[] => {
      const keys: OrderKey<F>[] = [];
      for (const raw of value.split(",")) {
        const key = raw.trim();
        if (key === "") continue;
        const field = key.startsWith("-") ? key.slice(1) : key;
        if (!allowed.has(field)) {
          context.addIssue({ code: "custom", message: choiceMessage({ input: key }) });
          return z.NEVER;
        }
        keys.push({ field: field as F, descending: key.startsWith("-") });
      }
      return keys;
    })
    .optional();
}

/** The fields `GET …/checkpoints/?ordering=` accepts, as the API reference lists them. */
export const CHECKPOINT_ORDER_FIELDS = [
  "created",
  "modified",
  "name",
  "run",
  "state",
  "favorite",
] as const;

/** `GET /simulations/runs/checkpoints/` filters, search and ordering. */
export const CheckpointListQuery = z.object({
  simulation: uuidFilter,
  run: uuidFilter,
  state: z.enum(AIR_CHECKPOINT_STATES, { error: choiceMessage }).optional(),
  favorite: booleanFilter,
  search: z.string().optional(),
  ordering: orderingFilter(CHECKPOINT_ORDER_FIELDS),
});

/** The fields `GET /simulations/?ordering=` accepts, as the API reference lists them. */
export const SIMULATION_ORDER_FIELDS = [
  "assigned_to",
  "auto_oob_enabled",
  "complete_checkpoint_count",
  "created",
  "creator",
  "id",
  "modified",
  "name",
  "state",
] as const;

/** `GET /simulations/` filters and ordering. */
export const SimulationListQuery = z.object({
  id: uuidFilter,
  name: z.string().optional(),
  creator: z.string().optional(),
  state: z.enum(AIR_SIMULATION_STATES, { error: choiceMessage }).optional(),
  ordering: orderingFilter(SIMULATION_ORDER_FIELDS),
});

/** The fields `GET /simulations/runs/?ordering=` accepts (the reference is silent; our pick). */
export const RUN_ORDER_FIELDS = ["created", "modified", "name", "started_at", "ended_at"] as const;

/** `GET /simulations/runs/` filters and ordering. */
export const RunListQuery = z.object({
  simulation: uuidFilter,
  ordering: orderingFilter(RUN_ORDER_FIELDS),
});

/**
 * Parses a body or a query with `schema`, or throws DRF's 400: `{"field": ["message"]}`, and
 * `non_field_errors` for the value as a whole (a body that is not an object).
 */
export function parseAir<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "list" : value === null ? "NoneType" : typeof value;
    throw fieldErrors({
      non_field_errors: [`Invalid data. Expected a dictionary, but got ${kind}.`],
    });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : "non_field_errors";
    (errors[key] ??= []).push(issue.message);
  }
  throw fieldErrors(errors);
}

/**
 * A query string as Django's QueryDict reads it for filters: the last value of each parameter,
 * and an empty value the same as none (django-filter skips empty filters).
 */
export function queryValues(params: URLSearchParams): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    const value = params.getAll(key).at(-1) ?? "";
    if (value !== "") values[key] = value;
  }
  return values;
}
