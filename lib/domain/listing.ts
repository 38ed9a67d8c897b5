import { createHash } from "node:crypto";
import { ValidationError } from "./errors.ts";

/** A value a listing sorts on; all of them survive a JSON round trip inside a cursor. */
export type SortValue = string | number | boolean;

/** One key of an ordering: which field, and whether it runs from the largest value down. */
export interface OrderKey<F extends string = string> {
  field: F;
  descending: boolean;
}

/** How to read each sortable field of a record, so orderings can be named in a query. */
export type SortFields<T, F extends string> = Record<F, (record: T) => SortValue>;

/** One page of an in-memory listing; the cursor is absent on the last page. */
export interface ListingPage<T> {
  items: T[];
  nextCursor?: string;
}

/** What one listing call asks for. */
export interface ListingRequest<F extends string> {
  ordering: readonly OrderKey<F>[];
  limit: number;
  cursor?: string;
  /**
   * Identifies the query (filters and ordering, not the page size) the cursor belongs to, so a
   * cursor handed to a different query is refused instead of silently skipping records.
   */
  fingerprint: string;
}

/**
 * Names sort in a human order ("cp-2" before "cp-10"), independent of the machine's locale, so a
 * cursor means the same position on every server. Made on the first comparison: building a
 * collator loads ICU's collation data, about 5 ms that every cold start importing this module
 * paid before (docs/scale.md).
 */
let collator: Intl.Collator | undefined;

function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === "string" && typeof b === "string") {
    collator ??= new Intl.Collator("en", { numeric: true, sensitivity: "variant" });
    return collator.compare(a, b);
  }
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Position {
  values: SortValue[];
  id: string;
}

interface CursorBody {
  f: string;
  k: SortValue[];
  id: string;
}

/**
 * A short digest of a query's identity; key order does not matter, so the same query always gets
 * the same fingerprint.
 */
export function fingerprintOf(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (typeof v !== "object" || v === null) return v;
    return Object.fromEntries(
      Object.keys(v)
        .filter((key) => (v as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => [key, canonical((v as Record<string, unknown>)[key])]),
    );
  };
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("base64url")
    .slice(0, 16);
}

const invalidCursor = (reason: string): ValidationError =>
  new ValidationError(`Invalid cursor: ${reason}`, [{ path: "cursor", message: reason }]);

function decodePosition(cursor: string, fingerprint: string, keys: number): Position {
  const foreign = "not a cursor returned by this listing";
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor(foreign);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor(foreign);
  }
  const candidate = body as Partial<CursorBody> | null;
  const valid =
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.f === "string" &&
    typeof candidate.id === "string" &&
    Array.isArray(candidate.k) &&
    candidate.k.length === keys &&
    candidate.k.every((v) => ["string", "number", "boolean"].includes(typeof v));
  if (!valid) throw invalidCursor(foreign);
  if (candidate.f !== fingerprint) {
    throw invalidCursor("belongs to a listing with other filters or another ordering");
  }
  return { values: candidate.k as SortValue[], id: candidate.id as string };
}

const encodePosition = (fingerprint: string, position: Position): string =>
  Buffer.from(
    JSON.stringify({ f: fingerprint, k: position.values, id: position.id } satisfies CursorBody),
    "utf8",
  ).toString("base64url");

/**
 * Sorts, positions and cuts one page of records by keyset: the cursor holds the last record's sort
 * values and id (the tie-breaker), not an offset, so records created or deleted between two
 * requests never shift a page or repeat a record. Every ordering is total (ids break ties), so the
 * same query pages the same way on every call.
 */
export function pageOf<T extends { id: string }, F extends string>(
  records: readonly T[],
  fields: SortFields<T, F>,
  request: ListingRequest<F>,
): ListingPage<T> {
  const positionOf = (record: T): Position => ({
    values: request.ordering.map((key) => fields[key.field](record)),
    id: record.id,
  });
  const compare = (a: Position, b: Position): number => {
    for (const [i, key] of request.ordering.entries()) {
      const c = compareValues(a.values[i] as SortValue, b.values[i] as SortValue);
      if (c !== 0) return key.descending ? -c : c;
    }
    return compareIds(a.id, b.id);
  };

  const after = request.cursor
    ? decodePosition(request.cursor, request.fingerprint, request.ordering.length)
    : undefined;
  const rows = records
    .map((record) => ({ record, position: positionOf(record) }))
    .filter((row) => after === undefined || compare(row.position, after) > 0)
    .sort((a, b) => compare(a.position, b.position));
  const page = rows.slice(0, request.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => row.record),
    ...(rows.length > request.limit && last
      ? { nextCursor: encodePosition(request.fingerprint, last.position) }
      : {}),
  };
}
