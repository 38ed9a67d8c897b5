/**
 * What `@simsnap/client` exports: the client, its errors, SigV4 signing for the API in AWS, and
 * the types of the API's JSON. One entry point, so the package's surface is this file.
 */
export { DEFAULT_ENDPOINT, SimsnapClient, type SimsnapClientOptions } from "./client.ts";
export {
  SimsnapApiError,
  SimsnapConflictError,
  SimsnapConnectionError,
  SimsnapError,
  SimsnapNotFoundError,
  SimsnapTimeoutError,
  SimsnapValidationError,
  type SimsnapErrorDetail,
} from "./errors.ts";
export { executeApiRegion, sigV4Fetch, type SigV4FetchOptions } from "./sigv4.ts";
export type * from "./types.ts";
