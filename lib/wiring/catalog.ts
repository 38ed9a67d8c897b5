import type { CheckpointStore, JobStore, TagCache } from "../ports/catalog.ts";
import type { SlotStore } from "../ports/slots.ts";
import type { FunctionName } from "../topology.ts";
import { deferred, needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const stores = once(() => {
  // Read at the first builder's call (at init), so a missing table fails the cold start.
  const settings = processSettings();
  const table = settings.SIMSNAP_TABLE;
  // The SDK and the adapters are imported on the first catalog call (see `deferred`).
  const load = once(async () => {
    const dynamodb = await import("../adapters/dynamodb/deferred.ts");
    const documents = dynamodb.documentClient(settings.AWS_REGION);
    return {
      checkpoints: new dynamodb.DynamoDbCheckpointStore(documents, table),
      jobs: new dynamodb.DynamoDbJobStore(documents, table),
      tags: new dynamodb.DynamoDbTagCache(documents, table),
      slots: new dynamodb.DynamoDbSlotStore(documents, table),
    };
  });
  return {
    checkpoints: deferred<CheckpointStore>(async () => (await load()).checkpoints, {
      create: "call",
      get: "call",
      getMany: "call",
      save: "call",
      listBySimulation: "call",
      claimLocation: "call",
      claimsOf: "call",
      reassignLocation: "call",
      locationOwners: "call",
      listSimulations: "call",
      simulationRecords: "call",
      backfillSimulationRecord: "call",
    }),
    jobs: deferred<JobStore>(async () => (await load()).jobs, {
      create: "call",
      get: "call",
      save: "call",
      listOpen: "call",
      listBySimulation: "call",
      listStartedWithin: "call",
      listAll: "call",
      listAllOpen: "call",
    }),
    tags: deferred<TagCache>(async () => (await load()).tags, { get: "call", put: "call" }),
    slots: deferred<SlotStore>(async () => (await load()).slots, {
      read: "call",
      claim: "call",
    }),
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
        locationOwners: true,
        claimsOf: true,
        listBySimulation: true,
        listSimulations: true,
        simulationRecords: true,
        backfillSimulationRecord: write || needs.catalog === "cache",
        create: write,
        save: write,
        claimLocation: write,
        reassignLocation: write,
      },
      (method) => undeclared(name, `checkpoints.${method} (catalog: "write")`),
    ),
    jobs: restrict(
      jobs,
      {
        get: true,
        listOpen: true,
        listBySimulation: true,
        listStartedWithin: true,
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

/**
 * The cost guard's slots in the catalog table, for a function that starts what they bound: a
 * claim is a conditional write, so it needs `catalog: "write"`, as IAM does in AWS.
 */
export function slotStore(name: FunctionName): SlotStore {
  if (needsOf(name).catalog !== "write") throw undeclared(name, 'slots (catalog: "write")');
  return stores().slots;
}
