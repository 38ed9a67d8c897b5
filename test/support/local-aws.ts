import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createCatalogTable } from "../../lib/adapters/dynamodb/create-table.ts";
import { startLocalServers, type LocalServers } from "../../lib/local/servers.ts";

/** The static credentials every local client signs with; the servers accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** What an integration test gets: the embedded servers and SDK clients pointed at them. */
export interface LocalAws {
  servers: LocalServers;
  dataDir: string;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  close(): Promise<void>;
}

/** What a test needs created before it starts: buckets and catalog tables. */
export interface LocalAwsOptions {
  buckets?: readonly string[];
  catalogTables?: readonly string[];
}

const clientConfig = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: LOCAL_CREDENTIALS,
});

/**
 * Starts s3rver, dynalite (in memory) and local-aws-sqs in a fresh temporary directory and builds
 * the SDK clients the way the local runtime does (path-style S3, static credentials), then creates
 * the `buckets` and `catalogTables` asked for. `close` stops the servers and removes the
 * directory; call it in `afterAll`.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const dataDir = await mkdtemp(join(tmpdir(), "simsnap-it-"));
  const servers = await startLocalServers({ dataDir, dynamodbInMemory: true });
  const s3 = new S3Client({ ...clientConfig(servers.s3.endpoint), forcePathStyle: true });
  const dynamodb = new DynamoDBClient(clientConfig(servers.dynamodb.endpoint));
  const doc = DynamoDBDocumentClient.from(dynamodb);
  const sqs = new SQSClient(clientConfig(servers.sqs.endpoint));
  for (const Bucket of options.buckets ?? []) await s3.send(new CreateBucketCommand({ Bucket }));
  for (const table of options.catalogTables ?? []) await createCatalogTable(dynamodb, table);
  return {
    servers,
    dataDir,
    s3,
    dynamodb,
    doc,
    sqs,
    async close() {
      for (const client of [s3, dynamodb, sqs]) client.destroy();
      await servers.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
