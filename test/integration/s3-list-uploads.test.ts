import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { S3ObjectStore } from "../../lib/adapters/s3/object-store.ts";
import type { UploadInfo } from "../../lib/ports/object-store.ts";
import { startLocalAws, type LocalAws } from "../support/local-aws.ts";

let aws: LocalAws;
const bucket = "training";

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [bucket] });
});

afterAll(async () => {
  await aws?.close();
});

const collect = async (uploads: AsyncIterable<UploadInfo>): Promise<UploadInfo[]> => {
  const result: UploadInfo[] = [];
  for await (const upload of uploads) result.push(upload);
  return result;
};

const start = async (key: string): Promise<string> => {
  const { UploadId } = await aws.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  if (UploadId === undefined) throw new Error("no upload id");
  return UploadId;
};

describe("ListMultipartUploads on s3rver, through the S3 client", () => {
  it("lists uploads in progress under a prefix, by key, with their ids and initiation times", async () => {
    const before = Date.now() - 1000;
    const b = await start("runs/exp7/checkpoint-200/optimizer.pt");
    const a = await start("runs/exp7/checkpoint-100/model.safetensors");
    await start("other/exp7/checkpoint-100/model.safetensors");
    const store = new S3ObjectStore(aws.s3);

    const uploads = await collect(store.listUploads(bucket, "runs/exp7/"));

    expect(uploads.map((u) => [u.key, u.uploadId])).toEqual([
      ["runs/exp7/checkpoint-100/model.safetensors", a],
      ["runs/exp7/checkpoint-200/optimizer.pt", b],
    ]);
    for (const upload of uploads) {
      expect(upload.initiated.getTime()).toBeGreaterThanOrEqual(before);
    }
    expect(await collect(store.listUploads(bucket, "runs/exp8/"))).toEqual([]);
  });

  it("drops an upload once it completes, when its object appears", async () => {
    const key = "done/checkpoint-1/model.safetensors";
    const uploadId = await start(key);
    const store = new S3ObjectStore(aws.s3);
    expect((await collect(store.listUploads(bucket, "done/"))).map((u) => u.uploadId)).toEqual([
      uploadId,
    ]);
    const { ETag } = await aws.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: "weights",
      }),
    );
    await aws.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
      }),
    );

    expect(await collect(store.listUploads(bucket, "done/"))).toEqual([]);
  });

  it("pages by key and upload id markers, several uploads of one key included", async () => {
    const keys = ["paged/a", "paged/b", "paged/b", "paged/b", "paged/c"];
    const ids: string[] = [];
    for (const key of keys) ids.push(await start(key));
    const store = new S3ObjectStore(aws.s3, { pageSize: 2 });
    const send = vi.spyOn(aws.s3, "send");
    try {
      const uploads = await collect(store.listUploads(bucket, "paged/"));
      expect(uploads.map((u) => u.key)).toEqual(keys);
      expect(new Set(uploads.map((u) => u.uploadId))).toEqual(new Set(ids));
      const pages = send.mock.calls.filter(
        ([command]) => command instanceof ListMultipartUploadsCommand,
      );
      expect(pages).toHaveLength(3);
    } finally {
      send.mockRestore();
    }
  });

  it("answers S3's page fields: markers, truncation, a delimiter's common prefixes", async () => {
    await start("fields/x/1");
    await start("fields/x/2");
    await start("fields/y");

    const first = await aws.s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "fields/", MaxUploads: 1 }),
    );
    expect(first).toMatchObject({
      Bucket: bucket,
      Prefix: "fields/",
      MaxUploads: 1,
      IsTruncated: true,
      NextKeyMarker: "fields/x/1",
    });
    expect(first.Uploads?.map((u) => u.Key)).toEqual(["fields/x/1"]);
    expect(first.Uploads?.[0]?.StorageClass).toBe("STANDARD");

    const rolled = await aws.s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "fields/", Delimiter: "/" }),
    );
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["fields/x/"]);
    expect(rolled.Uploads?.map((u) => u.Key)).toEqual(["fields/y"]);
    expect(rolled.IsTruncated).toBe(false);

    await expect(
      aws.s3.send(new ListMultipartUploadsCommand({ Bucket: "no-such-bucket" })),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});
