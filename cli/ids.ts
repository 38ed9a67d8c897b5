import { ValidationError } from "../lib/domain/errors.ts";
import type { SimsnapClient } from "../packages/client/src/client.ts";
import { SimsnapNotFoundError } from "../packages/client/src/errors.ts";
import type { Checkpoint, Job } from "../packages/client/src/types.ts";
import { formatTime } from "./api-command.ts";

/** Shorter prefixes match too much to be worth a scan (git's minimum too). */
export const MIN_ID_PREFIX = 4;

/** A UUID's length: an input this long is a whole id, and one that is not found is no prefix. */
const FULL_ID_LENGTH = 36;

/** How many candidates an ambiguity error lists before it says how many more there are. */
const SHOWN_CANDIDATES = 5;

interface Lookup<T extends { id: string }> {
  /** `checkpoint` or `job`, for the messages. */
  what: string;
  get(id: string): Promise<T>;
  /** Every record the prefix may belong to. */
  all(): AsyncIterable<T>;
  /** One candidate, for the ambiguity error. */
  describe(record: T): string;
}

/**
 * The record an id names, or the only one whose id starts with it, as git and restic take a short
 * id: `npm start` prints 8-character ids, and those are what a person copies. The full id is tried
 * first (one read); only when that is not found are the records scanned for the prefix. A prefix
 * several ids share is a `ValidationError` listing them (exit code 2); none is the API's own 404.
 */
export async function resolveByPrefix<T extends { id: string }>(
  input: string,
  lookup: Lookup<T>,
): Promise<T> {
  let notFound: SimsnapNotFoundError;
  try {
    return await lookup.get(input);
  } catch (error) {
    if (!(error instanceof SimsnapNotFoundError)) throw error;
    notFound = error;
  }
  if (input.length < MIN_ID_PREFIX || input.length >= FULL_ID_LENGTH) throw notFound;
  const prefix = input.toLowerCase();
  const matches: T[] = [];
  for await (const record of lookup.all()) {
    if (record.id.toLowerCase().startsWith(prefix)) matches.push(record);
  }
  const [only, ...others] = matches;
  if (only === undefined) throw notFound;
  if (others.length === 0) return only;
  const shown = matches.slice(0, SHOWN_CANDIDATES).map((m) => `  ${lookup.describe(m)}`);
  const more =
    matches.length > SHOWN_CANDIDATES ? [`  … and ${matches.length - SHOWN_CANDIDATES} more`] : [];
  throw new ValidationError(
    [
      `${lookup.what} id ${input} is ambiguous: ${matches.length} ${lookup.what}s start with it; give more of the id:`,
      ...shown,
      ...more,
    ].join("\n"),
    [{ path: "<id>", message: `matches ${matches.length} ${lookup.what}s` }],
  );
}

/** The checkpoint a full id or a unique prefix of one names. */
export function resolveCheckpoint(client: SimsnapClient, input: string): Promise<Checkpoint> {
  return resolveByPrefix(input, {
    what: "checkpoint",
    get: (id) => client.checkpoints.get(id),
    all: () => client.checkpoints.list({ limit: 1000 }),
    describe: (c) =>
      `${c.id}  ${c.simulation}  ${c.state}  ${formatTime(c.createdAt)}  ${JSON.stringify(c.name)}`,
  });
}

/** The job a full id or a unique prefix of one names. */
export function resolveJob(client: SimsnapClient, input: string): Promise<Job> {
  return resolveByPrefix(input, {
    what: "job",
    get: (id) => client.jobs.get(id),
    all: () => client.jobs.list({ limit: 1000 }),
    describe: (j) => `${j.id}  ${j.kind} ${j.simulation}  ${j.status}  ${formatTime(j.startTime)}`,
  });
}
