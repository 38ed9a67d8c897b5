import { crc32, inflateRawSync } from "node:zlib";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ZipFile } from "yazl";
import * as z from "zod";
import type { S3Location } from "../domain/checkpoint.ts";
import type { WeaverS3Location } from "./simulator-wire.ts";

/** What a snapshot file holds (`state.json` in the zip); a restore starts from `tick`. */
export interface SnapshotState {
  simulation: string;
  executionId: string;
  tick: number;
  takenAt: string;
}

const SnapshotStateSchema = z.object({
  simulation: z.string(),
  executionId: z.string(),
  tick: z.number().int().nonnegative(),
  takenAt: z.string(),
});

function zipBuffer(entries: Record<string, string>, mtime: Date): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, content] of Object.entries(entries)) {
    zip.addBuffer(Buffer.from(content), name, { mtime });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("error", reject);
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Reads every file of a zip archive (stored or deflated, no ZIP64) and checks each one's CRC-32,
 * so a truncated or corrupt snapshot is refused rather than restored. It is what the simulator
 * reads snapshots back with, and what tests use to check the files it writes.
 */
export function readZipEntries(zip: Uint8Array): Map<string, Buffer> {
  const data = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
  const fail = (why: string): never => {
    throw new Error(`Not a valid zip file: ${why}`);
  };
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) fail("no end of central directory record");
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (offset + 46 > data.length || data.readUInt32LE(offset) !== 0x02014b50) {
      fail(`bad central directory entry ${n}`);
    }
    const method = data.readUInt16LE(offset + 10);
    const crc = data.readUInt32LE(offset + 16);
    const compressedSize = data.readUInt32LE(offset + 20);
    const size = data.readUInt32LE(offset + 24);
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const local = data.readUInt32LE(offset + 42);
    const name = data.toString("utf8", offset + 46, offset + 46 + nameLength);
    if (local + 30 > data.length || data.readUInt32LE(local) !== 0x04034b50) {
      fail(`bad local header for ${name}`);
    }
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    const raw = data.subarray(start, start + compressedSize);
    if (raw.length !== compressedSize) fail(`${name} is truncated`);
    const content =
      method === 0
        ? Buffer.from(raw)
        : method === 8
          ? inflateRawSync(raw)
          : fail(`${name} uses method ${method}`);
    if (content.length !== size || crc32(content) !== crc) fail(`${name} fails its CRC check`);
    entries.set(name, content);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * A snapshot file's bytes as the service writes them (see `writeSnapshot`), for a file written
 * outside any job that must still restore like a real one: the chaos check's orphans, which stand
 * for the file of a CreateSnapshot whose answer was lost.
 */
export const snapshotZip = (state: SnapshotState, takenAt: Date): Promise<Buffer> =>
  zipBuffer({ "state.json": JSON.stringify(state, null, 2) }, takenAt);

/**
 * Writes a snapshot file as the service would: a real zip holding `state.json`, so the catalog,
 * archive and restore code meet a file they can check byte for byte.
 */
export async function writeSnapshot(
  s3: S3Client,
  location: S3Location,
  state: SnapshotState,
  takenAt: Date,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: location.bucket,
      Key: location.key,
      Body: await snapshotZip(state, takenAt),
      ContentType: "application/zip",
    }),
  );
}

/** Reads back the state a restore starts from; throws when the file is missing or unreadable. */
export async function readSnapshot(
  s3: S3Client,
  location: WeaverS3Location,
): Promise<SnapshotState> {
  const object = await s3.send(
    new GetObjectCommand({ Bucket: location.BucketName, Key: location.ObjectKey }),
  );
  const bytes = await object.Body?.transformToByteArray();
  if (!bytes) throw new Error("the object is empty");
  const state = readZipEntries(bytes).get("state.json");
  if (!state) throw new Error("state.json is missing from the snapshot");
  return SnapshotStateSchema.parse(JSON.parse(state.toString("utf8")));
}
