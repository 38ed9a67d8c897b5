import { QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JobSchema, isJobFinished, type Job, type JobKind } from "../../domain/job.ts";
import type { JobStore, ListOptions, Page } from "../../ports/catalog.ts";
import { creationSortKey, VersionedItems } from "./catalog-items.ts";
import { catalogTable } from "./table-schema.ts";

const jobKey = (id: string) => ({ pk: `JOB#${id}`, sk: "JOB" });

/** The `byCreated` partition of a simulation's jobs. */
export const jobPartition = (simulation: string): string => `SIM#${simulation}#JOB`;

/** The sparse `openJobs` partition holding a simulation's RUNNING jobs. */
export const openJobsPartition = (simulation: string): string => `OPEN#${simulation}`;

/**
 * The job records in the single DynamoDB table. A RUNNING job carries the sparse `openJobs` key;
 * saving it finished writes the item without that key, which drops it from the index, so open
 * jobs are found without reading every finished one.
 */
export class DynamoDbJobStore implements JobStore {
  private readonly items: VersionedItems<Job>;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.items = new VersionedItems(doc, tableName, {
      schema: JobSchema,
      label: "Job",
      keyOf: (job) => {
        const sortKey = creationSortKey(job.startTime, job.id);
        return {
          ...jobKey(job.id),
          gsi1pk: jobPartition(job.simulation),
          gsi1sk: sortKey,
          ...(isJobFinished(job)
            ? {}
            : { gsi2pk: openJobsPartition(job.simulation), gsi2sk: sortKey }),
        };
      },
    });
  }

  create(job: Job): Promise<boolean> {
    return this.items.create(job);
  }

  get(id: string): Promise<Job | undefined> {
    return this.items.get(jobKey(id));
  }

  save(next: Job): Promise<void> {
    return this.items.save(next);
  }

  async listOpen(simulation: string, kind?: JobKind): Promise<Job[]> {
    const jobs: Job[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: catalogTable.indexes.openJobs.name,
          KeyConditionExpression: "gsi2pk = :partition",
          ExpressionAttributeValues: {
            ":partition": openJobsPartition(simulation),
            ...(kind ? { ":kind": kind } : {}),
          },
          ...(kind
            ? { FilterExpression: "#kind = :kind", ExpressionAttributeNames: { "#kind": "kind" } }
            : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      jobs.push(...(page.Items ?? []).map((item) => this.items.parse(item)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return jobs;
  }

  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Job>> {
    return this.items.listByCreated(jobPartition(simulation), options);
  }
}
