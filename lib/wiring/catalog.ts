import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbCheckpointStore } from "../adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../adapters/dynamodb/job-store.ts";
import { DynamoDbTagCache } from "../adapters/dynamodb/tag-cache.ts";
import type { CheckpointStore, JobStore, TagCache } from "../ports/catalog.ts";
import type { FunctionName } from "../topology.ts";
import { needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const stores = once(() => {
  const settings = processSettings();
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: settings.AWS_REGION }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    checkpoints: new DynamoDbCheckpointStore(documents, settings.SIMSNAP_TABLE),
    jobs: new DynamoDbJobStore(documents, settings.SIMSNAP_TABLE),
    tags: new DynamoDbTagCache(documents, settings.SIMSNAP_TABLE),
  };
});

/**
 * The catalog stores on the table `SIMSNAP_TABLE` (one DynamoDB client per process), as function
 * `name` declares them: writes only with `catalog: "write"`, a listing across simulations only
 * with its `scan`. Anything else rejects, as IAM rejects it in AWS.
 */
export function catalog(name: FunctionName): { checkpoints: CheckpointStore; jobs: JobStore } {
  const needs = needsOf(name);
  const write = needs.catalog === "write";
  const { checkpoints, jobs } = stores();
  return {
    checkpoints: restrict(
      checkpoints,
      {
        get: true,
        getMany: true,
        listBySimulation: true,
        listSimulations: true,
        simulationRecords: true,
        backfillSimulationRecord: write || needs.catalog === "cache",
        create: write,
        save: write,
        claimLocation: write,
      },
      (method) => undeclared(name, `checkpoints.${method} (catalog: "write")`),
    ),
    jobs: restrict(
      jobs,
      {
        get: true,
        listOpen: true,
        listBySimulation: true,
        create: write,
        save: write,
        listAll: needs.scan === "jobs",
        listAllOpen: needs.scan === "openJobs",
      },
      (method) =>
        undeclared(
          name,
          `jobs.${method} (${method.startsWith("listAll") ? "a scan" : 'catalog: "write"'})`,
        ),
    ),
  };
}

/**
 * The tag cache in the catalog table, for a function that reads tags for schedule selectors:
 * refreshing an entry is a batch write, so it needs `catalog: "cache"`, as IAM does in AWS.
 */
export function tagCache(name: FunctionName): TagCache {
  if (needsOf(name).catalog !== "cache") throw undeclared(name, 'the tag cache (catalog: "cache")');
  return stores().tags;
}
