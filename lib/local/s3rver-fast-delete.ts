import { rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type S3rver from "s3rver";

/** The parts of s3rver's file store this override uses and replaces. */
interface FilesystemStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string, resource: string): string;
  deleteObject(bucket: string, key: string): Promise<void>;
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/**
 * Deleting an object without listing its folder. s3rver's store, after removing an object's
 * files, lists the whole folder (`readdirSync`) to see whether it became empty, for every key:
 * deleting N objects of one folder reads N²/2 directory entries, which made a local prune of
 * 10,000 checkpoints take minutes and grow per key with the folder's size. This override removes
 * the same files, then asks the file system to remove each folder on the way up, which it refuses
 * at once (ENOTEMPTY) while anything is left, without a listing. The result on disk is the same:
 * a folder goes when its last object goes. A folder another delete removed first (ENOENT, a race
 * s3rver's own version fails on) is passed over. Call it before `run()`.
 */
export function deleteWithoutListing(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  store.deleteObject = async (bucket: string, key: string): Promise<void> => {
    await Promise.all(
      ["object", "object.md5", "metadata.json"].map((resource) =>
        unlink(store.getResourcePath(bucket, key, resource)).catch((error: unknown) => {
          if (errorCode(error) !== "ENOENT") throw error;
        }),
      ),
    );
    const bucketPath = store.getBucketPath(bucket);
    const folders = key.split("/").slice(0, -1);
    for (; folders.length > 0; folders.pop()) {
      try {
        await rmdir(join(bucketPath, ...folders));
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOTEMPTY" || code === "EEXIST") return;
        if (code !== "ENOENT") throw error;
      }
    }
  };
}
