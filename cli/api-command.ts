import type { Command } from "commander";
import { z } from "zod";
import { DEFAULT_ENDPOINT, SimsnapClient } from "../lib/client/client.ts";
import { executeApiRegion, sigV4Fetch } from "../lib/client/sigv4.ts";
import { ValidationError } from "../lib/domain/errors.ts";

/** The options every command that talks to the API takes. */
export const ApiOptionsSchema = z.object({
  endpoint: z.url({ error: "must be a URL such as http://127.0.0.1:8080" }),
  json: z.boolean().default(false),
});
/** The options every command that talks to the API takes. */
export type ApiOptions = z.output<typeof ApiOptionsSchema>;

/**
 * Adds `--endpoint` (default `$SIMSNAP_ENDPOINT`, else the local stack) and `--json` to a
 * command, so every API command is pointed and scripted the same way.
 */
export function withApiOptions(command: Command): Command {
  return command
    .option(
      "--endpoint <url>",
      "simsnap API endpoint ($SIMSNAP_ENDPOINT)",
      process.env.SIMSNAP_ENDPOINT ?? DEFAULT_ENDPOINT,
    )
    .option("--json", "print JSON for scripts instead of a table");
}

/**
 * A client for the command's endpoint. An `execute-api` endpoint (the AWS deployment, behind IAM
 * authorization) gets SigV4-signed requests with the AWS SDK's default credentials.
 */
export function clientFor(options: ApiOptions): SimsnapClient {
  const region = executeApiRegion(options.endpoint);
  return new SimsnapClient({
    endpoint: options.endpoint,
    ...(region === undefined ? {} : { fetch: sigV4Fetch({ region }) }),
  });
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
    return { path, message: issue.message };
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

/** `2026-11-23T10:00:03.123Z` → `2026-11-23 10:00:03`, or `-` when absent. */
export const formatTime = (iso: string | undefined): string =>
  iso === undefined ? "-" : iso.replace("T", " ").replace(/(\.\d+)?Z$/, "");

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
