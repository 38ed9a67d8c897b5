import type { AirPage } from "./model.ts";
import type { OrderKey } from "./schemas.ts";

/**
 * Air's page size when a request names none. The reference is silent; DRF's LimitOffsetPagination
 * uses the PAGE_SIZE setting, and 100 is our pick. The SDK always asks for 200.
 */
export const DEFAULT_PAGE_SIZE = 100;

/** Python's `int()` on a query value, as DRF's `_positive_int` calls it; undefined if not one. */
function pythonInt(value: string | null): number | undefined {
  if (value === null || !/^\s*[+-]?\d+\s*$/.test(value)) return undefined;
  return Number.parseInt(value.trim(), 10);
}

/**
 * DRF's `replace_query_param` / `remove_query_param`: the request's own absolute URL with one
 * parameter set (or dropped), every parameter re-encoded in sorted order as Python's urlencode
 * writes them, so `next` keeps the filters and ordering the client asked for.
 */
function withParam(url: URL, key: string, value: number | undefined): string {
  const params = new Map<string, string[]>();
  for (const [name, item] of url.searchParams)
    params.set(name, [...(params.get(name) ?? []), item]);
  if (value === undefined) params.delete(key);
  else params.set(key, [String(value)]);
  const query = new URLSearchParams();
  for (const name of [...params.keys()].sort()) {
    for (const item of params.get(name) ?? []) query.append(name, item);
  }
  const search = query.toString();
  return `${url.origin}${url.pathname}${search === "" ? "" : `?${search}`}`;
}

/**
 * One page of `items` as DRF's LimitOffsetPagination answers it for the absolute request `url`:
 * an invalid or non-positive `limit` falls back to the default, an invalid or negative `offset`
 * to 0; `next` is null once the page reaches the end, `previous` null on the first page and
 * without `offset` when it would be 0; an offset past the end gives an empty page.
 */
export function paginate<T>(items: readonly T[], url: URL): AirPage<T> {
  const requestedLimit = pythonInt(url.searchParams.get("limit"));
  const limit =
    requestedLimit !== undefined && requestedLimit > 0 ? requestedLimit : DEFAULT_PAGE_SIZE;
  const requestedOffset = pythonInt(url.searchParams.get("offset"));
  const offset = requestedOffset !== undefined && requestedOffset >= 0 ? requestedOffset : 0;
  const count = items.length;
  const results = count === 0 || offset > count ? [] : items.slice(offset, offset + limit);
  const withLimit = new URL(withParam(url, "limit", limit));
  const next = offset + limit >= count ? null : withParam(withLimit, "offset", offset + limit);
  const previous =
    offset <= 0
      ? null
      : withParam(withLimit, "offset", offset - limit <= 0 ? undefined : offset - limit);
  return { count, next, previous, results };
}

/** A value to order by; null sorts last ascending and first descending, as in PostgreSQL. */
export type Sortable = string | number | boolean | null;

function compare(a: Sortable, b: Sortable): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * `items` ordered by `keys` (the parsed `ordering` parameter), then by `fallback` keys, so equal
 * values never make pages overlap or skip an item.
 */
export function orderBy<T, F extends string>(
  items: readonly T[],
  keys: readonly OrderKey<F>[],
  fallback: readonly OrderKey<F>[],
  valueOf: (item: T, field: F) => Sortable,
): T[] {
  const all = [...keys, ...fallback];
  return [...items].sort((a, b) => {
    for (const key of all) {
      const order = compare(valueOf(a, key.field), valueOf(b, key.field));
      if (order !== 0) return key.descending ? -order : order;
    }
    return 0;
  });
}

/**
 * DRF's SearchFilter: the search splits into terms on spaces and commas, and an item matches when
 * every term is found, case-insensitively, in one of its `fields`.
 */
export function matchesSearch(search: string | undefined, fields: readonly string[]): boolean {
  const terms = (search ?? "")
    .replace(/\0/g, "")
    .split(/[\s,]+/)
    .filter((term) => term !== "");
  const haystack = fields.map((field) => field.toLowerCase());
  return terms.every((term) => haystack.some((field) => field.includes(term.toLowerCase())));
}
