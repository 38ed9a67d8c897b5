import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { S3ArchiveStore } from "../../lib/adapters/s3/archive-store.ts";
import { fileCheckpointId } from "../../lib/domain/file-discovery.ts";
import { deleteCheckpoint } from "../../lib/usecases/catalog/delete-checkpoint.ts";
import { undeleteCheckpoint } from "../../lib/usecases/catalog/undelete-checkpoint.ts";
import { purgeTrash } from "../../lib/usecases/retention/purge-trash.ts";
import {
  FILES_BUCKET,
  fileOwnership,
  filesProviders,
  filesRecord,
  writeHfCheckpoint,
} from "../support/files-world.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock, MemoryEventPublisher } from "../support/memory.ts";

const BUCKET = "snapshots";
const TABLE = "trash-sets-it";
const DAY = 86_400_000;

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET, FILES_BUCKET], catalogTables: [TABLE] });
}, 60_000);

afterAll(async () => {
  await aws?.close();
});

/** Every object under `prefix` with its content, by key relative to the prefix. */
async function contents(
  store: S3ArchiveStore,
  bucket: string,
  prefix: string,
): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const object of store.list(bucket, prefix)) {
    found[object.key.slice(prefix.length)] =
      (await store.getText({ bucket, key: object.key }, 1 << 20)) ?? "";
  }
  return found;
}

describe("the trash's copies on s3rver, through the real SDK", () => {
  it("are answered with the source's MD5 ETag, which confirms a copy without a HEAD", async () => {
    const store = new S3ArchiveStore(aws.s3);
    const source = { bucket: BUCKET, key: "simsnap/snapshot/etag-261201-1000-00.zip" };
    await store.put(source, "zip bytes");
    const described = await store.describe(source);
    const result = await store.copy(
      described!,
      { bucket: BUCKET, key: "simsnap/trash/etag/v1/etag-261201-1000-00.zip" },
      { storageClass: "STANDARD", checksumAlgorithm: "CRC64NVME" },
    );
    expect(described?.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(result.etag).toBe(described?.etag);
  });
});

describe("the trash for a set of objects on s3rver and dynalite, through the real SDK", () => {
  it("moves a Hugging Face checkpoint across buckets to the trash, back on undelete, and purges it", async () => {
    const clock = new ManualClock("2026-12-01T12:00:00Z");
    const store = new S3ArchiveStore(aws.s3);
    const deps = {
      checkpoints: new DynamoDbCheckpointStore(aws.doc, TABLE),
      objects: store,
      fileObjects: store,
      providers: filesProviders(),
      files: fileOwnership(),
      events: new MemoryEventPublisher(),
      clock,
      owned: { bucket: BUCKET, prefixes: ["simsnap"] },
      trash: { days: 7, store },
    };
    const key = await writeHfCheckpoint(store, { step: 300 });
    // A name with S3's safe `!`, which the trash spells and reads back.
    await store.put({ bucket: FILES_BUCKET, key: `${key}notes!v2.txt` }, "notes");
    const originals = await contents(store, FILES_BUCKET, key);
    const size = Object.values(originals).reduce((sum, text) => sum + text.length, 0);
    const id = fileCheckpointId(FILES_BUCKET, key);
    await deps.checkpoints.create(
      filesRecord(key, { id, createdAt: "2026-12-01T11:00:00.000Z", size }),
    );

    const deleted = await deleteCheckpoint(id, { force: false }, deps);
    const folder = `simsnap/trash/${id}/v1/`;
    expect(deleted).toMatchObject({ state: "DELETED", trash: { bucket: BUCKET, key: folder } });
    expect(await contents(store, FILES_BUCKET, key)).toEqual({});
    const trashed = await contents(store, BUCKET, folder);
    expect(Object.keys(trashed)).toContain("notes!!v2.txt");
    expect(Object.values(trashed).sort()).toEqual(Object.values(originals).sort());

    const back = await undeleteCheckpoint(id, { ...deps, store });
    expect(back).toMatchObject({ state: "COMPLETE", size });
    expect(await contents(store, FILES_BUCKET, key)).toEqual(originals);
    expect(await contents(store, BUCKET, folder)).toEqual({});

    await deleteCheckpoint(id, { force: true }, deps);
    clock.advance(7 * DAY);
    expect((await purgeTrash({ ...deps, objects: store })).purged).toEqual([id]);
    expect(await contents(store, BUCKET, `simsnap/trash/${id}/`)).toEqual({});
    expect(await contents(store, FILES_BUCKET, key)).toEqual({});
    expect((await deps.checkpoints.get(id))?.purgedAt).toBeDefined();
  }, 60_000);
});
