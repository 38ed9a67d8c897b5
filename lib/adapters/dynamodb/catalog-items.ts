import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { z } from "zod";
import { AppError, ConcurrentModificationError, ValidationError } from "../../domain/errors.ts";
import type { ListOptions, Page } from "../../ports/catalog.ts";
import { parseInput } from "../../domain/validation.ts";
import { catalogTable } from "./table-schema.ts";

/** Page size when the caller names none; small enough for one DynamoDB response. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Largest page a caller may ask for, so one request cannot read a whole simulation's history. */
export const MAX_PAGE_LIMIT = 1000;

/**
 * The table and index key attributes. They are derived from the record on every write and
 * stripped on every read, so a record never depends on how it is stored.
 */
const KEY_ATTRIBUTES = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] as const;

/** The key attributes a `byCreated` listing position consists of. */
export interface ListingKey {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
}

/**
 * Sort key of the `byCreated` index. The time is normalized to UTC milliseconds so that string
 * order is time order even for timestamps written with offsets or other precisions; the id
 * breaks ties between records created in the same millisecond.
 */
export const creationSortKey = (time: string, id: string): string =>
  `${new Date(time).toISOString()}#${id}`;

/**
 * Turns a listing position into the opaque cursor callers hand back; base64url keeps it safe in
 * URLs and query strings without further escaping.
 */
export const encodeCursor = (key: ListingKey): string =>
  Buffer.from(JSON.stringify(key), "utf8").toString("base64url");

const invalidCursor = (reason: string): ValidationError =>
  new ValidationError(`Invalid cursor: ${reason}`, [{ path: "cursor", message: reason }]);

/**
 * Reads a cursor back and checks it belongs to the listed partition: a forged or foreign cursor
 * is the caller's mistake (a 400), never a DynamoDB error or a page of someone else's records.
 */
export function decodeCursor(cursor: string, partition: string): ListingKey {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor("not a cursor returned by a listing");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor("not a cursor returned by a listing");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidCursor("not a cursor returned by a listing");
  }
  const record = value as Record<string, unknown>;
  const names = ["pk", "sk", "gsi1pk", "gsi1sk"] as const;
  if (
    Object.keys(record).length !== names.length ||
    names.some((n) => typeof record[n] !== "string")
  ) {
    throw invalidCursor("not a cursor returned by a listing");
  }
  const key = record as unknown as ListingKey;
  if (key.gsi1pk !== partition) throw invalidCursor("belongs to another listing");
  return key;
}

/** Validates a page size; silently shrinking a page would hide records from a caller who pages by count. */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    const message = `must be an integer from 1 to ${MAX_PAGE_LIMIT}`;
    throw new ValidationError(`Invalid limit: ${message}`, [{ path: "limit", message }]);
  }
  return limit;
}

/**
 * Drops `undefined` properties at every depth. The document client rejects them unless it was
 * built with `removeUndefinedValues`, and the stores are handed clients they did not build.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutUndefined(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    if (item !== undefined) result[name] = withoutUndefined(item);
  }
  return result as T;
}

/** The one DynamoDB error that means "lost a race", as opposed to a failure worth surfacing. */
export const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === "ConditionalCheckFailedException";

/** What one DynamoDB Query or Scan page answers. */
interface ItemPage {
  Items?: Record<string, unknown>[];
  LastEvaluatedKey?: Record<string, unknown>;
}

/**
 * Reads DynamoDB pages from `startKey` until one item more than `limit` is in hand or nothing is
 * left: the extra item tells whether another page exists, so the last page carries no cursor, and
 * a read DynamoDB cut short at its 1 MB response limit is continued instead of returned short.
 * `read` gets where to start and how many items are still wanted.
 */
export async function readPastLimit(
  limit: number,
  startKey: Record<string, unknown> | undefined,
  read: (startKey: Record<string, unknown> | undefined, wanted: number) => Promise<ItemPage>,
): Promise<{ items: Record<string, unknown>[]; more: boolean }> {
  const items: Record<string, unknown>[] = [];
  let next = startKey;
  do {
    const page = await read(next, limit + 1 - items.length);
    items.push(...(page.Items ?? []));
    next = page.LastEvaluatedKey;
  } while (next && items.length <= limit);
  return { items: items.slice(0, limit), more: items.length > limit };
}

