import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { createCatalogTable } from "../../lib/adapters/dynamodb/create-table.ts";
import { DynamoDbJobStore } from "../../lib/adapters/dynamodb/job-store.ts";
import { describeCatalogContract } from "../support/catalog-contract.ts";
import { seedCheckpoints } from "../support/catalog-seed.ts";
import { checkpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
let tables = 0;

beforeAll(async () => {
  aws = await startLocalAws();
});

afterAll(async () => {
  await aws?.close();
});

describeCatalogContract("DynamoDB stores on dynalite", async () => {
  tables += 1;
  const tableName = `catalog-${tables}`;
  await createCatalogTable(aws.dynamodb, tableName);
  return {
    checkpoints: new DynamoDbCheckpointStore(aws.doc, tableName),
    jobs: new DynamoDbJobStore(aws.doc, tableName),
  };
});

describe("DynamoDbCheckpointStore on large records", () => {
  it("fills a page even when DynamoDB stops a query at its 1 MB response limit", async () => {
    await createCatalogTable(aws.dynamodb, "catalog-large");
    const store = new DynamoDbCheckpointStore(aws.doc, "catalog-large");
    const tags = Array.from(
      { length: 50 },
      (_, i) => `${String(i).padStart(2, "0")}${"t".repeat(126)}`,
    );
    const created = Array.from({ length: 200 }, (_, i) => ({
      id: `cp-${String(i).padStart(3, "0")}`,
      version: 1,
      simulation: "big",
      provider: "simspaceweaver",
      name: `cp-${i}`,
      description: "d".repeat(1024),
      tags,
      favorite: false,
      state: "PENDING" as const,
      trigger: "schedule" as const,
      createdAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
      modifiedAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
    }));
    for (let i = 0; i < created.length; i += 20) {
      await Promise.all(created.slice(i, i + 20).map((checkpoint) => store.create(checkpoint)));
    }

    const first = await store.listBySimulation("big", { limit: 190 });
    expect(first.items.map((c) => c.id)).toEqual(created.slice(0, 190).map((c) => c.id));
    const rest = await store.listBySimulation("big", { limit: 190, cursor: first.nextCursor });
    expect(rest.items.map((c) => c.id)).toEqual(created.slice(190).map((c) => c.id));
    expect(rest.nextCursor).toBeUndefined();
  });
});

describe("DynamoDbCheckpointStore.getMany", () => {
  it("reads 100 keys a request, consistently, and sends again what DynamoDB leaves unprocessed", async () => {
    await createCatalogTable(aws.dynamodb, "catalog-many");
    const store = new DynamoDbCheckpointStore(aws.doc, "catalog-many");
    const created = Array.from({ length: 150 }, (_, i) =>
      checkpoint({ id: `cp-${String(i).padStart(3, "0")}`, createdAt: new Date(i).toISOString() }),
    );
    await seedCheckpoints(aws.doc, "catalog-many", created);
    type BatchInput = {
      RequestItems: Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>;
    };
    const sent: { keys: number; consistent: boolean | undefined }[] = [];
    // The first answer to each request holds back its last 30 keys, as DynamoDB does when throttled.
    aws.doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "BatchGetItemCommand") return next(args);
        const request = (args.input as BatchInput).RequestItems["catalog-many"]!;
        sent.push({ keys: request.Keys.length, consistent: request.ConsistentRead });
        if (request.Keys.length <= 30) return next(args);
        const held = request.Keys.slice(-30);
        const result = await next({
          ...args,
          input: {
            RequestItems: { "catalog-many": { ...request, Keys: request.Keys.slice(0, -30) } },
          },
        });
        const output = result.output as { UnprocessedKeys?: unknown };
        output.UnprocessedKeys = { "catalog-many": { Keys: held } };
        return result;
      },
      { step: "initialize", name: "holdBackKeys" },
    );
    try {
      const found = await store.getMany(created.map((c) => c.id));
      expect([...found.keys()].sort()).toEqual(created.map((c) => c.id));
      expect(found.get("cp-149")).toEqual(created[149]);
    } finally {
      aws.doc.middlewareStack.remove("holdBackKeys");
    }
    expect(sent.map((s) => s.keys).sort((a, b) => a - b)).toEqual([30, 30, 50, 100]);
    expect(sent.every((s) => s.consistent === true)).toBe(true);
  });
});

describe("createCatalogTable", () => {
  it("creates the table with both indexes and is a no-op when it exists", async () => {
    await createCatalogTable(aws.dynamodb, "catalog-twice");
    await Promise.all([
      createCatalogTable(aws.dynamodb, "catalog-twice"),
      createCatalogTable(aws.dynamodb, "catalog-twice"),
    ]);

    const { Table } = await aws.dynamodb.send(
      new DescribeTableCommand({ TableName: "catalog-twice" }),
    );
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema?.map((key) => key.AttributeName),
      projection: index.Projection?.ProjectionType,
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { name: "byCreated", keys: ["gsi1pk", "gsi1sk"], projection: "ALL" },
      { name: "openJobs", keys: ["gsi2pk", "gsi2sk"], projection: "ALL" },
    ]);
  });
});
