import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { withoutUndefined } from "../../lib/adapters/dynamodb/catalog-items.ts";
import {
  checkpointItemKeys,
  simulationRegistryItem,
} from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../lib/domain/checkpoint.ts";
import { forEachLimited } from "../../lib/usecases/for-each-limited.ts";

/** DynamoDB's limit of items in one BatchWriteItem request. */
const BATCH_SIZE = 25;

/**
 * Puts `items` with BatchWriteItem, 25 a request and a few requests at once, sending again what
 * DynamoDB leaves unprocessed: one request per 25 items instead of one per item.
 */
export async function batchPut(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) batches.push(items.slice(i, i + BATCH_SIZE));
  await forEachLimited(batches, 4, async (batch) => {
    let requests = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      if (attempt > 10) throw new Error(`BatchWriteItem left ${requests.length} items unwritten`);
      const result = await doc.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  });
}

/**
 * Writes checkpoints straight into a catalog table, with the very items
 * `DynamoDbCheckpointStore.create` writes (the simulation registry included), in batches. For
 * tests that need thousands of records as a starting point, not as the thing under test.
 */
export async function seedCheckpoints(
  doc: DynamoDBDocumentClient,
  tableName: string,
  checkpoints: readonly Checkpoint[],
): Promise<void> {
  const simulations = new Set(checkpoints.map((checkpoint) => checkpoint.simulation));
  await batchPut(doc, tableName, [
    ...[...simulations].map(simulationRegistryItem),
    ...checkpoints.map((checkpoint) => {
      const valid = CheckpointSchema.parse(checkpoint);
      return { ...withoutUndefined(valid), ...checkpointItemKeys(valid) };
    }),
  ]);
}

/** Puts one small object at each location, 16 at a time (S3 has no batch put). */
export async function putObjects(
  s3: S3Client,
  locations: readonly S3Location[],
  body: string,
): Promise<void> {
  await forEachLimited(locations, 16, (location) =>
    s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body })),
  );
}
