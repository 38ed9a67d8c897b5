import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../domain/checkpoint.ts";
import { AppError } from "../../domain/errors.ts";
import {
  locationId,
  type CheckpointStore,
  type ListOptions,
  type Page,
  type SimulationRecord,
} from "../../ports/catalog.ts";
import { batchGet } from "./batch.ts";
import {
  creationSortKey,
  isConditionalCheckFailed,
  readAll,
  VersionedItems,
} from "./catalog-items.ts";
import { catalogTable } from "./table-schema.ts";

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

const registryKey = (simulation: string) => ({
  pk: SIMULATIONS_PARTITION,
  sk: `SIM#${simulation}`,
});

/** A time as UTC milliseconds, so that string order in a condition expression is time order. */
const utc = (time: string): string => new Date(time).toISOString();

/** A checkpoint that was once COMPLETE: DELETED ones were COMPLETE before retention removed them. */
const wasCompleted = (checkpoint: Checkpoint): boolean =>
  checkpoint.state === "COMPLETE" || checkpoint.state === "DELETED";

/**
 * The registry item of a simulation with what its record says, times in UTC milliseconds; see
 * `checkpointItemKeys` for why exported.
 */
export const simulationRegistryItem = (record: SimulationRecord): Record<string, string> => ({
  ...registryKey(record.simulation),
  simulation: record.simulation,
  ...(record.firstCheckpointAt === undefined
    ? {}
    : { firstCheckpointAt: utc(record.firstCheckpointAt) }),
  ...(record.newestCompletedAt === undefined
    ? {}
    : { newestCompletedAt: utc(record.newestCompletedAt) }),
});

const locationKey = (location: S3Location) => ({
  pk: `LOC#${location.bucket}/${location.key}`,
  sk: "LOC",
});

/** The `byCreated` partition of the claims one checkpoint holds (`claimsOf`). */
const claimsPartition = (checkpointId: string): string => `CLAIMS#${checkpointId}`;

