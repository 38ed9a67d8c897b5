import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { ValidationError } from "../domain/errors.ts";

/**
 * Where `simsnap local` keeps its data unless told otherwise; the CLI looks for a running stack's
 * endpoint file here too, so both sides must agree on it.
 */
export const DEFAULT_DATA_DIR = ".simsnap";

/** The file in the data dir that says where the running local stack's API answers. */
export const ENDPOINT_FILE = "api-endpoint.json";

const EndpointRecordSchema = z.object({
  endpoint: z.url({ error: "must be a URL such as http://127.0.0.1:8080" }),
  pid: z.number().int().positive().optional(),
  startedAt: z.iso.datetime({ offset: true }).optional(),
});

/** What a running local stack writes about itself: its API, its process, when it started. */
export type EndpointRecord = z.output<typeof EndpointRecordSchema>;

/**
 * Records where the stack's API answers, so a stack on `--port 0` (or any port) is found by the
 * CLI without anyone copying the port: the default port may belong to another stack entirely.
 */
export function writeEndpointFile(dataDir: string, record: EndpointRecord): string {
  const path = join(dataDir, ENDPOINT_FILE);
  writeFileSync(path, `${JSON.stringify(record)}\n`);
  return path;
}

/**
 * Removes the endpoint file at a clean stop, but only if it is still this stack's: a stack started
 * later on the same data dir owns it now. A stack killed hard leaves it; the CLI then says where
 * the endpoint it could not reach came from.
 */
export function removeEndpointFile(dataDir: string, record: EndpointRecord): void {
  const path = join(dataDir, ENDPOINT_FILE);
  const current = readEndpointFile(path, { strict: false });
  if (current?.endpoint === record.endpoint && current.pid === record.pid) {
    rmSync(path, { force: true });
  }
}

/**
 * The record in an endpoint file, undefined when there is none. A file that is there but broken
 * is a `ValidationError` naming the file and the field (unless `strict` is off), since silently
 * falling back to the default port could reach some other stack.
 */
export function readEndpointFile(
  path: string,
  options: { strict: boolean } = { strict: true },
): EndpointRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    if (!options.strict) return undefined;
    throw new ValidationError(
      `${path} is not valid JSON; remove it or start the local stack again (npm start)`,
      [{ path, message: "is not valid JSON" }],
    );
  }
  const parsed = EndpointRecordSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  if (!options.strict) return undefined;
  const details = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(file)",
    message: issue.message,
  }));
  throw new ValidationError(
    `${path} is not a local stack's endpoint file: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`,
    details,
  );
}

/**
 * The command a person can paste to reach the stack at `endpoint`: bare when the CLI would find
 * it on its own (the default data dir, no `$SIMSNAP_ENDPOINT` pointing elsewhere), with
 * `--endpoint` otherwise, so the hint never leads to another stack on the default port.
 */
export function cliHint(options: {
  endpoint: string;
  dataDir: string;
  defaultDataDir: string;
  env: NodeJS.ProcessEnv;
}): string {
  const command = "npm run --silent simsnap -- checkpoints list";
  const envEndpoint = options.env.SIMSNAP_ENDPOINT;
  const found =
    options.dataDir === options.defaultDataDir &&
    (envEndpoint === undefined || envEndpoint === "" || envEndpoint === options.endpoint);
  return found ? command : `${command} --endpoint ${options.endpoint}`;
}
