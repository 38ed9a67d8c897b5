import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../domain/checkpoint.ts";
import { AppError } from "../../domain/errors.ts";
import type { CheckpointStore, ListOptions, Page } from "../../ports/catalog.ts";
import { creationSortKey, isConditionalCheckFailed, VersionedItems } from "./catalog-items.ts";

const checkpointKey = (id: string) => ({ pk: `CKPT#${id}`, sk: "CKPT" });

/**
 * The `byCreated` partition of a simulation's checkpoints. Simulation names may contain `#` (NVIDIA
 * Air's are free text), and need no escaping: every key holding a name is a fixed prefix, the
 * name and a fixed suffix (`SIM#<name>#CKPT`, `SIM#<name>#JOB`, `OPEN#<name>`, the registry's
 * `SIM#<name>`), each kind with its own prefix or suffix, and every read matches the whole key
 * (no `begins_with`), so no name can spell another simulation's key or another kind's.
 */
export const checkpointPartition = (simulation: string): string => `SIM#${simulation}#CKPT`;

/** The registry partition listing every simulation with checkpoints. */
const SIMULATIONS_PARTITION = "SIMULATIONS";

/**
 * The key attributes of a checkpoint's item: its own key and its place in the `byCreated` index.
 * Exported so test support can seed the table in batches with exactly the items `create` writes.
 */
export const checkpointItemKeys = (checkpoint: Checkpoint): Record<string, string> => ({
  ...checkpointKey(checkpoint.id),
  gsi1pk: checkpointPartition(checkpoint.simulation),
  gsi1sk: creationSortKey(checkpoint.createdAt, checkpoint.id),
});

/** The registry item `create` puts for a simulation; see `checkpointItemKeys` for why exported. */
export const simulationRegistryItem = (simulation: string): Record<string, string> => ({
  pk: SIMULATIONS_PARTITION,
  sk: `SIM#${simulation}`,
  simulation,
});

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
      keyOf: checkpointItemKeys,
    });
  }

  /** Also registers the simulation (an idempotent put), so `listSimulations` never scans. */
  async create(checkpoint: Checkpoint): Promise<boolean> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: simulationRegistryItem(checkpoint.simulation),
      }),
    );
    return this.items.create(checkpoint);
  }

  async listSimulations(): Promise<string[]> {
    const names: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": SIMULATIONS_PARTITION },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.simulation === "string") names.push(item.simulation);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return names.sort();
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
