import { randomBytes } from "node:crypto";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbCheckpointStore } from "../../lib/adapters/dynamodb/checkpoint-store.ts";
import { S3ArchiveStore } from "../../lib/adapters/s3/archive-store.ts";
import type { S3Location } from "../../lib/domain/checkpoint.ts";
import { snapshotKey } from "../../lib/domain/snapshot-key.ts";
import { directoryOf } from "../../lib/ports/simulation-provider.ts";
import { deleteCheckpoint } from "../../lib/usecases/catalog/delete-checkpoint.ts";
import { undeleteCheckpoint } from "../../lib/usecases/catalog/undelete-checkpoint.ts";
import { purgeTrash } from "../../lib/usecases/retention/purge-trash.ts";
import { checkpoint as makeCheckpoint } from "../support/checkpoint-factory.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";
import { ManualClock, MemoryEventPublisher } from "../support/memory.ts";

const BUCKET = "snapshots";
const TABLE = "trash-it";
const DAY = 86_400_000;

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET], catalogTables: [TABLE] });
}, 60_000);

afterAll(async () => {
  await aws?.close();
});

async function bytesAt(location: S3Location): Promise<Buffer | undefined> {
  try {
    const object = await aws.s3.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

describe("the trash on s3rver and dynalite, through the real SDK", () => {
  it("moves a deleted file to the trash, copies it back on undelete, and purges a second delete for good", async () => {
    // s3rver keeps no versions: the trash is a folder of simsnap's own, and behaves as in AWS.
    const clock = new ManualClock("2026-12-01T12:00:00Z");
    const store = new S3ArchiveStore(aws.s3);
    const deps = {
      checkpoints: new DynamoDbCheckpointStore(aws.doc, TABLE),
      objects: store,
      providers: directoryOf([]),
      events: new MemoryEventPublisher(),
      clock,
      owned: { bucket: BUCKET, prefixes: ["simsnap"] },
      trash: { days: 7, store },
    };
    const location = {
      bucket: BUCKET,
      key: snapshotKey("simsnap", "ocean", new Date("2026-12-01T11:00:00Z")),
    };
    const content = randomBytes(64 * 1024);
    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: location.key, Body: content }));
    await deps.checkpoints.create(
      makeCheckpoint({ id: "trash-it-1", simulation: "ocean", location, size: content.length }),
    );

    const deleted = await deleteCheckpoint("trash-it-1", { force: false }, deps);
    expect(deleted).toMatchObject({ state: "DELETED", purgeAfter: "2026-12-08T12:00:00.000Z" });
    expect(deleted.trash?.key).toBe("simsnap/trash/trash-it-1/v1/ocean-261201-1100-00.zip");
    expect(await bytesAt(location)).toBeUndefined();
    expect((await bytesAt(deleted.trash!))?.equals(content)).toBe(true);

    const back = await undeleteCheckpoint("trash-it-1", { ...deps, store });
    expect(back).toMatchObject({ state: "COMPLETE", size: content.length });
    expect((await deps.checkpoints.get("trash-it-1"))?.state).toBe("COMPLETE");
    expect((await bytesAt(location))?.equals(content)).toBe(true);
    expect(await bytesAt(deleted.trash!)).toBeUndefined();

    const again = await deleteCheckpoint("trash-it-1", { force: true }, deps);
    clock.advance(7 * DAY);
    const purged = await purgeTrash({ ...deps, objects: store });
    expect(purged.purged).toEqual(["trash-it-1"]);
    expect(await bytesAt(again.trash!)).toBeUndefined();
    expect(await bytesAt(location)).toBeUndefined();
    expect(await deps.checkpoints.get("trash-it-1")).toMatchObject({
      state: "DELETED",
      purgedAt: "2026-12-08T12:00:00.000Z",
    });
    expect(await purgeTrash({ ...deps, objects: store })).toEqual({
      purged: [],
      failed: [],
      orphans: [],
      bytesInTrash: 0,
    });
  }, 60_000);
});
