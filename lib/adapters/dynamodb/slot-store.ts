import { PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Slot, SlotStore } from "../../ports/slots.ts";
import { batchGet } from "./batch.ts";
import { isConditionalCheckFailed } from "./catalog-items.ts";

const slotKey = (pool: string, index: number) => ({ pk: `SLOT#${pool}#${index}`, sk: "SLOT" });

/**
 * Slots in the catalog table, one item each (`SLOT#<pool>#<index>`), claimed with a conditional
 * PutItem on the holder read before, so two planners can never both take the same slot.
 */
export class DynamoDbSlotStore implements SlotStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(pool: string, count: number): Promise<Slot[]> {
    const keys = Array.from({ length: count }, (_, index) => slotKey(pool, index));
    const items = await batchGet(this.doc, this.tableName, keys, { consistent: true });
    const byIndex = new Map<number, Slot>();
    for (const item of items) {
      const { index, holder, claimedAt } = item;
      if (typeof index !== "number" || typeof holder !== "string") continue;
      byIndex.set(index, {
        index,
        holder,
        ...(typeof claimedAt === "string" ? { claimedAt } : {}),
      });
    }
    return Array.from({ length: count }, (_, index) => byIndex.get(index) ?? { index });
  }

  async claim(
    pool: string,
    index: number,
    expected: string | undefined,
    holder: string,
    at: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...slotKey(pool, index), pool, index, holder, claimedAt: at },
          ...(expected === undefined
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "holder = :expected",
                ExpressionAttributeValues: { ":expected": expected },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
