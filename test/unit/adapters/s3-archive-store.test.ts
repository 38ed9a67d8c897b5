import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { S3ArchiveStore } from "../../../lib/adapters/s3/archive-store.ts";
import { RetryLaterError } from "../../../lib/domain/errors.ts";
import { directoryOf } from "../../../lib/ports/simulation-provider.ts";
import { archiveCheckpoint } from "../../../lib/usecases/archive/archive-checkpoint.ts";
import { archiveSettings } from "../../support/archive-world.ts";
import { ManualClock, MemoryCheckpointStore, MemoryEventPublisher } from "../../support/memory.ts";

// S3's checksums, storage classes and service errors, which s3rver does not produce, are
// injected here; copying and verifying for real is tested on s3rver (test/integration).
const s3 = mockClient(S3Client);
const client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
afterEach(() => s3.reset());

const serviceError = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status } });

const source = { bucket: "snapshots", key: "simsnap/snapshot/sim-261123-1000-10.zip" };
const archived = { bucket: "archive", key: "sim/2026/11/sim-261123-1000-10.zip" };

describe("S3ArchiveStore.describe", () => {
  it("reads storage class, full-object or composite checksum and restore state", async () => {
    s3.on(HeadObjectCommand, { Key: "a" })
      .resolves({
        ContentLength: 10,
        ETag: '"e"',
        ChecksumCRC64NVME: "AAAAAAAAAAA=",
        ChecksumType: "FULL_OBJECT",
      })
      .on(HeadObjectCommand, { Key: "b" })
      .resolves({
        ContentLength: 10,
        StorageClass: "DEEP_ARCHIVE",
        ChecksumSHA256: "c2hh-3",
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
      })
      .on(HeadObjectCommand, { Key: "c" })
      .rejects(serviceError("NotFound", 404));
    const store = new S3ArchiveStore(client);

    expect(await store.describe({ bucket: "x", key: "a" })).toMatchObject({
      size: 10,
      etag: "e",
      storageClass: "STANDARD",
      checksum: { algorithm: "CRC64NVME", value: "AAAAAAAAAAA=", type: "FULL_OBJECT" },
    });
    expect(await store.describe({ bucket: "x", key: "b" })).toMatchObject({
      storageClass: "DEEP_ARCHIVE",
      checksum: { algorithm: "SHA256", type: "COMPOSITE" },
      restore: { ongoing: false },
    });
    expect(await store.describe({ bucket: "x", key: "c" })).toBeUndefined();
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input.ChecksumMode).toBe("ENABLED");
  });
});

describe("archiving with S3's own checksums", () => {
  function world(copyChecksum: string) {
    s3.on(HeadObjectCommand, { Bucket: "snapshots" }).resolves({
      ContentLength: 100,
      ETag: '"src"',
      ChecksumCRC64NVME: "SOURCECRC64=",
      ChecksumType: "FULL_OBJECT",
    });
    s3.on(HeadObjectCommand, { Bucket: "archive" })
      .rejectsOnce(serviceError("NotFound", 404))
      .resolves({ ContentLength: 100, StorageClass: "STANDARD_IA" });
    s3.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ChecksumCRC64NVME: copyChecksum, ChecksumType: "FULL_OBJECT" },
    });
    s3.on(PutObjectCommand).resolves({});
    const checkpoints = new MemoryCheckpointStore();
    const createdAt = "2026-11-23T10:00:10.000Z";
    void checkpoints.create({
      id: "c-1",
      version: 1,
      simulation: "sim",
      provider: "fake",
      name: "n",
      description: "",
      tags: [],
      favorite: false,
      state: "COMPLETE",
      trigger: "schedule",
      createdAt,
      modifiedAt: createdAt,
      location: source,
      size: 100,
    });
    return {
      checkpoints,
      storage: new S3ArchiveStore(client),
      events: new MemoryEventPublisher(),
      clock: new ManualClock(),
      archive: archiveSettings,
      owned: { bucket: "snapshots", prefixes: ["simsnap"] },
      providers: directoryOf([]),
    };
  }

  it("compares source and copy checksums without reading either object", async () => {
    const deps = world("SOURCECRC64=");

    const result = await archiveCheckpoint({ checkpointId: "c-1" }, deps);

    expect(result).toMatchObject({ outcome: "archived", archive: archived });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    const copy = s3.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(copy).toMatchObject({
      Bucket: "archive",
      Key: archived.key,
      CopySource: `snapshots/${source.key}`,
      CopySourceIfMatch: '"src"',
      StorageClass: "STANDARD_IA",
      ChecksumAlgorithm: "CRC64NVME",
      MetadataDirective: "REPLACE",
    });
    expect((await deps.checkpoints.get("c-1"))?.checksum).toBe("crc64nvme:SOURCECRC64=");
    const manifest = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(JSON.parse(String(manifest?.Body))).toMatchObject({
      checksum: { algorithm: "CRC64NVME", value: "SOURCECRC64=", verification: "s3-checksum" },
    });
  });

  it("refuses a copy whose checksum differs, writing no manifest and no record", async () => {
    const deps = world("CORRUPTED64=");

    const failure = archiveCheckpoint({ checkpointId: "c-1" }, deps);

    await expect(failure).rejects.toBeInstanceOf(RetryLaterError);
    await expect(failure).rejects.toThrow(/CRC64NVME CORRUPTED64= \(100 bytes\) ≠ source/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect((await deps.checkpoints.get("c-1"))?.archive).toBeUndefined();
  });
});

describe("multipart copies", () => {
  it("aborts the upload when a part fails, and reports the failure", async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-1" });
    s3.on(UploadPartCopyCommand).rejects(serviceError("PreconditionFailed", 412));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const store = new S3ArchiveStore(client, {
      copy: { thresholdBytes: 5 * 1024 ** 2, partBytes: 5 * 1024 ** 2 },
    });

    await expect(
      store.copy(
        { ...source, size: 11 * 1024 ** 2, etag: "src", storageClass: "STANDARD" },
        archived,
        { storageClass: "GLACIER", checksumAlgorithm: "SHA256" },
      ),
    ).rejects.toMatchObject({ name: "PreconditionFailed" });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      StorageClass: "GLACIER",
      // A SHA-256 of parts would be composite: multipart copies ask for a full-object CRC.
      ChecksumAlgorithm: "CRC64NVME",
      ChecksumType: "FULL_OBJECT",
    });
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      UploadId: "u-1",
      Key: archived.key,
    });
  });
});

describe("S3ArchiveStore.requestRestore", () => {
  it("asks for a temporary copy, and treats a request already running as in progress", async () => {
    s3.on(RestoreObjectCommand)
      .resolvesOnce({})
      .rejects(serviceError("RestoreAlreadyInProgress", 409));
    const store = new S3ArchiveStore(client);
    const cold = { ...archived, size: 1, storageClass: "DEEP_ARCHIVE" };

    expect(await store.requestRestore(cold, { days: 2, tier: "Bulk" })).toBe("requested");
    expect(await store.requestRestore(cold, { days: 2, tier: "Bulk" })).toBe("in-progress");
    expect(s3.commandCalls(RestoreObjectCommand)[0]?.args[0].input.RestoreRequest).toEqual({
      Days: 2,
      GlacierJobParameters: { Tier: "Bulk" },
    });
  });
});
