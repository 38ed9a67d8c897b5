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
import { MAX_BATCH_ENTRIES, validateDelaySeconds } from "../../lib/adapters/sqs/message-queue.ts";
import { CheckpointSchema, type Checkpoint, type S3Location } from "../../lib/domain/checkpoint.ts";
import { ConcurrentModificationError } from "../../lib/domain/errors.ts";
import type { DomainEvent } from "../../lib/domain/events.ts";
import { isJobFinished, JobSchema, type Job, type JobKind } from "../../lib/domain/job.ts";
import { parseInput } from "../../lib/domain/validation.ts";
import {
  locationId,
  type CachedTags,
  type CheckpointStore,
  type JobStore,
  type ListOptions,
  type Page,
  type SimulationRecord,
  type TagCache,
} from "../../lib/ports/catalog.ts";
import type { Clock, EventPublisher, MessageQueue } from "../../lib/ports/messaging.ts";
import {
  MAX_DELETE_KEYS,
  type DeleteManyResult,
  type ListObjectsOptions,
  type ObjectInfo,
  type ObjectStore,
  type UploadInfo,
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
  /** Ids by partition (a record never changes partition), so a listing reads only its own. */
  private readonly partitions = new Map<string, Set<string>>();
  /**
   * Each partition's ids in `byCreated` order, kept until a record joins it or changes its time,
   * so paging through a partition of 100,000 records does not sort it again for every page
   * (benches page through such partitions; DynamoDB's index is sorted too).
   */
  private readonly orders = new Map<string, { sortKey: string; id: string }[]>();

  constructor(
    private readonly schema: z.ZodType<T, unknown>,
    private readonly label: string,
    private readonly partitionOf: (record: T) => string,
    private readonly timeOf: (record: T) => string,
  ) {}

  private store(record: T): void {
    const valid = parseInput(this.schema, record, this.label);
    const before = this.records.get(record.id);
    this.records.set(record.id, structuredClone(withoutUndefined(valid)));
    const partition = this.partitionOf(valid);
    const ids = this.partitions.get(partition) ?? new Set<string>();
    this.partitions.set(partition, ids.add(record.id));
    if (!before || this.timeOf(before) !== this.timeOf(valid)) this.orders.delete(partition);
  }

  /** A partition's ids with their sort keys, oldest first (see `orders`). */
  private order(partition: string): { sortKey: string; id: string }[] {
    let rows = this.orders.get(partition);
    if (rows === undefined) {
      rows = [...(this.partitions.get(partition) ?? [])]
        .map((id) => ({ id, sortKey: creationSortKey(this.timeOf(this.records.get(id) as T), id) }))
        .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
      this.orders.set(partition, rows);
    }
    return rows;
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
    const rows = this.order(partition).map(({ sortKey, id }) => ({
      sortKey,
      record: this.records.get(id) as T,
    }));
    return newestFirst ? rows.reverse() : rows;
  }

  list(partition: string, keyPrefix: string, sk: string, options: ListOptions = {}): Page<T> {
    const limit = resolveLimit(options.limit);
    const after = options.cursor ? decodeCursor(options.cursor, partition).gsi1sk : undefined;
    const rows = this.order(partition);
    // The first row past the cursor: sort keys after it oldest first, before it newest first.
    let low = 0;
    let high = rows.length;
    while (after !== undefined && low < high) {
      const middle = (low + high) >>> 1;
      const key = (rows[middle] as { sortKey: string }).sortKey;
      if (options.newestFirst ? key < after : key <= after) low = middle + 1;
      else high = middle;
    }
    const remaining = options.newestFirst
      ? rows.slice(0, after === undefined ? rows.length : low).reverse()
      : rows.slice(low);
    const page = remaining
      .slice(0, limit)
      .map(({ sortKey, id }) => ({ sortKey, record: this.records.get(id) as T }));
    const last = page.at(-1);
    return {
      items: page.map(({ record }) => this.load(record)),
      ...(remaining.length > limit && last
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
  private readonly simulations = new Map<string, SimulationRecord>();
  /** Registry reads as DynamoDB would count them: one per 100 simulations asked for. */
  recordRequests = 0;

  async create(checkpoint: Checkpoint): Promise<boolean> {
    const time = new Date(checkpoint.createdAt).toISOString();
    if (!this.simulations.has(checkpoint.simulation)) {
      this.simulations.set(checkpoint.simulation, {
        simulation: checkpoint.simulation,
        firstCheckpointAt: time,
      });
    }
    const created = this.records.create(checkpoint);
    if (checkpoint.state === "COMPLETE" || checkpoint.state === "DELETED") {
      this.recordCompletion(checkpoint.simulation, time);
    }
    return created;
  }

  private recordCompletion(simulation: string, time: string): void {
    const record = this.simulations.get(simulation);
    if (record && !(record.newestCompletedAt !== undefined && record.newestCompletedAt >= time)) {
      record.newestCompletedAt = time;
    }
  }

  /**
   * A registry record as one written before the store kept first and newest times: what a
   * catalog created by an older version holds, for tests of the backfill.
   */
  forgetRecordTimes(simulation: string): void {
    if (this.simulations.has(simulation)) this.simulations.set(simulation, { simulation });
  }

  async listSimulations(): Promise<string[]> {
    return [...this.simulations.keys()].sort();
  }

  async simulationRecords(simulations: readonly string[]): Promise<Map<string, SimulationRecord>> {
    const unique = [...new Set(simulations)];
    this.recordRequests += Math.ceil(unique.length / 100);
    const records = new Map<string, SimulationRecord>();
    for (const simulation of unique) {
      const record = this.simulations.get(simulation);
      if (record) records.set(simulation, { ...record });
    }
    return records;
  }

  async backfillSimulationRecord(record: SimulationRecord): Promise<void> {
    const stored = this.simulations.get(record.simulation);
    if (!stored || stored.firstCheckpointAt !== undefined) return;
    if (record.firstCheckpointAt === undefined) return;
    const newest = record.newestCompletedAt && new Date(record.newestCompletedAt).toISOString();
    if (newest && stored.newestCompletedAt !== undefined && stored.newestCompletedAt > newest) {
      return;
    }
    stored.firstCheckpointAt = new Date(record.firstCheckpointAt).toISOString();
    if (newest) stored.newestCompletedAt = newest;
  }

  async get(id: string): Promise<Checkpoint | undefined> {
    this.getRequests++;
    return this.records.get(id);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Checkpoint>> {
    const unique = [...new Set(ids)];
    this.getManyRequests += Math.ceil(unique.length / 100);
    const found = new Map<string, Checkpoint>();
    for (const id of unique) {
      const record = this.records.get(id);
      if (record) found.set(id, record);
    }
    return found;
  }

  /** Single reads (`get`), each one catalog GetItem. */
  getRequests = 0;
  /** Batched reads as DynamoDB would count them: one BatchGetItem per 100 ids. */
  getManyRequests = 0;
  /** Saves, each one conditional PutItem. */
  saveRequests = 0;

  async save(next: Checkpoint): Promise<void> {
    this.saveRequests++;
    this.records.save(next);
    if (next.state === "COMPLETE") {
      this.recordCompletion(next.simulation, new Date(next.createdAt).toISOString());
    }
  }

  async listBySimulation(simulation: string, options?: ListOptions): Promise<Page<Checkpoint>> {
    this.listRequests++;
    return this.records.list(checkpointPartition(simulation), "CKPT#", "CKPT", options);
  }

  /** Listing pages read, each one catalog Query. */
  listRequests = 0;

  /** Claim reads as DynamoDB would count them: one BatchGetItem per 100 locations. */
  ownerRequests = 0;

  async locationOwners(locations: readonly S3Location[]): Promise<Map<string, string>> {
    const unique = [...new Set(locations.map(locationId))];
    this.ownerRequests += Math.ceil(unique.length / 100);
    const owners = new Map<string, string>();
    for (const id of unique) {
      const owner = this.claims.get(id);
      if (owner !== undefined) owners.set(id, owner);
    }
    return owners;
  }

  async claimLocation(location: S3Location, checkpointId: string): Promise<string> {
    const key = locationId(location);
    const owner = this.claims.get(key);
    if (owner !== undefined) return owner;
    this.claims.set(key, checkpointId);
    return checkpointId;
  }

  async claimsOf(checkpointId: string): Promise<S3Location[]> {
    return [...this.claims]
      .filter(([, owner]) => owner === checkpointId)
      .map(([id]) => ({ bucket: id.slice(0, id.indexOf("/")), key: id.slice(id.indexOf("/") + 1) }))
      .sort((a, b) => (locationId(a) < locationId(b) ? -1 : 1));
  }

  async reassignLocation(
    location: S3Location,
    from: string,
    to: string,
  ): Promise<string | undefined> {
    const key = locationId(location);
    if (this.claims.get(key) === from) this.claims.set(key, to);
    return this.claims.get(key);
  }
}

/** A `TagCache` for use-case tests, counting requests as DynamoDB would (100 reads, 25 writes). */
export class MemoryTagCache implements TagCache {
  readonly entries = new Map<string, CachedTags>();
  getRequests = 0;
  putRequests = 0;

  async get(keys: readonly string[]): Promise<Map<string, CachedTags>> {
    const unique = [...new Set(keys)];
    this.getRequests += Math.ceil(unique.length / 100);
    const found = new Map<string, CachedTags>();
    for (const key of unique) {
      const entry = this.entries.get(key);
      if (entry) found.set(key, structuredClone(entry));
    }
    return found;
  }

  async put(entries: ReadonlyMap<string, CachedTags>): Promise<void> {
    this.putRequests += Math.ceil(entries.size / 25);
    for (const [key, entry] of entries) this.entries.set(key, structuredClone(entry));
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

  async listStartedWithin(
    simulation: string,
    range: { from: Date; to: Date },
    kind?: JobKind,
  ): Promise<Job[]> {
    const from = range.from.getTime();
    const to = range.to.getTime();
    return this.records
      .sorted(jobPartition(simulation))
      .map(({ record }) => record)
      .filter((job) => {
        const start = Date.parse(job.startTime);
        return from <= start && start <= to && (kind === undefined || job.kind === kind);
      })
      .map((job) => JobSchema.parse(structuredClone(job)));
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

  /** Every listing's arguments, to check where a use case listed and from which key. */
  readonly listCalls: { bucket: string; prefix: string; startAfter?: string }[] = [];

  async *list(
    bucket: string,
    prefix: string,
    options: ListObjectsOptions = {},
  ): AsyncIterable<ObjectInfo> {
    this.listCalls.push({ bucket, prefix, ...options });
    const after = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter);
    const keys = [...this.objects.keys()]
      .filter((name) => name.startsWith(`${bucket}/${prefix}`))
      .map((name) => name.slice(bucket.length + 1))
      .filter((key) => after === undefined || Buffer.compare(Buffer.from(key), after) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const key of keys) {
      const object = this.objects.get(`${bucket}/${key}`);
      if (object) yield this.info(bucket, key, object);
    }
  }

  private readonly uploads: (UploadInfo & { bucket: string })[] = [];
  private uploadCount = 0;

  /** Starts a multipart upload at `location` (initiated now), as a tool's large file does. */
  startUpload(location: S3Location): string {
    const uploadId = `upload-${++this.uploadCount}`;
    this.uploads.push({
      bucket: location.bucket,
      key: location.key,
      uploadId,
      initiated: this.clock.now(),
    });
    return uploadId;
  }

  /** Completes an upload: the object appears (written now) and the upload is gone. */
  async completeUpload(uploadId: string, body: string | Uint8Array): Promise<void> {
    const index = this.uploads.findIndex((u) => u.uploadId === uploadId);
    const [upload] = this.uploads.splice(index, 1);
    if (index < 0 || upload === undefined) throw new Error(`NoSuchUpload ${uploadId}`);
    await this.put(upload, body);
  }

  /** S3's order: by key (UTF-8 bytes), then by initiation. */
  async *listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo> {
    const listed = this.uploads
      .filter((u) => u.bucket === bucket && u.key.startsWith(prefix))
      .sort(
        (a, b) =>
          Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) ||
          a.initiated.getTime() - b.initiated.getTime(),
      );
    for (const { key, uploadId, initiated } of listed) {
      yield { key, uploadId, initiated: new Date(initiated) };
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
  /** Requests SQS would have answered: one per `send`, one per 10 messages of a `sendBatch`. */
  requests = 0;

  async send(message: T, options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds = validateDelaySeconds(options.delaySeconds ?? 0);
    this.requests++;
    this.sent.push({ message: JSON.parse(JSON.stringify(message)) as T, delaySeconds });
  }

  async sendBatch(messages: readonly T[], options: { delaySeconds?: number } = {}): Promise<void> {
    const delaySeconds = validateDelaySeconds(options.delaySeconds ?? 0);
    this.requests += Math.ceil(messages.length / MAX_BATCH_ENTRIES);
    for (const message of messages) {
      this.sent.push({ message: JSON.parse(JSON.stringify(message)) as T, delaySeconds });
    }
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
