import { HeadObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../../lib/adapters/s3/object-store.ts";

// S3's checksums, which s3rver does not produce, are injected here; HEAD itself is tested on
// s3rver (test/integration/s3-object-store.test.ts).
const s3 = mockClient(S3Client);
const client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
afterEach(() => s3.reset());

describe("S3ObjectStore.head", () => {
  it("asks for the object's checksum and reports it with size and unquoted ETag", async () => {
    s3.on(HeadObjectCommand, { Key: "with" })
      .resolves({
        ContentLength: 10,
        ETag: '"e"',
        ChecksumCRC64NVME: "AAAAAAAAAAA=",
        ChecksumType: "FULL_OBJECT",
      })
      .on(HeadObjectCommand, { Key: "without" })
      .resolves({ ContentLength: 3, ETag: '"f"' })
      .on(HeadObjectCommand, { Key: "missing" })
      .rejects(
        new S3ServiceException({
          name: "NotFound",
          $fault: "client",
          $metadata: { httpStatusCode: 404 },
        }),
      );
    const store = new S3ObjectStore(client);

    expect(await store.head({ bucket: "b", key: "with" })).toEqual({
      bucket: "b",
      key: "with",
      size: 10,
      etag: "e",
      checksum: { algorithm: "CRC64NVME", value: "AAAAAAAAAAA=", type: "FULL_OBJECT" },
    });
    expect(await store.head({ bucket: "b", key: "without" })).toEqual({
      bucket: "b",
      key: "without",
      size: 3,
      etag: "f",
    });
    expect(await store.head({ bucket: "b", key: "missing" })).toBeUndefined();
    expect(
      s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input.ChecksumMode),
    ).toEqual(["ENABLED", "ENABLED", "ENABLED"]);
  });
});
