import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

// What the wiring imports with `import()` on the first S3 call: the client and both stores on
// it, in one module, so a bundle split at that import loads them as a few chunks. Named imports
// let the bundler keep the client alone, where importing the SDK package's namespace would keep
// every one of its commands.
export { S3ArchiveStore } from "./archive-store.ts";
export { S3ObjectStore } from "./object-store.ts";

/** The S3 client the object and archive stores share. */
export const s3Client = (config: Pick<S3ClientConfig, "region" | "forcePathStyle">): S3Client =>
  new S3Client(config);
