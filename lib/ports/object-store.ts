import type { S3Location } from "../domain/checkpoint.ts";

/** What simsnap needs to know about a stored object. */
export interface ObjectInfo extends S3Location {
  size: number;
  etag?: string;
  lastModified?: Date;
}

/** The object storage holding snapshot files, reports and archives. */
export interface ObjectStore {
  head(location: S3Location): Promise<ObjectInfo | undefined>;
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  put(location: S3Location, body: string | Uint8Array, contentType?: string): Promise<void>;
}
