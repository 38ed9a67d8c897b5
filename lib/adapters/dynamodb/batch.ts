import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { AppError } from "../../domain/errors.ts";
import { forEachLimited } from "../../usecases/for-each-limited.ts";

/** DynamoDB's most keys in one BatchGetItem request. */
const MAX_BATCH_GET_KEYS = 100;
/** DynamoDB's most puts and deletes in one BatchWriteItem request. */
const MAX_BATCH_WRITE_ITEMS = 25;
/** Requests of one batch read or write in flight at once. */
const CONCURRENCY = 4;
/** Sends of one batch, the first included, before what DynamoDB keeps leaving unprocessed fails. */
const ATTEMPTS = 8;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
};

/**
 * Reads items by key, 100 keys to a BatchGetItem, sending the keys DynamoDB leaves unprocessed
 * (its answer to throttling or its 16 MB response limit) again with backoff. Reads are eventually
 * consistent, as a fleet-wide read needs no more, unless `consistent` asks for strongly
 * consistent ones (twice the read units): a read that decides a delete must see the latest write.
 * Items come back in no particular order; a key with no item is simply absent.
 */
export async function batchGet(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, string>[],
  options: { consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  await forEachLimited(chunks(keys, MAX_BATCH_GET_KEYS), CONCURRENCY, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > ATTEMPTS) {
        throw new AppError(
          `BatchGetItem left ${pending.length} keys unread after ${ATTEMPTS} attempts`,
        );
      }
      if (attempt > 1) await sleep(25 * 2 ** (attempt - 2));
      const result = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: { Keys: pending, ...(options.consistent ? { ConsistentRead: true } : {}) },
          },
        }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  });
  return items;
}

/**
 * Puts items, 25 to a BatchWriteItem (unconditional: for records whose last writer may win, such
 * as a cache), sending what DynamoDB leaves unprocessed again with backoff.
 */
export async function batchPut(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  await forEachLimited(chunks(items, MAX_BATCH_WRITE_ITEMS), CONCURRENCY, async (chunk) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > ATTEMPTS) {
        throw new AppError(
          `BatchWriteItem left ${pending.length} items unwritten after ${ATTEMPTS} attempts`,
        );
      }
      if (attempt > 1) await sleep(25 * 2 ** (attempt - 2));
      const result = await doc.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = (result.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  });
}
