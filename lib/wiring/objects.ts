import { S3Client } from "@aws-sdk/client-s3";
import { S3ArchiveStore } from "../adapters/s3/archive-store.ts";
import { S3ObjectStore } from "../adapters/s3/object-store.ts";
import type { ArchiveStore } from "../ports/archive-store.ts";
import type { ObjectStore } from "../ports/object-store.ts";
import type { FilesAccess, FunctionName } from "../topology.ts";
import { needsOf, once, restrict, undeclared } from "./declared.ts";
import { processSettings } from "./settings.ts";

const MIB = 1024 ** 2;

const s3 = once(() => {
  const settings = processSettings();
  return new S3Client({
    region: settings.AWS_REGION,
    forcePathStyle: settings.SIMSNAP_S3_FORCE_PATH_STYLE,
  });
});
const objects = once(() => new S3ObjectStore(s3()));
const storage = once(() => {
  const settings = processSettings();
  return new S3ArchiveStore(s3(), {
    copy: {
      thresholdBytes: settings.SIMSNAP_ARCHIVE_MULTIPART_THRESHOLD_MB * MIB,
      partBytes: settings.SIMSNAP_ARCHIVE_PART_SIZE_MB * MIB,
    },
  });
});

/** IAM scopes each grant to its prefix or bucket; here the need to use S3 at all is checked. */
function requireS3(name: FunctionName, what: string): void {
  const needs = needsOf(name);
  if (!needs.snapshots && !needs.files && (needs.archive?.length ?? 0) === 0) {
    throw undeclared(name, what);
  }
}

/** Snapshot files (HEAD, delete, reports), for a function that declares `snapshots`. */
export function snapshotObjects(name: FunctionName): ObjectStore {
  if (!needsOf(name).snapshots) throw undeclared(name, "snapshot files");
  return objects();
}

/** The `files` access each method of the port needs, as IAM grants it (`FilesAccess`). */
const FILES_ACCESS = {
  head: "read",
  list: "read",
  listUploads: "read",
  getText: "read",
  put: "write",
  deleteMany: "delete",
} as const satisfies Record<keyof ObjectStore, keyof FilesAccess>;

/**
 * The objects of the files sources (checkpoints other tools write), for a function that declares
 * `files`: each method only with the access it needs (`read`, `delete`, `write`), the others
 * rejecting as IAM would. The grants keep every call under the sources' prefixes.
 */
export function fileObjects(name: FunctionName): ObjectStore {
  const access = needsOf(name).files;
  if (access === undefined) throw undeclared(name, "the files bucket");
  const allowed = Object.fromEntries(
    Object.entries(FILES_ACCESS).map(([method, need]) => [method, access[need] === true]),
  ) as Record<keyof ObjectStore, boolean>;
  return restrict(objects(), allowed, (method) =>
    undeclared(name, `files ${FILES_ACCESS[method]} access (${method})`),
  );
}

/**
 * The store that also describes, copies, digests and thaws objects (archive copies, and the
 * snapshot files or files-source objects they are copied from and back to), for a function that
 * declares any of them.
 */
export function archiveStore(name: FunctionName): ArchiveStore {
  requireS3(name, "S3 (snapshot files or archive copies)");
  return storage();
}
