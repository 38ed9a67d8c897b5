import type { ArchiveStore } from "../ports/archive-store.ts";
import type { ObjectStore } from "../ports/object-store.ts";
import type { FilesAccess, FunctionName } from "../topology.ts";
import { deferred, needsOf, once, restrict, undeclared, type Deferral } from "./declared.ts";
import { processSettings } from "./settings.ts";

const MIB = 1024 ** 2;

// The SDK and the adapters are imported on the first S3 call (see `deferred`).
const s3 = once(async () => {
  const settings = processSettings();
  const adapters = await import("../adapters/s3/deferred.ts");
  const client = adapters.s3Client({
    region: settings.AWS_REGION,
    forcePathStyle: settings.SIMSNAP_S3_FORCE_PATH_STYLE,
  });
  return { adapters, client };
});

/** How each method of `ObjectStore` answers: listings are async iterables, the rest promises. */
const OBJECT_STORE = {
  head: "call",
  list: "iterate",
  listUploads: "iterate",
  put: "call",
  getText: "call",
  deleteMany: "call",
} as const satisfies Record<keyof ObjectStore, Deferral>;

const objects = once(() => {
  processSettings();
  const load = once(async () => {
    const { adapters, client } = await s3();
    return new adapters.S3ObjectStore(client);
  });
  return deferred<ObjectStore>(load, OBJECT_STORE);
});
const storage = once(() => {
  const settings = processSettings();
  const copy = {
    thresholdBytes: settings.SIMSNAP_ARCHIVE_MULTIPART_THRESHOLD_MB * MIB,
    partBytes: settings.SIMSNAP_ARCHIVE_PART_SIZE_MB * MIB,
  };
  const load = once(async () => {
    const { adapters, client } = await s3();
    return new adapters.S3ArchiveStore(client, { copy });
  });
  return deferred<ArchiveStore>(load, {
    ...OBJECT_STORE,
    describe: "call",
    copy: "call",
    digest: "call",
    requestRestore: "call",
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
