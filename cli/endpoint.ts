import { resolve } from "node:path";
import { z } from "zod";
import { ValidationError } from "../lib/domain/errors.ts";
import {
  DEFAULT_DATA_DIR,
  ENDPOINT_FILE,
  readEndpointFile,
  type EndpointRecord,
} from "../lib/local/endpoint-file.ts";
import { DEFAULT_ENDPOINT } from "../packages/client/src/client.ts";
import { SimsnapConnectionError } from "../packages/client/src/errors.ts";

/** Where the endpoint a command talks to came from, so a failure can say so. */
export type EndpointSource =
  | { kind: "flag" }
  | { kind: "env" }
  | { kind: "file"; path: string; record: EndpointRecord }
  | { kind: "default"; lookedIn: string };

/** The endpoint a command talks to, and why that one. */
export interface ResolvedEndpoint {
  endpoint: string;
  source: EndpointSource;
}

const UrlSchema = z.url({ error: "must be a URL such as http://127.0.0.1:8080" });

/**
 * The API endpoint, first found of: `--endpoint`, `$SIMSNAP_ENDPOINT`, the endpoint file a running
 * local stack writes into its data dir (`.simsnap/api-endpoint.json`), the local stack's default
 * port. The file comes before the default so that a stack on `--port 0` is found, and the default
 * port, which may be another stack's, is the last resort.
 */
export function resolveEndpoint(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ResolvedEndpoint {
  if (flag !== undefined) return { endpoint: flag, source: { kind: "flag" } };
  const fromEnv = env.SIMSNAP_ENDPOINT;
  if (fromEnv !== undefined && fromEnv !== "") {
    const parsed = UrlSchema.safeParse(fromEnv);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? "must be a URL";
      throw new ValidationError(`$SIMSNAP_ENDPOINT: ${message}`, [
        { path: "SIMSNAP_ENDPOINT", message },
      ]);
    }
    return { endpoint: fromEnv, source: { kind: "env" } };
  }
  const path = resolve(cwd, DEFAULT_DATA_DIR, ENDPOINT_FILE);
  const record = readEndpointFile(path);
  if (record !== undefined)
    return { endpoint: record.endpoint, source: { kind: "file", path, record } };
  return { endpoint: DEFAULT_ENDPOINT, source: { kind: "default", lookedIn: path } };
}

/** What to do about an endpoint that did not answer, by where it came from. */
function advice(resolved: ResolvedEndpoint): string {
  const { source } = resolved;
  switch (source.kind) {
    case "flag":
      return "check --endpoint, or start the local stack with npm start";
    case "env":
      return "the endpoint comes from $SIMSNAP_ENDPOINT; check it, or unset it to use the local stack";
    case "file": {
      const by = [
        source.record.pid === undefined ? undefined : `pid ${source.record.pid}`,
        source.record.startedAt === undefined ? undefined : `started ${source.record.startedAt}`,
      ].filter((part) => part !== undefined);
      return `the endpoint comes from ${source.path}, written by a local stack${by.length > 0 ? ` (${by.join(", ")})` : ""} that is not answering; start it again with npm start, or pass --endpoint`;
    }
    case "default":
      return `no local stack is running here (no ${source.lookedIn}); start one with npm start, or pass --endpoint or set $SIMSNAP_ENDPOINT`;
  }
}

/** The low-level reason a request never got an answer (`ECONNREFUSED`, `ENOTFOUND`, …). */
function reasonOf(error: SimsnapConnectionError): string {
  let reason = "no answer";
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
    reason = cause.message;
    cause = cause.cause;
  }
  return reason;
}

/**
 * The client's "cannot reach" error, said for a person: the endpoint, the reason, and how to
 * start the stack or where the endpoint came from.
 */
export function unreachableError(
  error: SimsnapConnectionError,
  resolved: ResolvedEndpoint,
): SimsnapConnectionError {
  return new SimsnapConnectionError(
    `cannot reach the simsnap API at ${resolved.endpoint} (${reasonOf(error)}): ${advice(resolved)}`,
    { cause: error },
  );
}