/** A claim item: its key, the file, its owner, and its entry in the owner's claims partition. */
const claimItem = (location: S3Location, checkpointId: string) => ({
  ...locationKey(location),
  bucket: location.bucket,
  key: location.key,
  checkpointId,
  gsi1pk: claimsPartition(checkpointId),
  gsi1sk: locationId(location),
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

  /**
   * Also registers the simulation, so `listSimulations` never scans: a put-if-absent, so the
   * registry item keeps its first checkpoint's time and its newest completion. A checkpoint
   * created already COMPLETE (a platform's, a discovered file) moves the newest completion.
   */
  async create(checkpoint: Checkpoint): Promise<boolean> {
    let registered = false;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: simulationRegistryItem({
            simulation: checkpoint.simulation,
            firstCheckpointAt: checkpoint.createdAt,
            ...(wasCompleted(checkpoint) ? { newestCompletedAt: checkpoint.createdAt } : {}),
          }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      registered = true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const created = await this.items.create(checkpoint);
    if (!registered && wasCompleted(checkpoint)) await this.recordCompletion(checkpoint);
    return created;
  }

  /**
   * Raises the registry's newest completion to this checkpoint's time, never lowers it: a
   * duplicate or out-of-order completion changes nothing, so it is safe to repeat.
   */
  private async recordCompletion(checkpoint: Checkpoint): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKey(checkpoint.simulation),
          UpdateExpression: "SET newestCompletedAt = :created",
          ConditionExpression:
            "attribute_exists(pk) AND (attribute_not_exists(newestCompletedAt) OR newestCompletedAt < :created)",
          ExpressionAttributeValues: { ":created": utc(checkpoint.createdAt) },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async simulationRecords(simulations: readonly string[]): Promise<Map<string, SimulationRecord>> {
    const items = await batchGet(
      this.doc,
      this.tableName,
      [...new Set(simulations)].map(registryKey),
    );
    const records = new Map<string, SimulationRecord>();
    for (const item of items) {
      if (typeof item.simulation !== "string") continue;
      const record: SimulationRecord = { simulation: item.simulation };
      if (typeof item.newestCompletedAt === "string") {
        record.newestCompletedAt = item.newestCompletedAt;
      }
      if (typeof item.firstCheckpointAt === "string") {
        record.firstCheckpointAt = item.firstCheckpointAt;
      }
      records.set(item.simulation, record);
    }
    return records;
  }

  async backfillSimulationRecord(record: SimulationRecord): Promise<void> {
    if (record.firstCheckpointAt === undefined) return;
    const newest = record.newestCompletedAt;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKey(record.simulation),
          UpdateExpression:
            newest === undefined
              ? "SET firstCheckpointAt = :first"
              : "SET firstCheckpointAt = :first, newestCompletedAt = :newest",
          ConditionExpression:
            "attribute_exists(pk) AND attribute_not_exists(firstCheckpointAt)" +
            (newest === undefined
              ? ""
              : " AND (attribute_not_exists(newestCompletedAt) OR newestCompletedAt <= :newest)"),
          ExpressionAttributeValues: {
            ":first": utc(record.firstCheckpointAt),
            ...(newest === undefined ? {} : { ":newest": utc(newest) }),
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async listSimulations(): Promise<string[]> {
    const items = await readAll((startKey) =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": SIMULATIONS_PARTITION },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    const names: string[] = [];
    for (const item of items) {
      if (typeof item.simulation === "string") names.push(item.simulation);
    }
    return names.sort();
  }

  get(id: string): Promise<Checkpoint | undefined> {
    return this.items.get(checkpointKey(id));
  }

  /** Strongly consistent BatchGetItem, 100 keys to a request (see `batchGet`). */
  async getMany(ids: readonly string[]): Promise<Map<string, Checkpoint>> {
    const items = await batchGet(this.doc, this.tableName, [...new Set(ids)].map(checkpointKey), {
      consistent: true,
    });
    const found = new Map<string, Checkpoint>();
    for (const item of items) {
      const checkpoint = this.items.parse(item);
      found.set(checkpoint.id, checkpoint);
    }
    return found;
  }

  /**
   * A save of a COMPLETE checkpoint also raises the registry's newest completion, after the
   * checkpoint itself is saved: a crash between the two leaves the registry older than the
   * catalog (the freshness alarm errs towards stale until the next completion), never newer.
   */
  async save(next: Checkpoint): Promise<void> {
    await this.items.save(next);
    if (next.state === "COMPLETE") await this.recordCompletion(next);
  }

  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>> {
    return this.items.listByCreated(checkpointPartition(simulation), options);
  }

  /**
   * BatchGetItem of the claim items, eventually consistent: a claim a moment old that the read
   * misses only sends its file through `claimLocation` once more, which then names the owner.
   */
  async locationOwners(locations: readonly S3Location[]): Promise<Map<string, string>> {
    const unique = new Map(locations.map((location) => [locationId(location), location]));
    const items = await batchGet(this.doc, this.tableName, [...unique.values()].map(locationKey));
    const owners = new Map<string, string>();
    for (const item of items) {
      const { bucket, key, checkpointId } = item;
      if (typeof bucket !== "string" || typeof key !== "string" || typeof checkpointId !== "string")
        throw new AppError(`Location claim ${String(item.pk)} is unreadable`);
      owners.set(locationId({ bucket, key }), checkpointId);
    }
    return owners;
  }

  /** A put-if-absent claim item; on a lost race a consistent read names the winner. */
  async claimLocation(location: S3Location, checkpointId: string): Promise<string> {
    const key = locationKey(location);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: claimItem(location, checkpointId),
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

  /** A Query of the checkpoint's claims partition in `byCreated` (eventually consistent). */
  async claimsOf(checkpointId: string): Promise<S3Location[]> {
    const items = await readAll((startKey) =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: catalogTable.indexes.byCreated.name,
          KeyConditionExpression: "gsi1pk = :partition",
          ExpressionAttributeValues: { ":partition": claimsPartition(checkpointId) },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    return items.map((item) => {
      const { bucket, key } = item;
      if (typeof bucket !== "string" || typeof key !== "string") {
        throw new AppError(`Location claim ${String(item.pk)} is unreadable`);
      }
      return { bucket, key };
    });
  }

  /** A PutItem on the condition that `from` owns the claim; on a refusal a consistent read. */
  async reassignLocation(
    location: S3Location,
    from: string,
    to: string,
  ): Promise<string | undefined> {
    const key = locationKey(location);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: claimItem(location, to),
          ConditionExpression: "checkpointId = :from",
          ExpressionAttributeValues: { ":from": from },
        }),
      );
      return to;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    if (typeof Item.checkpointId !== "string") {
      throw new AppError(`Location claim ${key.pk} is unreadable`);
    }
    return Item.checkpointId;
  }
}
