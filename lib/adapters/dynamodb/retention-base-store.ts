import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  RetentionBaseSchema,
  type RetentionBase,
  type RetentionScope,
} from "../../domain/retention.ts";
import type { RetentionBaseStore } from "../../ports/retention-bases.ts";
import { isConditionalCheckFailed } from "./catalog-items.ts";

const baseKey = (scope: RetentionScope, simulation: string) => ({
  pk: `RETENTION#${scope}#${simulation}`,
  sk: "BASE",
});

/**
 * Retention bases in the catalog table, one item per simulation and scope
 * (`RETENTION#<scope>#<simulation>`/`BASE`), read consistently (a run right after another must see
 * its base) and written with a condition on `at`, so the later run's base always wins (one that
 * approved nothing only on an empty place).
 */
export class DynamoDbRetentionBaseStore implements RetentionBaseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(scope: RetentionScope, simulation: string): Promise<RetentionBase | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: baseKey(scope, simulation),
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    // The key attributes are not fields of a base: the schema leaves them out.
    const parsed = RetentionBaseSchema.safeParse(Item);
    return parsed.success ? parsed.data : undefined;
  }

  async put(base: RetentionBase): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...baseKey(base.scope, base.simulation), ...base },
          ...(base.policy === undefined
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "attribute_not_exists(pk) OR #at <= :at",
                ExpressionAttributeNames: { "#at": "at" },
                ExpressionAttributeValues: { ":at": base.at },
              }),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
