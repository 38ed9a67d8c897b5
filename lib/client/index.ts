/**
 * The simsnap API client, as the package exports it (`import { SimsnapClient } from "simsnap"`).
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
export { sigV4Fetch, type SigV4FetchOptions } from "./sigv4.ts";
export type * from "./types.ts";
