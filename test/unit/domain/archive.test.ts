import { describe, expect, it } from "vitest";
import {
  ArchiveRequestSchema,
  archiveKey,
  checkCopyTuning,
  comparableChecksums,
  copyChecksumAlgorithm,
  manifestKey,
  needsThaw,
  planCopyParts,
  S3_COPY_LIMITS,
  snapshotFileName,
  type ObjectChecksum,
} from "../../../lib/domain/archive.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { parseInput } from "../../../lib/domain/validation.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe("archive keys", () => {
  it("files a checkpoint under <simulation>/<yyyy>/<mm>/<file> by its UTC creation month", () => {
    const key = archiveKey(
      { simulation: "ocean-currents", createdAt: "2026-01-31T23:30:00-02:00" },
      snapshotFileName({ bucket: "b", key: "simsnap/snapshot/ocean-currents-260201-0130-00.zip" }),
    );
    expect(key).toBe("ocean-currents/2026/02/ocean-currents-260201-0130-00.zip");
    expect(manifestKey(key)).toBe(
      "ocean-currents/2026/02/ocean-currents-260201-0130-00.zip.manifest.json",
    );
  });
});

describe("planCopyParts", () => {
  it("cuts an object into equal parts with the rest in the last one", () => {
    expect(planCopyParts(12 * MiB + 1, 5 * MiB)).toEqual([
      { partNumber: 1, first: 0, last: 5 * MiB - 1 },
      { partNumber: 2, first: 5 * MiB, last: 10 * MiB - 1 },
      { partNumber: 3, first: 10 * MiB, last: 12 * MiB },
    ]);
  });

  it("covers every byte exactly once, in order", () => {
    for (const size of [1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 37 * MiB + 12_345]) {
      const parts = planCopyParts(size, 5 * MiB);
      let next = 0;
      for (const part of parts) {
        expect(part.first).toBe(next);
        next = part.last + 1;
      }
      expect(next).toBe(size);
    }
  });

  it("grows the parts so that no copy needs more than 10,000 of them", () => {
    const size = 5 * 1024 * GiB; // 5 TiB, S3's largest object
    const parts = planCopyParts(size, 5 * MiB);
    expect(parts).toHaveLength(S3_COPY_LIMITS.maxParts);
    expect(parts.every((p) => p.last - p.first + 1 <= S3_COPY_LIMITS.maxPartBytes)).toBe(true);
    expect(parts.at(-1)?.last).toBe(size - 1);
  });

  it("refuses sizes S3 cannot hold", () => {
    expect(() => planCopyParts(0, 5 * MiB)).toThrow(ValidationError);
    expect(() => planCopyParts(5 * 1024 * GiB + 1, 5 * MiB)).toThrow(/1 byte to 5 TiB/);
  });
});

describe("checkCopyTuning", () => {
  it("accepts S3's limits and refuses parts or thresholds outside them, naming the field", () => {
    expect(checkCopyTuning({ thresholdBytes: 5 * GiB, partBytes: 5 * MiB })).toBeDefined();
    expect(() => checkCopyTuning({ thresholdBytes: 5 * GiB, partBytes: 5 * MiB - 1 })).toThrow(
      /partBytes: must be an integer of at least 5242880/,
    );
    expect(() => checkCopyTuning({ thresholdBytes: 5 * GiB, partBytes: 5 * GiB + 1 })).toThrow(
      /partBytes: must be at most/,
    );
    expect(() => checkCopyTuning({ thresholdBytes: 5 * GiB + 1, partBytes: 5 * MiB })).toThrow(
      /thresholdBytes: .*CopyObject's limit/,
    );
  });
});

describe("checksums", () => {
  const crc = (value: string, type: ObjectChecksum["type"] = "FULL_OBJECT"): ObjectChecksum => ({
    algorithm: "CRC64NVME",
    value,
    type,
  });
  const sha = (value: string): ObjectChecksum => ({
    algorithm: "SHA256",
    value,
    type: "FULL_OBJECT",
  });

  it("compares only full-object checksums of the same algorithm", () => {
    expect(comparableChecksums(crc("a"), crc("b"))).toBe(true);
    expect(comparableChecksums(crc("a"), sha("a"))).toBe(false);
    expect(comparableChecksums(crc("a-3", "COMPOSITE"), crc("a-3", "COMPOSITE"))).toBe(false);
    expect(comparableChecksums(undefined, crc("a"))).toBe(false);
  });

  it("asks for the source's own algorithm when the copy can carry it in full", () => {
    expect(copyChecksumAlgorithm(sha("x"), false, "CRC64NVME")).toBe("SHA256");
    expect(copyChecksumAlgorithm(crc("x"), true, "SHA256")).toBe("CRC64NVME");
    // A SHA-256 of parts is a checksum of checksums: multipart copies use CRC64NVME.
    expect(copyChecksumAlgorithm(sha("x"), true, "SHA256")).toBe("CRC64NVME");
    expect(copyChecksumAlgorithm(undefined, false, "SHA256")).toBe("SHA256");
    expect(copyChecksumAlgorithm(crc("x-2", "COMPOSITE"), false, "SHA256")).toBe("SHA256");
  });
});

describe("needsThaw", () => {
  it("is true for cold classes until a restored copy is ready", () => {
    expect(needsThaw({ storageClass: "STANDARD_IA" })).toBe(false);
    expect(needsThaw({ storageClass: "GLACIER_IR" })).toBe(false);
    expect(needsThaw({ storageClass: "GLACIER" })).toBe(true);
    expect(needsThaw({ storageClass: "DEEP_ARCHIVE", restore: { ongoing: true } })).toBe(true);
    expect(needsThaw({ storageClass: "DEEP_ARCHIVE", restore: { ongoing: false } })).toBe(false);
    expect(
      needsThaw({ storageClass: "INTELLIGENT_TIERING", archiveStatus: "ARCHIVE_ACCESS" }),
    ).toBe(true);
  });
});

describe("ArchiveRequestSchema", () => {
  it("reads the checkpoint id from a Checkpoint Completed event or a bare request", () => {
    const event = {
      version: "0",
      source: "simsnap",
      "detail-type": "Checkpoint Completed",
      detail: { version: "1", checkpoint: { id: "c-1", simulation: "s" } },
    };
    expect(ArchiveRequestSchema.parse(event)).toEqual({ checkpointId: "c-1" });
    expect(ArchiveRequestSchema.parse({ checkpointId: "c-2" })).toEqual({ checkpointId: "c-2" });
  });

  it("rejects anything else with a validation error", () => {
    expect(() => parseInput(ArchiveRequestSchema, { id: "c-1" }, "archive request")).toThrow(
      /Invalid archive request/,
    );
  });
});
