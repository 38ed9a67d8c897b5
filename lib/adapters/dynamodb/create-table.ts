import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
} from "@aws-sdk/client-dynamodb";
import { catalogTable } from "./table-schema.ts";

const index = (definition: {
  name: string;
  partitionKey: string;
  sortKey: string;
}): GlobalSecondaryIndex => ({
  IndexName: definition.name,
  KeySchema: [
    { AttributeName: definition.partitionKey, KeyType: "HASH" },
    { AttributeName: definition.sortKey, KeyType: "RANGE" },
  ],
  Projection: { ProjectionType: "ALL" },
});

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Creates the catalog table with the key design of `catalogTable` when it is missing, and waits
 * until it is ACTIVE. The local runtime and the tests need it because dynalite starts empty; on
 * AWS the CDK stack owns the table. Safe to call repeatedly and concurrently.
 */
export async function createCatalogTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, indexes } = catalogTable;
  if (!(await tableExists(client, tableName))) {
    const keyNames = [
      partitionKey,
      sortKey,
      indexes.byCreated.partitionKey,
      indexes.byCreated.sortKey,
      indexes.openJobs.partitionKey,
      indexes.openJobs.sortKey,
    ];
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: keyNames.map((name) => ({
            AttributeName: name,
            AttributeType: "S",
          })),
          KeySchema: [
            { AttributeName: partitionKey, KeyType: "HASH" },
            { AttributeName: sortKey, KeyType: "RANGE" },
          ],
          GlobalSecondaryIndexes: [index(indexes.byCreated), index(indexes.openJobs)],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilTableExists(
    { client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 },
    { TableName: tableName },
  );
}