/**
 * Every item a Query or Scan finds, following DynamoDB's pages to the end: a page stops at 1 MB
 * whatever the items, so a reader that takes one page alone may miss some. `read` gets where to
 * start.
 */
export async function readAll(
  read: (startKey: Record<string, unknown> | undefined) => Promise<ItemPage>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let next: Record<string, unknown> | undefined;
  do {
    const page = await read(next);
    items.push(...(page.Items ?? []));
    next = page.LastEvaluatedKey;
  } while (next);
  return items;
}

/** What a versioned record kind needs: its schema, its name in messages and its key attributes. */
export interface RecordKind<T extends { id: string; version: number }> {
  schema: z.ZodType<T, unknown>;
  label: string;
  keyOf(record: T): Record<string, string>;
}

/**
 * The conditional-write table access both stores share, so checkpoints and jobs cannot drift
 * apart in how they detect lost races, page, or read records back.
 */
export class VersionedItems<T extends { id: string; version: number }> {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly kind: RecordKind<T>,
  ) {}

  /** Validates before writing so nothing unreadable ever reaches the table. */
  private item(record: T): Record<string, unknown> {
    const valid = parseInput(this.kind.schema, record, this.kind.label);
    return { ...withoutUndefined(valid as Record<string, unknown>), ...this.kind.keyOf(valid) };
  }

  /** Strips key attributes and re-applies the schema, so defaults of newer fields fill old items. */
  parse(item: Record<string, unknown>): T {
    const record: Record<string, unknown> = { ...item };
    for (const name of KEY_ATTRIBUTES) delete record[name];
    const result = this.kind.schema.safeParse(record);
    if (!result.success) {
      throw new AppError(`Stored ${this.kind.label} ${String(item.pk)} is not readable`, {
        cause: result.error,
      });
    }
    return result.data;
  }

  /** Put-if-absent: a duplicate trigger creating the same record becomes a no-op. */
  async create(record: T): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(record),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Put-if-unchanged: only the writer who read the latest version may write the next one. */
  async save(next: T): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(next),
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": next.version - 1 },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new ConcurrentModificationError(
          `${this.kind.label} ${next.id} changed since it was read (expected stored version ${next.version - 1})`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** A strongly consistent read, so a read-modify-save sees the latest committed version. */
  async get(key: Record<string, string>): Promise<T | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item ? this.parse(Item) : undefined;
  }

  /**
   * One page of a `byCreated` partition. It reads one item past the page so that the last page
   * carries no cursor, and keeps reading when DynamoDB stops early at its 1 MB response limit.
   */
  async listByCreated(partition: string, options: ListOptions = {}): Promise<Page<T>> {
    const limit = resolveLimit(options.limit);
    const startKey: Record<string, unknown> | undefined = options.cursor
      ? { ...decodeCursor(options.cursor, partition) }
      : undefined;
    const { items: pageItems, more } = await readPastLimit(limit, startKey, (from, wanted) =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: catalogTable.indexes.byCreated.name,
          KeyConditionExpression: "gsi1pk = :partition",
          ExpressionAttributeValues: { ":partition": partition },
          ScanIndexForward: !options.newestFirst,
          Limit: wanted,
          ExclusiveStartKey: from,
        }),
      ),
    );
    const last = pageItems.at(-1);
    return {
      items: pageItems.map((item) => this.parse(item)),
      ...(more && last ? { nextCursor: encodeCursor(listingKeyOf(last)) } : {}),
    };
  }
}

const listingKeyOf = (item: Record<string, unknown>): ListingKey => ({
  pk: String(item.pk),
  sk: String(item.sk),
  gsi1pk: String(item.gsi1pk),
  gsi1sk: String(item.gsi1sk),
});
