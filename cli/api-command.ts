import type { Command } from "commander";
import { z } from "zod";
import { SimsnapClient } from "../packages/client/src/client.ts";
import { SimsnapConnectionError } from "../packages/client/src/errors.ts";
import { executeApiRegion, sigV4Fetch } from "../packages/client/src/sigv4.ts";
import { ValidationError } from "../lib/domain/errors.ts";
import { resolveEndpoint, unreachableError, type ResolvedEndpoint } from "./endpoint.ts";
import { forPeople } from "./people.ts";

/** The options every command that talks to the API takes. */
export const ApiOptionsSchema = z.object({
  endpoint: z.url({ error: "must be a URL such as http://127.0.0.1:8080" }).optional(),
  json: z.boolean().default(false),
});
/** The options every command that talks to the API takes. */
export type ApiOptions = z.output<typeof ApiOptionsSchema>;

/**
 * Adds `--endpoint` and `--json` to a command, so every API command is pointed and scripted the
 * same way. Without `--endpoint`: `$SIMSNAP_ENDPOINT`, else the running local stack's endpoint
 * file, else the local stack's default port (`resolveEndpoint`).
 */
export function withApiOptions(command: Command): Command {
  return command
    .option(
      "--endpoint <url>",
      "simsnap API endpoint (default: $SIMSNAP_ENDPOINT, else the local stack found in .simsnap/, else http://127.0.0.1:8080)",
    )
    .option("--json", "print JSON for scripts instead of a table");
}

/**
 * The client the CLI talks through: when the API cannot be reached, its error says where the
 * endpoint came from and how to start the stack, instead of only what the socket said.
 */
class CliClient extends SimsnapClient {
  constructor(
    private readonly resolved: ResolvedEndpoint,
    fetchWith: typeof fetch | undefined,
  ) {
    super({
      endpoint: resolved.endpoint,
      ...(fetchWith === undefined ? {} : { fetch: fetchWith }),
    });
  }

  protected override async request<T>(...args: Parameters<SimsnapClient["request"]>) {
    try {
      return await super.request<T>(...args);
    } catch (error) {
      if (error instanceof SimsnapConnectionError) throw unreachableError(error, this.resolved);
      throw error;
    }
  }
}

/**
 * A client for the command's endpoint. An `execute-api` endpoint (the AWS deployment, behind IAM
 * authorization) gets SigV4-signed requests with the AWS SDK's default credentials.
 */
export function clientFor(options: ApiOptions): SimsnapClient {
  const resolved = resolveEndpoint(options.endpoint);
  const region = executeApiRegion(resolved.endpoint);
  return new CliClient(resolved, region === undefined ? undefined : sigV4Fetch({ region }));
}

const flag = (key: PropertyKey): string =>
  `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Validates a command's arguments and options with one schema; a problem is a `ValidationError`
 * (exit code 2) naming the option as typed (`--limit`) or the argument (`<id>`).
 */
export function parseCommandInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  argumentNames: readonly string[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const key = issue.path[0];
    const path =
      key === undefined
        ? "(input)"
        : argumentNames.includes(String(key))
          ? `<${String(key)}>`
          : flag(key);
    return { path, message: forPeople(issue.message) };
  });
  const summary = details.map((d) => `${d.path}: ${d.message}`).join("; ");
  throw new ValidationError(`invalid arguments: ${summary}`, details, { cause: result.error });
}

/** Columns two spaces apart, the last one unpadded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)));
  return all.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * `2026-11-23T10:00:03.123Z` → `2026-11-23 10:00:03 UTC`, or `-` when absent: a time without its
 * zone is read as local time by whoever reads it, hours off.
 */
export const formatTime = (iso: string | undefined): string =>
  iso === undefined ? "-" : formatTimeIn(iso, "UTC");

/**
 * An instant as wall-clock time in a zone, with the zone: `2026-11-23 11:00:03 +01:00` (`UTC`
 * for UTC), as retention reads times in its policy's zone; text that is no time is kept as is.
 */
export function formatTimeIn(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "longOffset",
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  ) as Record<string, string>;
  const offset = (parts.timeZoneName ?? "GMT").replace(/^GMT/, "");
  const zone = timeZone === "UTC" || timeZone === "Etc/UTC" ? "UTC" : offset || "+00:00";
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${zone}`;
}

/** A byte count as people read it. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Key–value lines for one record, keys aligned. */
export function fields(entries: readonly [string, string][]): string[] {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`);
}
