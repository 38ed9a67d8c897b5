import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../domain/checkpoint.ts";
import { AppError } from "../../domain/errors.ts";
import type { CheckpointStore, ListOptions, Page } from "../../ports/catalog.ts";
import { creationSortKey, isConditionalCheckFailed, VersionedItems } from "./catalog-items.ts";

const checkpointKey = (id: string) => ({ pk: `CKPT#${id}`, sk: "CKPT" });

/** The `byCreated` partition of a simulation's checkpoints. */
export const checkpointPartition = (simulation: string): string => `SIM#${simulation}#CKPT`;

const locationKey = (location: S3Location) => ({
  pk: `LOC#${location.bucket}/${location.key}`,
  sk: "LOC",
});

/**
 * The checkpoint catalog in the single DynamoDB table. Every write is a conditional PutItem (no
 * transactions, so it runs on dynalite too); the version condition is what makes duplicate and
 * concurrent completions safe.
 */
export class DynamoDbCheckpointStore implements CheckpointStore {
  private readonly items: VersionedItems<Checkpoint>;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.items = new VersionedItems(doc, tableName, {
      schema: CheckpointSchema,
      label: "Checkpoint",
      keyOf: (checkpoint) => ({
        ...checkpointKey(checkpoint.id),
        gsi1pk: checkpointPartition(checkpoint.simulation),
        gsi1sk: creationSortKey(checkpoint.createdAt, checkpoint.id),
      }),
    });
  }

  create(checkpoint: Checkpoint): Promise<boolean> {
    return this.items.create(checkpoint);
  }

  get(id: string): Promise<Checkpoint | undefined> {
    return this.items.get(checkpointKey(id));
  }

  save(next: Checkpoint): Promise<void> {
    return this.items.save(next);
  }

  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>> {
    return this.items.listByCreated(checkpointPartition(simulation), options);
  }

  /** A put-if-absent claim item; on a lost race a consistent read names the winner. */
  async claimLocation(location: S3Location, checkpointId: string): Promise<string> {
    const key = locationKey(location);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, bucket: location.bucket, key: location.key, checkpointId },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return checkpointId;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (typeof Item?.checkpointId !== "string") {
      throw new AppError(`Location claim ${key.pk} is unreadable`);
    }
    return Item.checkpointId;
  }
}
