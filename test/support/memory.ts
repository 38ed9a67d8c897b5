import { createHash } from "node:crypto";
import type { z } from "zod";
import {
  creationSortKey,
  decodeCursor,
  encodeCursor,
  resolveLimit,
  withoutUndefined,
} from "../../lib/adapters/dynamodb/catalog-items.ts";
import { checkpointPartition } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import {
  decodeOpenJobsCursor,
  decodeScanCursor,
  encodeOpenJobsCursor,
  encodeScanCursor,
  jobPartition,
  openJobsPartition,
} from "../../lib/adapters/dynamodb/job-store.ts";
import { validateDelaySeconds } from "../../lib/adapters/sqs/message-queue.ts";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../lib/domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../lib/domain/errors.ts";
import type { DomainEvent } from "../../lib/domain/events.ts";
import { isJobFinished, JobSchema, type Job, type JobKind } from "../../lib/domain/job.ts";
import { parseInput } from "../../lib/domain/validation.ts";
import type { CheckpointStore, JobStore, ListOptions, Page } from "../../lib/ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../lib/ports/messaging.ts";
import {
  MAX_DELETE_KEYS,
  type DeleteManyResult,
  type ObjectInfo,
  type ObjectStore,
} from "../../lib/ports/object-store.ts";

interface Versioned {
  id: string;
  version: number;
}

/**
 * The conditional-write semantics of the DynamoDB stores, over a Map: the same validation on
 * write, the same version condition, the same `byCreated` order and the same cursor format, so a
 * use case tested against it behaves the same against DynamoDB (the shared contract suite checks
 * both). Records are copied in and out, so callers cannot change stored state by mutation.
 */
class MemoryRecords<T extends Versioned> {
  private readonly records = new Map<string, T>();

  constructor(
    private readonly schema: z.ZodType<T, unknown>,
    private readonly label: string,
    private readonly partitionOf: (record: T) => string,
    private readonly timeOf: (record: T) => string,
  ) {}

  private store(record: T): void {
    const valid = parseInput(this.schema, record, this.label);
    this.records.set(record.id, structuredClone(withoutUndefined(valid)));
  }

  private load(record: T): T {
    return this.schema.parse(structuredClone(record));
  }

  create(record: T): boolean {
    if (this.records.has(record.id)) return false;
    this.store(record);
    return true;
  }

  get(id: string): T | undefined {
    const record = this.records.get(id);
    return record ? this.load(record) : undefined;
  }

  save(next: T): void {
    const stored = this.records.get(next.id);
    if (stored?.version !== next.version - 1) {
      throw new ConcurrentModificationError(
        `${this.label} ${next.id} changed since it was read (expected stored version ${next.version - 1})`,
      );
    }
    this.store(next);
  }

  /** Every record, in table-key order (`<key prefix><id>`, the order a Scan returns). */
  all(): T[] {
    return [...this.records.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((record) => this.load(record));
  }

  /** Records of one partition in `byCreated` order, with their sort keys. */
  sorted(partition: string, newestFirst = false): { sortKey: string; record: T }[] {
    const rows = [...this.records.values()]
      .filter((record) => this.partitionOf(record) === partition)
      .map((record) => ({ sortKey: creationSortKey(this.timeOf(record), record.id), record }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    return newestFirst ? rows.reverse() : rows;
  }

  list(partition: string, keyPrefix: string, sk: string, options: ListOptions = {}): Page<T> {
    const limit = resolveLimit(options.limit);
    const after = options.cursor ? decodeCursor(options.cursor, partition).gsi1sk : undefined;
    const rows = this.sorted(partition, options.newestFirst).filter(
      ({ sortKey }) =>
        after === undefined || (options.newestFirst ? sortKey < after : sortKey > after),
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(({ record }) => this.load(record)),
      ...(rows.length > limit && last
        ? {
            nextCursor: encodeCursor({
              pk: `${keyPrefix}${last.record.id}`,
              sk,
              gsi1pk: partition,
              gsi1sk: last.sortKey,
            }),
          }
        : {}),
    };
  }
}

/** A `CheckpointStore` for use-case tests, with the DynamoDB store's contract. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly records = new MemoryRecords<Checkpoint>(
    CheckpointSchema,
    "Checkpoint",
    (checkpoint) => checkpointPartition(checkpoint.simulation),
    (checkpoint) => checkpoint.createdAt,
  );
  private readonly claims = new Map<string, string>();
  private readonly simulations = new Set<string>();

  async create(checkpoint: Checkpoint): Promise<boolean> {
    this.simulations.add(checkpoint.simulation);
    return this.records.create(checkpoint);
  }

  async listSimulations(): Promise<string[]> {
    return [...this.simulations].sort();
  }

  async get(id: string): Promise<Checkpoint | undefined> {
    return this.records.get(id);
  }

  async save(next: Checkpoint): Promise<void> {
    this.records.save(next);
  }

  async listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>> {
    return this.records.list(checkpointPartition(simulation), "CKPT#", "CKPT", options);
  }

  async claimLocation(location: S3Location, checkpointId: string): Promise<string> {
    const key = `${location.bucket}/${location.key}`;
    const owner = this.claims.get(key);
    if (owner !== undefined) return owner;
    this.claims.set(key, checkpointId);
    return checkpointId;
  }
}

/** A `JobStore` for use-case tests, with the DynamoDB store's contract. */
export class MemoryJobStore implements JobStore {
  private readonly records = new MemoryRecords<Job>(
    JobSchema,
    "Job",
    (job) => jobPartition(job.simulation),
    (job) => job.startTime,
  );

  async create(job: Job): Promise<boolean> {
    return this.records.create(job);
  }

  async get(id: string): Promise<Job | undefined> {
    return this.records.get(id);
  }

  async save(next: Job): Promise<void> {
    this.records.save(next);
  }

  async listOpen(simulation: string, kind?: JobKind): Promise<Job[]> {
    return this.records
      .sorted(jobPartition(simulation))
      .map(({ record }) => record)
      .filter((job) => !isJobFinished(job) && (kind === undefined || job.kind === kind))
      .map((job) => JobSchema.parse(structuredClone(job)));
  }

  async listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Job>> {
    return this.records.list(jobPartition(simulation), "JOB#", "JOB", options);
  }

  async listAll(options: Pick<ListOptions, "limit" | "cursor"> = {}): Promise<Page<Job>> {
    const limit = resolveLimit(options.limit);
    const after = options.cursor ? decodeScanCursor(options.cursor).pk.slice("JOB#".length) : "";
    const rest = this.records.all().filter((job) => options.cursor === undefined || job.id > after);
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page,
      ...(rest.length > limit && last ? { nextCursor: encodeScanCursor(last.id) } : {}),
    };
  }

  async listAllOpen(options: Pick<ListOptions, "limit" | "cursor"> = {}): Promise<Page<Job>> {
    const limit = resolveLimit(options.limit);
    const after = options.cursor
      ? decodeOpenJobsCursor(options.cursor).pk.slice("JOB#".length)
      : undefined;
    const rest = this.records
      .all()
      .filter((job) => !isJobFinished(job) && (after === undefined || job.id > after));
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page,
      ...(rest.length > limit && last
        ? {
            nextCursor: encodeOpenJobsCursor({
              pk: `JOB#${last.id}`,
              sk: "JOB",
              gsi2pk: openJobsPartition(last.simulation),
              gsi2sk: creationSortKey(last.startTime, last.id),
            }),
          }
        : {}),
    };
  }
}

interface StoredObject {
  body: Uint8Array;
  size: number;
  etag: string;
  lastModified: Date;
}

/** An `ObjectStore` for use-case tests: S3's key order (UTF-8 bytes) and unquoted MD5 ETags. */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject>();

