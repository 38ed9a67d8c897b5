import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

// What the wiring imports with `import()` on the first catalog call: the client and every store
// on it, in one module, so a bundle split at that import loads them as a few chunks rather than
// one per store. Named imports let the bundler keep the client alone, where importing the SDK
// package's namespace would keep every one of its commands.
export { DynamoDbCheckpointStore } from "./checkpoint-store.ts";
export { DynamoDbJobStore } from "./job-store.ts";
export { DynamoDbRetentionBaseStore } from "./retention-base-store.ts";
export { DynamoDbSlotStore } from "./slot-store.ts";
export { DynamoDbTagCache } from "./tag-cache.ts";

/** The document client the catalog's stores share. */
export const documentClient = (region: string | undefined): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
