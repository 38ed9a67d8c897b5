import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { DynamoDbCheckpointStore } from "../adapters/dynamodb/checkpoint-store.ts";
import { DynamoDbJobStore } from "../adapters/dynamodb/job-store.ts";
import { S3ObjectStore } from "../adapters/s3/object-store.ts";
import type { S3Location } from "../domain/checkpoint.ts";
import type { Job } from "../domain/job.ts";
import { parseScheduleExpression } from "../domain/schedule-expression.ts";
import { ownedPrefixes, snapshotKey } from "../domain/snapshot-key.ts";
import { configFilePath, loadConfigFile } from "../load-config-file.ts";
import { topology } from "../topology.ts";
import { loadCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { auditChaosRun, type ChaosAuditInput, type ChaosReport } from "./chaos-audit.ts";
import {
  LocalConfigSchema,
  localReconcileGraceSeconds,
  resolveLocalConfig,
  type LocalConfig,
  type LocalStackConfig,
} from "./demo-config.ts";
import { startLocalServers } from "./servers.ts";
import { snapshotZip } from "./simulator-snapshots.ts";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const aws = (endpoint: string) => ({ endpoint, region: "us-east-1", credentials: CREDENTIALS });

const rate = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number from 0 to 1` })
    .min(0, `${name} must be a number from 0 to 1`)
    .max(1, `${name} must be a number from 0 to 1`);

const SEED_RULE = "seed must be an integer from 0 to 4294967285";
const DEADLINE_RULE = "snapshot-deadline must be a whole number of seconds from 1";

/**
 * How a chaos run goes: `duration` seconds under faults, cut by `restarts` kill -9 restarts into
 * equal parts, then `settle` more seconds in the last run before it stops cleanly.
 */
export const ChaosOptionsSchema = z.strictObject({
  duration: z.coerce.number().positive("duration must be a positive number of seconds").default(90),
  faults: rate("faults").default(0.3),
  dropEvents: rate("drop-events").default(0.5),
  /** Run N is started with `--seed seed+N-1`, so each run draws its own faults. */
  seed: z.coerce
    .number({ error: SEED_RULE })
    .int(SEED_RULE)
    .min(0, SEED_RULE)
    .max(0xffff_ffff - 10, SEED_RULE)
    .optional(),
  restarts: z.coerce.number().int().min(0).max(10, "restarts must be at most 10").default(2),
  /**
   * Seconds the last run goes on after the fault time, so that jobs stranded by the last kill pass
   * their deadline and the sweeper ends them; by default the snapshot deadline plus a
   * margin for the sweeper, less the last part of the fault time.
   */
  settle: z.coerce.number().min(0).optional(),
  /**
   * Each run's snapshot deadline (`simsnap local --snapshot-deadline`; default the local stack's):
   * a shorter one lets jobs stranded by a kill fail, and the clean stop's wait for them end, sooner.
   */
  snapshotDeadline: z.coerce
    .number({ error: DEADLINE_RULE })
    .int(DEADLINE_RULE)
    .min(1, DEADLINE_RULE)
    .optional(),
  /** Run the restore demo at the clean stop (`false`: `simsnap local --no-restore-demo`). */
  restoreDemo: z.boolean().default(true),
  /** The config file to run (default: the project's, as `npm start` does). */
  config: z.string().min(1).optional(),
  /** Keep the data directory (and the runs' logs) even when no violation was found. */
  keep: z.boolean().default(false),
});
/** Options of a chaos run, as given. */
export type ChaosOptionsInput = z.input<typeof ChaosOptionsSchema>;

/** The one JSON line of a chaos run: the audit, and how the run went. */
export interface ChaosRunResult extends ChaosReport {
  seed: number;
  faults: number;
  dropEvents: number;
  restarts: number;
  runSeconds: number;
  /** Foreign files planted before and during the run. */
  planted: number;
  /**
   * Snapshot files of ours that no job asked for, planted beside the foreign ones: those whose
   * event is dropped (or that were there before the first start) only the reconciling scan
   * catalogs.
   */
  orphans: number;
  /** How the last run ended: on its own after SIGINT, or killed when it would not. */
  finalStop: "clean" | "killed";
  /** Where the data and the runs' logs are, when kept (always after a violation). */
  dataDir?: string;
}

/** Where progress lines go (stderr in `npm run chaos`, nowhere in tests). */
export type ChaosLog = (line: string) => void;

/**
 * Margin after the local snapshot deadline for the sweeper to see a stranded job and fail it, and
 * for the graceful stop's own waits.
 */
const SWEEP_MARGIN_SECONDS = 20;

/**
 * How long a job may still be RUNNING past its deadline when the stack stops: the local sweeper
 * only looks once a period, and its own run (a few writes, retried under faults) takes a moment.
 */
function deadlineGraceMs(): number {
  const sweep = topology.schedules.find((s) => s.target === "sweep-jobs");
  const parsed = parseScheduleExpression(sweep?.localExpression ?? sweep?.expression ?? "", {
    allowSeconds: true,
  });
  return (parsed.kind === "rate" ? parsed.periodMs : 0) + 5_000;
}

/**
 * How old a snapshot file of ours may be at the stop and still be uncataloged: the local scan's
 * grace (`localReconcileGraceSeconds`), one period of its schedule, and a few seconds for the run
 * that catalogs it (its file written a few seconds after its stamp, its calls retried under faults).
 */
function uncatalogedGraceMs(snapshotDeadlineSeconds: number, local: LocalConfig): number {
  const scan = topology.schedules.find((s) => s.name === "reconcile-snapshots");
  const parsed = parseScheduleExpression(scan?.localExpression ?? scan?.expression ?? "", {
    allowSeconds: true,
  });
  const grace = localReconcileGraceSeconds({ ...local, snapshotDeadlineSeconds });
  return grace * 1000 + (parsed.kind === "rate" ? parsed.periodMs : 0) + 10_000;
}

/** Between two plantings of foreign files while a run is up. */
const PLANT_EVERY_MS = 5_000;

/** The longest a clean stop may take (open jobs, prune debounce, restore demo) before a kill. */
const STOP_TIMEOUT_MS = 120_000;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolveSleep) => {
    const timer = setTimeout(resolveSleep, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolveSleep();
    });
  });

/** A `simsnap local` child process and what it printed. */
interface StackProcess {
  child: ChildProcess;
  s3Endpoint: string;
  exited: Promise<number | null>;
}

/**
 * Starts `simsnap local` (what `npm start` runs) as a child process, so that it can be killed
 * with SIGKILL like a crashed host, and resolves once it printed that it is up.
 */
async function startStack(args: string[], logFile: string): Promise<StackProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "cli/bin.ts"), "local", ...args],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: process.env },
  );
  const output = createWriteStream(logFile, { flags: "a" });
  child.stderr?.pipe(output, { end: false });
  const exited = new Promise<number | null>((resolveExit) =>
    child.once("exit", (code) => resolveExit(code)),
  );
  // The S3 endpoint is printed right after the "is up" line, before the schedules start.
  const ready = new Promise<string>((resolveReady, rejectReady) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      output.write(`${line}\n`);
      const s3 = /^\s*S3 (http:\/\/\S+)/.exec(line)?.[1];
      if (s3) resolveReady(s3);
    });
    void exited.then((code) =>
      rejectReady(
        new Error(`simsnap local exited (code ${code}) before it was up; see ${logFile}`),
      ),
    );
  });
  void exited.then(() => output.end());
  try {
    return { child, s3Endpoint: await ready, exited };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** The foreign files planted at `time`: what another team's tool might write beside simsnap. */
function foreignFiles(config: LocalStackConfig, time: Date): S3Location[] {
  const simulation = config.simulations[0] ?? "ocean-currents";
  const file = snapshotKey("", simulation, time).slice("snapshot/".length);
  const month = time.toISOString().slice(0, 7).replace("-", "/");
  return [
    // Another team's snapshots, in the very form SimSpace Weaver writes, stamped right now.
    { bucket: config.bucket, key: `otherteam/snapshot/${file}` },
    // A sibling that merely starts like the owned prefix.
    { bucket: config.bucket, key: `${config.prefix}-old/snapshot/${file}` },
    // The bucket's root snapshot folder, which no config names.
    { bucket: config.bucket, key: `snapshot/${file}` },
    { bucket: config.archiveBucket, key: `otherteam/${simulation}/${month}/${file}` },
  ];
}

/**
 * A snapshot file of ours at `time` that no job asked for (as a CreateSnapshot whose answer was
 * lost leaves one), for a simulation of its own so that no demo job's window can hold it.
 */
const orphanFile = (config: LocalStackConfig, time: Date): S3Location => ({
  bucket: config.bucket,
  key: snapshotKey(config.prefix, "chaos-orphans", time),
});

/**
 * An orphan's bytes: a real snapshot (a zip with `state.json`), as the file of a lost
 * CreateSnapshot answer would be, so the restore tests that pick one up pass; a FAILED one in a
 * chaos run then means a real fault, not a planted file that was never a snapshot.
 */
const orphanBody = (): Promise<Buffer> =>
  snapshotZip(
    {
      simulation: "chaos-orphans",
      executionId: "chaos",
      tick: 42,
      takenAt: "2026-01-01T00:00:00Z",
    },
    new Date("2026-01-01T00:00:00Z"),
  );

/** Writes files through the S3 endpoint; returns those that were surely written. */
async function plant(
  s3: S3Client,
  files: S3Location[],
  body: string | Uint8Array = "written by another tool; simsnap must not catalog or delete it",
): Promise<S3Location[]> {
  const written: S3Location[] = [];
  for (const file of files) {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: file.bucket,
          Key: file.key,
          Body: body,
          ContentType: "application/zip",
        }),
      );
      written.push(file);
    } catch {
      // A put cut short by a kill may or may not have landed: it is not counted as planted.
    }
  }
  return written;
}

async function createBuckets(s3: S3Client, buckets: string[]): Promise<void> {
  for (const bucket of buckets) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (error.name !== "BucketAlreadyOwnedByYou" && error.name !== "BucketAlreadyExists")
        throw error;
    });
  }
}

/** Every job of the catalog, page by page. */
async function loadJobs(jobs: DynamoDbJobStore): Promise<Job[]> {
  const all: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await jobs.listAll({ limit: 1000, cursor });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

async function listAll(
  objects: S3ObjectStore,
  bucket: string,
): Promise<ChaosAuditInput["objects"]> {
  const found: ChaosAuditInput["objects"][number][] = [];
  for await (const object of objects.list(bucket, "")) {
    found.push({ bucket: object.bucket, key: object.key, lastModified: object.lastModified });
  }
  return found;
}

/**
 * Runs the local stack under chaos and audits what it left: foreign files planted before the
 * first start and every few seconds while a run is up, provider faults and dropped S3 events,
 * `restarts` kill -9 restarts with `--keep-data`, then a settle time and a clean stop. The
 * catalog (dynalite) and the buckets (s3rver) are then read from the data directory through the
 * real adapters, and `auditChaosRun` judges them.
 */
export async function runChaos(
  input: ChaosOptionsInput,
  log: ChaosLog = () => undefined,
): Promise<ChaosRunResult> {
  const options = ChaosOptionsSchema.parse(input);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const started = Date.now();
  const configPath = resolve(configFilePath(options.config));
  const configFile = loadConfigFile(configPath);
  const local = LocalConfigSchema.parse({});
  const config = resolveLocalConfig(local, configFile);
  const owned = {
    bucket: config.bucket,
    prefixes: ownedPrefixes(config.prefix, configFile.destination.adoptPrefixes),
  };
  const parts = options.restarts + 1;
  const partMs = (options.duration * 1000) / parts;
  const snapshotDeadline = options.snapshotDeadline ?? local.snapshotDeadlineSeconds;
  const settleSeconds =
    options.settle ?? Math.max(0, snapshotDeadline + SWEEP_MARGIN_SECONDS - partMs / 1000);

  const dataDir = await mkdtemp(join(tmpdir(), "simsnap-chaos-"));
  const planted: S3Location[] = [];
  const orphans: S3Location[] = [];
  const orphanBytes = await orphanBody();
  log(`chaos: data in ${dataDir}, seed ${seed}, ${parts} runs of ${partMs / 1000} s under faults`);

  // Before the first start: files another tool wrote before simsnap ever ran.
  const before = await startLocalServers({ dataDir });
  try {
    const s3 = new S3Client({ ...aws(before.s3.endpoint), forcePathStyle: true });
    await createBuckets(s3, [config.bucket, config.archiveBucket]);
    planted.push(...(await plant(s3, foreignFiles(config, new Date(Date.now() - 60_000)))));
    orphans.push(
      ...(await plant(s3, [orphanFile(config, new Date(Date.now() - 60_000))], orphanBytes)),
    );
  } finally {
    await before.close();
  }

  let finalStop: ChaosRunResult["finalStop"] = "clean";
  let stoppedAt = new Date();
  for (let run = 0; run < parts; run++) {
    const last = run === parts - 1;
    const args = [
      "--keep-data",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--config",
      configPath,
      "--faults",
      String(options.faults),
      "--drop-events",
      String(options.dropEvents),
      "--seed",
      String(seed + run),
      "--snapshot-deadline",
      String(snapshotDeadline),
      ...(options.restoreDemo ? [] : ["--no-restore-demo"]),
    ];
    const stack = await startStack(args, join(dataDir, `run-${run + 1}.log`));
    try {
      log(`chaos: run ${run + 1} up (seed ${seed + run})`);
      const s3 = new S3Client({ ...aws(stack.s3Endpoint), forcePathStyle: true, maxAttempts: 1 });
      const stopPlanting = new AbortController();
      const planting = (async () => {
        while (!stopPlanting.signal.aborted) {
          planted.push(...(await plant(s3, foreignFiles(config, new Date()))));
          orphans.push(...(await plant(s3, [orphanFile(config, new Date())], orphanBytes)));
          await sleep(PLANT_EVERY_MS, stopPlanting.signal);
        }
      })();
      await sleep(partMs);
      stopPlanting.abort();
      await planting;
      if (!last) {
        log(`chaos: run ${run + 1} killed (SIGKILL) after ${Math.round(partMs / 1000)} s`);
        stack.child.kill("SIGKILL");
        await stack.exited;
        continue;
      }
      log(`chaos: faults over; settling ${Math.round(settleSeconds)} s before a clean stop`);
      await sleep(settleSeconds * 1000);
      stoppedAt = new Date();
      stack.child.kill("SIGINT");
      const giveUp = new AbortController();
      const timedOut = await Promise.race([
        stack.exited.then(() => false),
        sleep(STOP_TIMEOUT_MS, giveUp.signal).then(() => !giveUp.signal.aborted),
      ]);
      giveUp.abort();
      if (timedOut) finalStop = "killed";
    } finally {
      if (stack.child.exitCode === null && stack.child.signalCode === null) {
        stack.child.kill("SIGKILL");
        await stack.exited;
      }
    }
  }

  const report = await readAndAudit(dataDir, config, owned, planted, stoppedAt, {
    deadlineGraceMs: deadlineGraceMs(),
    uncatalogedGraceMs: uncatalogedGraceMs(snapshotDeadline, local),
  });
  const keep = options.keep || !report.ok;
  if (!keep) await rm(dataDir, { recursive: true, force: true });
  return {
    ...report,
    seed,
    faults: options.faults,
    dropEvents: options.dropEvents,
    restarts: options.restarts,
    runSeconds: Math.round((Date.now() - started) / 1000),
    planted: new Set(planted.map((p) => `${p.bucket}/${p.key}`)).size,
    orphans: new Set(orphans.map((p) => `${p.bucket}/${p.key}`)).size,
    finalStop,
    ...(keep ? { dataDir } : {}),
  };
}

/** Starts the embedded servers on the stopped stack's data and audits what is there. */
async function readAndAudit(
  dataDir: string,
  config: LocalStackConfig,
  owned: { bucket: string; prefixes: string[] },
  planted: S3Location[],
  now: Date,
  graces: Pick<ChaosAuditInput, "deadlineGraceMs" | "uncatalogedGraceMs">,
): Promise<ChaosReport> {
  const servers = await startLocalServers({ dataDir });
  try {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(aws(servers.dynamodb.endpoint)));
    const checkpointStore = new DynamoDbCheckpointStore(doc, config.table);
    const objectStore = new S3ObjectStore(
      new S3Client({ ...aws(servers.s3.endpoint), forcePathStyle: true }),
    );
    const checkpoints = (
      await loadCheckpoints(checkpointStore, await checkpointStore.listSimulations())
    ).flat();
    const jobs = await loadJobs(new DynamoDbJobStore(doc, config.table));
    const objects = [
      ...(await listAll(objectStore, config.bucket)),
      ...(await listAll(objectStore, config.archiveBucket)),
    ];
    return auditChaosRun({
      checkpoints,
      jobs,
      objects,
      owned,
      foreign: planted,
      now,
      ...graces,
    });
  } finally {
    await servers.close();
  }
}
