import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ValidationError } from "../../domain/errors.ts";
import { JobSchema, isJobFinished, type Job, type JobKind } from "../../domain/job.ts";
import type { JobStore, ListOptions, Page } from "../../ports/catalog.ts";
import {
  creationSortKey,
  readAll,
  readPastLimit,
  resolveLimit,
  VersionedItems,
} from "./catalog-items.ts";
import { catalogTable } from "./table-schema.ts";

const jobKey = (id: string) => ({ pk: `JOB#${id}`, sk: "JOB" });

/** The `byCreated` partition of a simulation's jobs (a `#` in the name is safe: `checkpointPartition`). */
export const jobPartition = (simulation: string): string => `SIM#${simulation}#JOB`;

/**
 * The position of a job scan: the table key of the last job returned, which is where DynamoDB
 * resumes a Scan, encoded as base64url so it travels in query strings unchanged.
 */
export const encodeScanCursor = (id: string): string =>
  Buffer.from(JSON.stringify(jobKey(id)), "utf8").toString("base64url");

/** Reads a job scan cursor back; anything else is the caller's mistake, a 400 naming `cursor`. */
export function decodeScanCursor(cursor: string): { pk: string; sk: string } {
  const reason = "not a cursor returned by a job listing";
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error(reason);
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw new ValidationError(`Invalid cursor: ${reason}`, [{ path: "cursor", message: reason }], {
      cause: error,
    });
  }
  const { pk, sk } = (key ?? {}) as { pk?: unknown; sk?: unknown };
  if (typeof pk !== "string" || !pk.startsWith("JOB#") || sk !== "JOB") {
    throw new ValidationError(`Invalid cursor: ${reason}`, [{ path: "cursor", message: reason }]);
  }
  return { pk, sk };
}

/** The sparse `openJobs` partition holding a simulation's RUNNING jobs. */
export const openJobsPartition = (simulation: string): string => `OPEN#${simulation}`;

/** The key attributes of a position in the `openJobs` index: the table key and the index key. */
export interface OpenJobsKey {
  pk: string;
  sk: string;
  gsi2pk: string;
  gsi2sk: string;
}

/**
 * The position of an open-jobs scan: the last returned job's table and index keys, which is
 * where DynamoDB resumes a Scan of an index (even if that job has left the index since), as
 * base64url so it travels in query strings unchanged.
 */
export const encodeOpenJobsCursor = (key: OpenJobsKey): string =>
  Buffer.from(JSON.stringify(key), "utf8").toString("base64url");

/** Reads an open-jobs cursor back; anything else is the caller's mistake, a 400 naming `cursor`. */
export function decodeOpenJobsCursor(cursor: string): OpenJobsKey {
  const reason = "not a cursor returned by an open-jobs listing";
  const invalid = (cause?: unknown) =>
    new ValidationError(
      `Invalid cursor: ${reason}`,
      [{ path: "cursor", message: reason }],
      cause === undefined ? undefined : { cause },
    );
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error(reason);
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw invalid(error);
  }
  const record = (typeof key === "object" && key !== null ? key : {}) as Record<string, unknown>;
  const names = ["pk", "sk", "gsi2pk", "gsi2sk"];
  if (
    Object.keys(record).length !== names.length ||
    names.some((name) => typeof record[name] !== "string") ||
    !String(record.pk).startsWith("JOB#") ||
    record.sk !== "JOB" ||
    !String(record.gsi2pk).startsWith("OPEN#")
  ) {
    throw invalid();
  }
  return record as unknown as OpenJobsKey;
}

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
    const items = await readAll((startKey) =>
      this.doc.send(
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
      ),
    );
    return items.map((item) => this.items.parse(item));
  }

  listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Job>> {
    return this.items.listByCreated(jobPartition(simulation), options);
  }

  /**
   * A Query of the simulation's `byCreated` partition between the sort keys of the range's ends
   * (`<startTime>#<id>`: the upper bound is followed by every id of its millisecond), following
   * DynamoDB's pages, with the kind as a filter.
   */
  async listStartedWithin(
    simulation: string,
    range: { from: Date; to: Date },
    kind?: JobKind,
  ): Promise<Job[]> {
    const items = await readAll((startKey) =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: catalogTable.indexes.byCreated.name,
          KeyConditionExpression: "gsi1pk = :partition AND gsi1sk BETWEEN :from AND :to",
          ExpressionAttributeValues: {
            ":partition": jobPartition(simulation),
            ":from": `${range.from.toISOString()}#`,
            ":to": `${range.to.toISOString()}#\uffff`,
            ...(kind ? { ":kind": kind } : {}),
          },
          ...(kind
            ? { FilterExpression: "#kind = :kind", ExpressionAttributeNames: { "#kind": "kind" } }
            : {}),
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    return items.map((item) => this.items.parse(item));
  }

  /**
   * A filtered table Scan (no index holds every job). A Scan's `Limit` counts the items it reads,
   * not the jobs it keeps, so it reads on until the page is full; the cursor is the last returned
   * job's key, from which a Scan resumes exactly, even in the middle of a DynamoDB page.
   */
  async listAll(options: Pick<ListOptions, "limit" | "cursor"> = {}): Promise<Page<Job>> {
    const limit = resolveLimit(options.limit);
    const startKey = options.cursor ? decodeScanCursor(options.cursor) : undefined;
    // The filter applies after DynamoDB's Limit, so every read asks for a whole page again.
    const { items, more } = await readPastLimit(limit, startKey, (from) =>
      this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: "sk = :sk",
          ExpressionAttributeValues: { ":sk": "JOB" },
          Limit: limit + 1,
          ExclusiveStartKey: from,
        }),
      ),
    );
    const jobs = items.map((item) => this.items.parse(item));
    const last = jobs.at(-1);
    return { items: jobs, ...(more && last ? { nextCursor: encodeScanCursor(last.id) } : {}) };
  }

  /**
   * A Scan of the sparse `openJobs` index, which holds RUNNING jobs only, so the sweep reads no
   * finished job however long the history. It reads one item past the page, so the last page
   * carries no cursor, and reads on when DynamoDB stops early at its 1 MB response limit.
   */
  async listAllOpen(options: Pick<ListOptions, "limit" | "cursor"> = {}): Promise<Page<Job>> {
    const limit = resolveLimit(options.limit);
    const startKey = options.cursor ? { ...decodeOpenJobsCursor(options.cursor) } : undefined;
    const { items: pageItems, more } = await readPastLimit(limit, startKey, (from, wanted) =>
      this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          IndexName: catalogTable.indexes.openJobs.name,
          Limit: wanted,
          ExclusiveStartKey: from,
        }),
      ),
    );
    const last = pageItems.at(-1);
    return {
      items: pageItems.map((item) => this.items.parse(item)),
      ...(more && last
        ? {
            nextCursor: encodeOpenJobsCursor({
              pk: String(last.pk),
              sk: String(last.sk),
              gsi2pk: String(last.gsi2pk),
              gsi2sk: String(last.gsi2sk),
            }),
          }
        : {}),
    };
  }
}
