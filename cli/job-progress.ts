import type { SimsnapClient } from "../packages/client/src/client.ts";
import type { Job } from "../packages/client/src/types.ts";
import { clientFor, fields, formatBytes, formatTime, type ApiOptions } from "./api-command.ts";
import type { CliIo } from "./io.ts";
import { inCliTerms } from "./people.ts";

/** How long `--wait` and `jobs wait` poll. */
export interface WaitSettings {
  timeoutSeconds: number;
  intervalSeconds: number;
}

/** What a job is doing, in one phrase: its status, its current step or restore phase. */
function progressOf(job: Job): string {
  const parts: string[] = [job.status];
  const step = job.steps?.find((s) => s.status === "RUNNING") ?? job.steps?.at(-1);
  if (step) parts.push(`${step.name} ${step.status}${step.message ? ` (${step.message})` : ""}`);
  if (job.restore) {
    if (job.status === "RUNNING") parts.push(`${job.restore.phase} → ${job.restore.target}`);
    else parts[0] = `${job.status} → ${job.restore.target}`;
  }
  if (job.attempts > 1) parts.push(`attempt ${job.attempts}`);
  return parts.join(", ");
}

const RESTORED_FROM = {
  hot: "from the checkpoint's file",
  archive: "from its archive copy",
  platform: "from the checkpoint its platform holds",
} as const;

/**
 * A restore's target and where it stands: the phase only while the job runs (a finished job's
 * last phase, `waiting`, would read as if it still waited), then where it was restored from.
 */
function restoreOf(job: Job, restore: NonNullable<Job["restore"]>): string {
  // A set of files copied under a prefix: where to point the tool, once the copy is verified.
  if (restore.uri !== undefined) return `${restore.uri} (from its archive, matches its manifest)`;
  if (restore.prefix !== undefined) return `${restore.prefix} (${restore.phase})`;
  if (job.status === "RUNNING") return `${restore.target} (${restore.phase})`;
  return restore.from === undefined
    ? restore.target
    : `${restore.target} (${RESTORED_FROM[restore.from]})`;
}

/** The detail view of one job. */
export function describeJob(job: Job): string[] {
  const entries: [string, string][] = [
    ["id", job.id],
    ["kind", job.kind],
    ["simulation", job.simulation],
    ["status", job.status],
    ["started", formatTime(job.startTime)],
    ["ended", formatTime(job.endTime)],
  ];
  if (job.checkpointId !== undefined) entries.push(["checkpoint", job.checkpointId]);
  if (job.aborted) entries.push(["aborted", "yes"]);
  if (job.error !== undefined) {
    entries.push(["error", `${job.error.code}: ${inCliTerms(job.error.message)}`]);
  }
  entries.push(["stats", `${job.stats.objects} objects, ${formatBytes(job.stats.bytes)}`]);
  if (job.restore !== undefined) entries.push(["restore", restoreOf(job, job.restore)]);
  for (const step of job.steps ?? []) {
    entries.push([
      `step ${step.name}`,
      `${step.status}${step.message === undefined ? "" : `: ${step.message}`}`,
    ]);
  }
  return fields(entries);
}

/**
 * Waits for a job, showing its progress on stderr (stdout stays clean for `--json`): a line
 * whenever what the job is doing changes, and a heartbeat every 15 seconds while it does not.
 * Resolves with the finished job; a timeout rejects with the client's `SimsnapTimeoutError`.
 */
export async function waitWithProgress(
  client: SimsnapClient,
  jobId: string,
  settings: WaitSettings,
  io: CliIo,
): Promise<Job> {
  const started = Date.now();
  let last = "";
  let lastShown = 0;
  return client.jobs.wait(jobId, {
    timeoutMs: settings.timeoutSeconds * 1000,
    intervalMs: settings.intervalSeconds * 1000,
    onPoll: (job) => {
      const now = Date.now();
      const progress = progressOf(job);
      if (progress === last && now - lastShown < 15_000) return;
      last = progress;
      lastShown = now;
      const elapsed = `${Math.round((now - started) / 1000)}s`.padStart(5);
      io.err(`${elapsed}  ${job.kind} ${job.simulation} ${job.id.slice(0, 8)}: ${progress}`);
    },
  });
}

/**
 * Prints a finished job and turns anything but SUCCEEDED into an error (exit code 1), so a
 * script can chain `simsnap snapshot x --wait && …`.
 */
export function reportFinished(job: Job, json: boolean, io: CliIo): void {
  if (json) io.out(JSON.stringify(job));
  else for (const line of describeJob(job)) io.out(line);
  if (job.status !== "SUCCEEDED") {
    const why = job.error ? `: ${job.error.code}: ${inCliTerms(job.error.message)}` : "";
    throw new Error(`job ${job.id} ${job.status}${why}`);
  }
}

/**
 * What every command that starts a job does next: print the job, or with `--wait` show its
 * progress and print it finished (exit code 1 unless it SUCCEEDED).
 */
export async function followJob(
  job: Job,
  options: ApiOptions & { wait: boolean; timeout: number; interval: number },
  io: CliIo,
): Promise<void> {
  if (!options.wait) {
    if (options.json) io.out(JSON.stringify(job));
    else for (const line of describeJob(job)) io.out(line);
    return;
  }
  io.err(`${job.kind} of ${job.simulation} requested: job ${job.id}`);
  const finished = await waitWithProgress(
    clientFor(options),
    job.id,
    { timeoutSeconds: options.timeout, intervalSeconds: options.interval },
    io,
  );
  reportFinished(finished, options.json, io);
}
