import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import { s3Key } from "../../lib/domain/s3-key.ts";
import type { ObjectInfo } from "../../lib/ports/object-store.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
const bucket = "snapshots";

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [bucket] });
});

afterAll(async () => {
  await aws?.close();
});

const collect = async (objects: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> => {
  const result: ObjectInfo[] = [];
  for await (const object of objects) result.push(object);
  return result;
};

const listCalls = (send: { mock: { calls: unknown[][] } }): number =>
  send.mock.calls.filter(([command]) => command instanceof ListObjectsV2Command).length;

describe("S3ObjectStore on s3rver", () => {
  it("puts an object and describes it with an unquoted MD5 ETag", async () => {
    const store = new S3ObjectStore(aws.s3);
    const location = { bucket, key: "reports/plan.json" };
    const body = JSON.stringify({ remove: ["a", "b"] });

    await store.put(location, body, "application/json");

    const info = await store.head(location);
    expect(info).toMatchObject({
      ...location,
      size: Buffer.byteLength(body),
      etag: createHash("md5").update(body).digest("hex"),
    });
    expect(info?.lastModified).toBeInstanceOf(Date);
    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: location.key }));
    expect(stored.ContentType).toBe("application/json");
    expect(await stored.Body?.transformToString()).toBe(body);
  });

  it("stores binary bodies byte for byte", async () => {
    const store = new S3ObjectStore(aws.s3);
    const bytes = new Uint8Array([0, 255, 1, 254, 80, 75, 3, 4]);
    await store.put({ bucket, key: "bin/file.zip" }, bytes);

    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: "bin/file.zip" }));
    expect(await stored.Body?.transformToByteArray()).toEqual(bytes);
    expect((await store.head({ bucket, key: "bin/file.zip" }))?.size).toBe(bytes.length);
  });

  it("returns undefined for a missing object, and for an object in a missing bucket", async () => {
    const store = new S3ObjectStore(aws.s3);
    expect(await store.head({ bucket, key: "nope/missing.zip" })).toBeUndefined();
    expect(await store.head({ bucket: "no-such-bucket", key: "missing.zip" })).toBeUndefined();
  });

  it("stores, lists and deletes keys built from simulation names with spaces and unicode", async () => {
    const store = new S3ObjectStore(aws.s3);
    const names = ["My First Simulation", "東京 Überwachung 🌊", "Lab #3: 50% + more? a&b=c", ".."];
    const keys = names.map((name) =>
      s3Key("names", "reports", "prune", name, "2026-12-01T12-00-00-000Z.json"),
    );
    for (const key of keys) await store.put({ bucket, key }, key, "application/json");

    for (const key of keys) expect((await store.head({ bucket, key }))?.key, key).toBe(key);
    const listed = await collect(store.list(bucket, "names/reports/prune/"));
    expect(listed.map((o) => o.key).sort()).toEqual([...keys].sort());
    expect(listed.every((o) => o.size === Buffer.byteLength(o.key))).toBe(true);
    expect(await store.deleteMany(bucket, keys)).toMatchObject({ failed: [] });
    expect(await collect(store.list(bucket, "names/"))).toEqual([]);
  });

  describe("list", () => {
    const keys = Array.from(
      { length: 10 },
      (_, i) => `sim/snapshot/alpha-2501${String(i).padStart(2, "0")}.zip`,
    );

    beforeAll(async () => {
      const store = new S3ObjectStore(aws.s3);
      for (const key of [...keys].reverse()) await store.put({ bucket, key }, key);
      await store.put({ bucket, key: "sim/snapshot/beta-250101.zip" }, "other simulation");
      await store.put({ bucket, key: "other/sim/snapshot/alpha-250101.zip" }, "other prefix");
    });

    it("follows continuation tokens across pages, in key order, within the prefix", async () => {
      const send = vi.spyOn(aws.s3, "send");
      try {
        const objects = await collect(
          new S3ObjectStore(aws.s3, { pageSize: 3 }).list(bucket, "sim/snapshot/alpha-"),
        );
        expect(objects.map((o) => o.key)).toEqual(keys);
        expect(
          objects.every((o) => o.bucket === bucket && o.size === Buffer.byteLength(o.key)),
        ).toBe(true);
        expect(objects[0]?.etag).toBe(
          createHash("md5")
            .update(keys[0] ?? "")
            .digest("hex"),
        );
        expect(listCalls(send)).toBe(4);
      } finally {
        send.mockRestore();
      }
    });

    it("starts after a given key, across pages, and only there", async () => {
      const send = vi.spyOn(aws.s3, "send");
      try {
        const store = new S3ObjectStore(aws.s3, { pageSize: 3 });
        const after = await collect(
          store.list(bucket, "sim/snapshot/alpha-", { startAfter: keys[3] }),
        );
        // A key that does not exist starts the listing at the next one.
        const between = await collect(
          store.list(bucket, "sim/snapshot/alpha-", { startAfter: `${keys[6]}~` }),
        );
        expect(after.map((o) => o.key)).toEqual(keys.slice(4));
        expect(between.map((o) => o.key)).toEqual(keys.slice(7));
        // Six keys after the 4th in pages of 3, then three keys: 2 + 1 requests.
        expect(listCalls(send)).toBe(3);
      } finally {
        send.mockRestore();
      }
    });

    it("reads no further page once the caller stops", async () => {
      const send = vi.spyOn(aws.s3, "send");
      try {
        for await (const object of new S3ObjectStore(aws.s3, { pageSize: 3 }).list(
          bucket,
          "sim/",
        )) {
          expect(object.key).toBe(keys[0]);
          break;
        }
        expect(listCalls(send)).toBe(1);
      } finally {
        send.mockRestore();
      }
    });

    it("lists more than one default page of 1,000 keys", async () => {
      const store = new S3ObjectStore(aws.s3);
      const many = Array.from({ length: 1_100 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
      for (let i = 0; i < many.length; i += 50) {
        await Promise.all(many.slice(i, i + 50).map((key) => store.put({ bucket, key }, "x")));
      }

      const objects = await collect(store.list(bucket, "many/"));
      expect(objects.map((o) => o.key)).toEqual(many);
      expect(await collect(store.list(bucket, "nothing-here/"))).toEqual([]);
    });
  });
});
