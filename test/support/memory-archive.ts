import { createHash } from "node:crypto";
import type { ObjectChecksum } from "../../lib/domain/archive.ts";
import type { S3Location } from "../../lib/domain/checkpoint.ts";
import type {
  ArchiveStore,
  CopyOptions,
  CopyResult,
  RestoreTier,
  StoredObject,
} from "../../lib/ports/archive-store.ts";
import type { Clock } from "../../lib/ports/messaging.ts";
import {
  MAX_DELETE_KEYS,
  type DeleteManyResult,
  type ObjectInfo,
  type UploadInfo,
} from "../../lib/ports/object-store.ts";

interface Stored {
  body: Uint8Array;
  storageClass: string;
  lastModified: Date;
  checksum?: ObjectChecksum;
  restore?: { ongoing: boolean };
  archiveStatus?: string;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("base64");
const name = (location: S3Location): string => `${location.bucket}/${location.key}`;

/**
 * An `ArchiveStore` for use-case tests, holding real bytes. With `checksums` (the default) it
 * behaves like S3, which stores a full-object checksum with every object; without, like s3rver,
 * which stores none, so callers must stream digests. Tests can corrupt the next copies, move an
 * object to a cold storage class, and finish a thaw, which S3 does on its own.
 */
export class MemoryArchiveStore implements ArchiveStore {
  private readonly objects = new Map<string, Stored>();
  /** Every copy made, in order. */
  readonly copies: { source: S3Location; destination: S3Location; options: CopyOptions }[] = [];
  /** Every restore (thaw) request. */
  readonly restoreRequests: { location: S3Location; days: number; tier: RestoreTier }[] = [];
  /** Every digest computed, to tell streamed verifications from checksum comparisons. */
  readonly digests: S3Location[] = [];
  /** Copies still to corrupt (one byte flipped after the copy is written). */
  corruptCopies = 0;

  constructor(private readonly options: { checksums?: boolean; clock?: Clock } = {}) {}

  async head(location: S3Location): Promise<ObjectInfo | undefined> {
    const described = await this.describe(location);
    return described && { ...location, size: described.size, etag: described.etag };
  }

  async describe(location: S3Location): Promise<StoredObject | undefined> {
    const stored = this.objects.get(name(location));
    if (!stored) return undefined;
    const described: StoredObject = {
      bucket: location.bucket,
      key: location.key,
      size: stored.body.byteLength,
      etag: createHash("md5").update(stored.body).digest("hex"),
      lastModified: new Date(stored.lastModified),
      storageClass: stored.storageClass,
    };
    if (stored.checksum) described.checksum = { ...stored.checksum };
    if (stored.restore) described.restore = { ...stored.restore };
    if (stored.archiveStatus) described.archiveStatus = stored.archiveStatus;
    return described;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()]
      .filter((key) => key.startsWith(`${bucket}/${prefix}`))
      .map((key) => key.slice(bucket.length + 1))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const key of keys) {
      const info = await this.head({ bucket, key });
      // As S3's listing, with each object's LastModified.
      if (info) yield { ...info, lastModified: this.objects.get(`${bucket}/${key}`)?.lastModified };
    }
  }

  /** Uploads in progress a test puts here; nothing in the archive flows starts one. */
  readonly uploads: (UploadInfo & { bucket: string })[] = [];

  async *listUploads(bucket: string, prefix: string): AsyncIterable<UploadInfo> {
    for (const { bucket: where, ...upload } of this.uploads) {
      if (where === bucket && upload.key.startsWith(prefix)) yield upload;
    }
  }

  async put(location: S3Location, body: string | Uint8Array): Promise<void> {
    this.write(location, typeof body === "string" ? new TextEncoder().encode(body) : body);
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<DeleteManyResult> {
    if (keys.length > MAX_DELETE_KEYS) throw new Error(`at most ${MAX_DELETE_KEYS} keys`);
    for (const key of keys) this.objects.delete(`${bucket}/${key}`);
    return { deleted: [...keys], failed: [] };
  }

  async copy(
    source: StoredObject,
    destination: S3Location,
    options: CopyOptions,
  ): Promise<CopyResult> {
    const stored = this.objects.get(name(source));
    if (!stored)
      throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    if (stored.storageClass === "GLACIER" || stored.storageClass === "DEEP_ARCHIVE") {
      if (stored.restore?.ongoing !== false) {
        throw Object.assign(new Error("Object is in a cold storage class"), {
          name: "InvalidObjectState",
        });
      }
    }
    this.copies.push({ source: { bucket: source.bucket, key: source.key }, destination, options });
    const body = new Uint8Array(stored.body);
    if (this.corruptCopies > 0 && body.byteLength > 0) {
      this.corruptCopies--;
      body[0] = (body[0] ?? 0) ^ 0xff;
    }
    const written = this.write(destination, body, options.storageClass);
    const etag = createHash("md5").update(body).digest("hex");
    return { copiedWith: "CopyObject", parts: 1, checksum: written.checksum, etag };
  }

  async digest(location: S3Location): Promise<string> {
    this.digests.push(location);
    const stored = this.objects.get(name(location));
    if (!stored)
      throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    return sha256(stored.body);
  }

  async requestRestore(
    object: StoredObject,
    options: { days: number; tier: RestoreTier },
  ): Promise<"requested" | "in-progress"> {
    this.restoreRequests.push({ location: { bucket: object.bucket, key: object.key }, ...options });
    const stored = this.objects.get(name(object));
    if (!stored)
      throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    if (stored.restore?.ongoing) return "in-progress";
    stored.restore = { ongoing: true };
    return "requested";
  }

  /** What a lifecycle transition does: the object moves to another storage class. */
  transition(location: S3Location, storageClass: string): void {
    const stored = this.mustGet(location);
    stored.storageClass = storageClass;
    stored.restore = undefined;
  }

  /** What S3 does hours after a restore request: the temporary copy becomes readable. */
  finishThaw(location: S3Location): void {
    this.mustGet(location).restore = { ongoing: false };
  }

  /** As S3 reads: a cold object not restored is refused (`InvalidObjectState`), as on a copy. */
  async getText(location: S3Location, maxBytes: number): Promise<string | undefined> {
    const stored = this.objects.get(name(location));
    if (!stored || stored.body.byteLength > maxBytes) return undefined;
    if (stored.storageClass === "GLACIER" || stored.storageClass === "DEEP_ARCHIVE") {
      if (stored.restore?.ongoing !== false) {
        throw Object.assign(new Error("Object is in a cold storage class"), {
          name: "InvalidObjectState",
        });
      }
    }
    return new TextDecoder().decode(stored.body);
  }

  /** The stored bytes, for tests that compare content. */
  bytes(location: S3Location): Uint8Array | undefined {
    const stored = this.objects.get(name(location));
    return stored && new Uint8Array(stored.body);
  }

  /** The stored bytes as text (manifests). */
  text(location: S3Location): string | undefined {
    const bytes = this.bytes(location);
    return bytes && new TextDecoder().decode(bytes);
  }

  private write(location: S3Location, body: Uint8Array, storageClass = "STANDARD"): Stored {
    const stored: Stored = {
      body: new Uint8Array(body),
      storageClass,
      lastModified: this.options.clock?.now() ?? new Date(),
    };
    if (this.options.checksums !== false) {
      stored.checksum = { algorithm: "SHA256", value: sha256(body), type: "FULL_OBJECT" };
    }
    this.objects.set(name(location), stored);
    return stored;
  }

  private mustGet(location: S3Location): Stored {
    const stored = this.objects.get(name(location));
    if (!stored) throw new Error(`No object ${name(location)}`);
    return stored;
  }
}
