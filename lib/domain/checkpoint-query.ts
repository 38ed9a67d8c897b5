import * as z from "zod";
import { knownFieldsOnly } from "./known-fields.ts";
import { CheckpointStateSchema, type Checkpoint, type CheckpointState } from "./checkpoint.ts";
import {
  fingerprintOf,
  pageOf,
  type ListingPage,
  type OrderKey,
  type SortFields,
} from "./listing.ts";
import { SimulationNameSchema } from "./names.ts";
import { booleanParam, commaList, limitParam } from "./query-params.ts";
import { lazySchema } from "./lazy-schema.ts";

/** The fields a checkpoint listing can be ordered by. */
export const CHECKPOINT_ORDER_FIELDS = [
  "createdAt",
  "modifiedAt",
  "name",
  "state",
  "favorite",
] as const;
/** One of the orderable fields. */
export type CheckpointOrderField = (typeof CHECKPOINT_ORDER_FIELDS)[number];

/** States sort in lifecycle order, which reads better than the alphabet. */
const STATE_RANK: Record<CheckpointState, number> = {
  PENDING: 0,
  COMPLETE: 1,
  FAILED: 2,
  DELETED: 3,
};

const sortFields: SortFields<Checkpoint, CheckpointOrderField> = {
  createdAt: (c) => Date.parse(c.createdAt),
  modifiedAt: (c) => Date.parse(c.modifiedAt),
  name: (c) => c.name,
  state: (c) => STATE_RANK[c.state],
  favorite: (c) => c.favorite,
};

const isoDate = lazySchema(() =>
  z.iso.datetime({
    offset: true,
    error: "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
  }),
);

const orderingSchema = lazySchema(() =>
  z.string().transform((value, context): OrderKey<CheckpointOrderField>[] => {
    const keys: OrderKey<CheckpointOrderField>[] = [];
    for (const part of commaList(value)) {
      const field = part.replace(/^-/, "");
      if (!(CHECKPOINT_ORDER_FIELDS as readonly string[]).includes(field)) {
        context.addIssue({
          code: "custom",
          message: `"${part}" is not an ordering; use ${CHECKPOINT_ORDER_FIELDS.join(", ")}, each optionally prefixed with - for descending`,
        });
        return z.NEVER;
      }
      if (keys.some((key) => key.field === field)) {
        context.addIssue({ code: "custom", message: `orders by ${field} twice` });
        return z.NEVER;
      }
      keys.push({ field: field as CheckpointOrderField, descending: part.startsWith("-") });
    }
    if (keys.length === 0) {
      context.addIssue({ code: "custom", message: "must name at least one field" });
      return z.NEVER;
    }
    return keys;
  }),
);

/**
 * The query string of `GET /checkpoints`, validated and typed. Unknown parameters are refused
 * (a misspelt filter would otherwise list everything); `state` and `tag` take comma-separated
 * lists; `createdAfter` is inclusive and `createdBefore` exclusive, so consecutive windows tile.
 */
export const CheckpointQuerySchema = lazySchema(() =>
  knownFieldsOnly(
    {
      simulation: SimulationNameSchema.optional(),
      run: z.string().min(1).max(256).optional(),
      state: z
        .string()
        .transform(commaList)
        .pipe(z.array(CheckpointStateSchema).min(1, "must name at least one state"))
        .optional()
        .describe(`Comma list, any of: ${CheckpointStateSchema.options.join(", ")}`),
      favorite: booleanParam.optional(),
      tag: z
        .string()
        .transform(commaList)
        .pipe(z.array(z.string().max(128)).min(1, "must name at least one tag"))
        .optional()
        .describe("Comma list (or the parameter repeated): the checkpoint has every tag"),
      search: z.string().min(1).max(256).optional(),
      createdAfter: isoDate.optional(),
      createdBefore: isoDate.optional(),
      ordering: orderingSchema
        .default([{ field: "createdAt", descending: true }])
        .describe(
          `Comma list of ${CHECKPOINT_ORDER_FIELDS.join(", ")}, each may start with - for descending; default -createdAt`,
        ),
      limit: limitParam,
      cursor: z.string().min(1).max(2048).optional(),
    },
    "is not a query parameter of this listing",
  ),
);
/** A validated checkpoint query. */
export type CheckpointQuery = z.output<typeof CheckpointQuerySchema>;
/** A checkpoint query as a caller writes it (query-string values). */
export type CheckpointQueryInput = z.input<typeof CheckpointQuerySchema>;

/** True when the checkpoint passes every filter of the query (the filters combine with AND). */
export function matchesCheckpointQuery(checkpoint: Checkpoint, query: CheckpointQuery): boolean {
  const created = Date.parse(checkpoint.createdAt);
  const needle = query.search?.toLowerCase();
  return (
    (query.simulation === undefined || checkpoint.simulation === query.simulation) &&
    (query.run === undefined || checkpoint.run === query.run) &&
    (query.state === undefined || query.state.includes(checkpoint.state)) &&
    (query.favorite === undefined || checkpoint.favorite === query.favorite) &&
    (query.tag === undefined || query.tag.every((tag) => checkpoint.tags.includes(tag))) &&
    (needle === undefined ||
      checkpoint.name.toLowerCase().includes(needle) ||
      checkpoint.description.toLowerCase().includes(needle)) &&
    (query.createdAfter === undefined || created >= Date.parse(query.createdAfter)) &&
    (query.createdBefore === undefined || created < Date.parse(query.createdBefore))
  );
}

/**
 * One page of the checkpoints matching a query, in the query's ordering. The cursor is bound to
 * the filters and the ordering (not to the page size), so it stays valid while a client changes
 * `limit` but is refused, naming `cursor`, when handed to a different query.
 */
export function queryCheckpoints(
  checkpoints: readonly Checkpoint[],
  query: CheckpointQuery,
): ListingPage<Checkpoint> {
  const { limit, cursor, ...identity } = query;
  return pageOf(
    checkpoints.filter((checkpoint) => matchesCheckpointQuery(checkpoint, query)),
    sortFields,
    { ordering: query.ordering, limit, cursor, fingerprint: fingerprintOf(identity) },
  );
}
