import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CachedTags, TagCache } from "../../ports/catalog.ts";
import { batchGet, batchPut } from "./batch.ts";
import { catalogTable } from "./table-schema.ts";

/** Days an entry outlives its last read, after which DynamoDB's TTL removes it. */
const EXPIRY_DAYS = 14;

const tagKey = (key: string) => ({ pk: `TAGS#${key}`, sk: "TAGS" });

/**
 * The tag cache in the catalog table: one item per simulation incarnation (`TAGS#<key>`), read
 * 100 to a BatchGetItem and written 25 to a BatchWriteItem. Each item is its own partition key, so
 * a fleet's tags spread over the table's partitions; the table's TTL attribute removes an entry
 * two weeks after its last read, so simulations that are gone leave nothing behind for long.
 */
export class DynamoDbTagCache implements TagCache {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(keys: readonly string[]): Promise<Map<string, CachedTags>> {
    const items = await batchGet(this.doc, this.tableName, [...new Set(keys)].map(tagKey));
    const entries = new Map<string, CachedTags>();
    for (const item of items) {
      const { key, tags, readAt } = item;
      if (typeof key !== "string" || typeof readAt !== "string") continue;
      if (typeof tags !== "object" || tags === null) continue;
      const values = Object.entries(tags as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string",
      );
      entries.set(key, { tags: Object.fromEntries(values), readAt });
    }
    return entries;
  }

  async put(entries: ReadonlyMap<string, CachedTags>): Promise<void> {
    const items = [...entries].map(([key, { tags, readAt }]) => ({
      ...tagKey(key),
      key,
      tags,
      readAt,
      [catalogTable.timeToLiveAttribute]:
        Math.floor(Date.parse(readAt) / 1000) + EXPIRY_DAYS * 86_400,
    }));
    await batchPut(this.doc, this.tableName, items);
  }
}
