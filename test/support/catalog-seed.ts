import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { batchPut } from "../../lib/adapters/dynamodb/batch.ts";
import { withoutUndefined } from "../../lib/adapters/dynamodb/catalog-items.ts";
import {
  checkpointItemKeys,
  simulationRegistryItem,
} from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../lib/domain/checkpoint.ts";
import type { SimulationRecord } from "../../lib/ports/catalog.ts";
import { forEachLimited } from "../../lib/usecases/for-each-limited.ts";

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
  const records = new Map<string, SimulationRecord>();
  for (const { simulation, createdAt, state } of checkpoints) {
    const record = records.get(simulation) ?? { simulation, firstCheckpointAt: createdAt };
    const time = Date.parse(createdAt);
    if (time < Date.parse(record.firstCheckpointAt ?? createdAt))
      record.firstCheckpointAt = createdAt;
    const completed = state === "COMPLETE" || state === "DELETED";
    const newest = record.newestCompletedAt;
    if (completed && (newest === undefined || time > Date.parse(newest))) {
      record.newestCompletedAt = createdAt;
    }
    records.set(simulation, record);
  }
  await batchPut(doc, tableName, [
    ...[...records.values()].map(simulationRegistryItem),
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