  constructor(private readonly clock: Clock = { now: () => new Date() }) {}

  async head(location: S3Location): Promise<ObjectInfo | undefined> {
    const object = this.objects.get(`${location.bucket}/${location.key}`);
    return object ? this.info(location.bucket, location.key, object) : undefined;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()]
      .filter((name) => name.startsWith(`${bucket}/${prefix}`))
      .map((name) => name.slice(bucket.length + 1))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const key of keys) {
      const object = this.objects.get(`${bucket}/${key}`);
      if (object) yield this.info(bucket, key, object);
    }
  }

  async put(location: S3Location, body: string | Uint8Array, _contentType?: string): Promise<void> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : new Uint8Array(body);
    this.objects.set(`${location.bucket}/${location.key}`, {
      body: bytes,
      size: bytes.byteLength,
      etag: createHash("md5").update(bytes).digest("hex"),
      lastModified: this.clock.now(),
    });
  }

  /** Every getText call's location, to check what a use case read. */
  readonly getTextCalls: S3Location[] = [];

  async getText(location: S3Location, maxBytes: number): Promise<string | undefined> {
    this.getTextCalls.push({ ...location });
    const object = this.objects.get(`${location.bucket}/${location.key}`);
    if (object === undefined || object.size > maxBytes) return undefined;
    return new TextDecoder().decode(object.body);
  }

  /** Keys whose deletion fails, as S3 reports a per-key error (e.g. AccessDenied). */
  readonly failingDeletes = new Set<string>();
  /** Every deleteMany call's keys, to count requests and check batch sizes. */
  readonly deleteCalls: string[][] = [];

  async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    if (keys.length > MAX_DELETE_KEYS)
      throw new Error(`deleteMany takes at most ${MAX_DELETE_KEYS} keys`);
    this.deleteCalls.push([...keys]);
    const result: DeleteManyResult = { deleted: [], failed: [] };
    for (const key of keys) {
      if (this.failingDeletes.has(key)) {
        result.failed.push({ key, code: "AccessDenied", message: "Access Denied" });
      } else {
        this.objects.delete(`${bucket}/${key}`);
        result.deleted.push(key);
      }
    }
    return result;
  }

  /** The stored bytes as text, for tests that read what a use case wrote. */
  text(location: S3Location): string | undefined {
    const object = this.objects.get(`${location.bucket}/${location.key}`);
    return object ? new TextDecoder().decode(object.body) : undefined;
  }

  private info(bucket: string, key: string, object: StoredObject): ObjectInfo {
    return {
      bucket,
      key,
      size: object.size,
      etag: object.etag,
      lastModified: new Date(object.lastModified),
    };
  }
}

/**
 * A `MessageQueue` that records what was sent. Messages go through JSON like an SQS body, so a
 * message that would not survive serialization fails here too; delays are checked like SQS.
 */
export class MemoryQueue<T> implements MessageQueue<T> {
  readonly sent: { message: T; delaySeconds: number }[] = [];

  async send(message: T, options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds = validateDelaySeconds(options.delaySeconds ?? 0);
    this.sent.push({ message: JSON.parse(JSON.stringify(message)) as T, delaySeconds });
  }
}

/** An `EventPublisher` that records published events (copies, in publication order). */
export class MemoryEventPublisher implements EventPublisher {
  readonly events: DomainEvent[] = [];

  async publish(events: DomainEvent[]): Promise<void> {
    this.events.push(...events.map((event) => JSON.parse(JSON.stringify(event)) as DomainEvent));
  }
}

/** A `Clock` that moves only when told, for deadlines and backoff in tests. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date | string = "2025-01-01T00:00:00.000Z") {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(date: Date | string): void {
    this.current = new Date(date).getTime();
  }
}
