import { S3Client } from "@aws-sdk/client-s3";
import * as z from "zod";
import { CLOCK_PATH } from "./simulator.ts";
import { readSnapshot } from "./simulator-snapshots.ts";

/** What the check reads from the environment a command user check is run with. */
const CheckEnvSchema = z.object({
  SIMSNAP_SIMSPACEWEAVER_ENDPOINT: z.url(),
  SIMSNAP_VERIFY_THROWAWAY: z.string().min(1),
  SIMSNAP_VERIFY_SNAPSHOT_BUCKET: z.string().min(1),
  SIMSNAP_VERIFY_SNAPSHOT_KEY: z.string().min(1),
  AWS_REGION: z.string().default("us-east-1"),
  SIMSNAP_S3_FORCE_PATH_STYLE: z.stringbool().default(false),
});

const ClockSchema = z.object({
  tick: z.number().int(),
  restoredTick: z.number().int().optional(),
});

/** What the check reads for a throwaway cloned on NVIDIA Air (a checkpoint without a file). */
const AirCheckEnvSchema = z.object({
  SIMSNAP_AIR_ENDPOINT: z.url(),
  SIMSNAP_AIR_TOKEN_ENV: z.string().min(1),
  SIMSNAP_VERIFY_THROWAWAY: z.string().min(1),
});

const AirPageSchema = z.object({ results: z.array(z.record(z.string(), z.unknown())) });
const AirRunSchema = z.object({
  started_from: z.string().nullable(),
  ended_at: z.string().nullable(),
});
const AirCheckpointSchema = z.object({ name: z.string(), state: z.string() });

/** A check's outcome: passed or not, and the line that says why. */
export interface TickCheckResult {
  passed: boolean;
  detail: string;
}

/**
 * The local stack's restore-test user check: did the throwaway simulation resume at the clock
 * tick its snapshot recorded? It reads the tick from the snapshot file (the local simulator's
 * `state.json`) and the tick the simulation resumed at from the simulator's clock endpoint, the
 * stand-in for a SimSpace Weaver app's own endpoint. SimSpace Weaver's API reports no tick, so
 * in AWS this check is the operator's Lambda function, which asks their app the same question.
 */
export async function checkResumedTick(env: NodeJS.ProcessEnv): Promise<TickCheckResult> {
  if (env.SIMSNAP_VERIFY_SNAPSHOT_KEY === undefined && env.SIMSNAP_AIR_ENDPOINT !== undefined) {
    return checkAirClone(env);
  }
  const settings = CheckEnvSchema.parse(env);
  const s3 = new S3Client({
    region: settings.AWS_REGION,
    forcePathStyle: settings.SIMSNAP_S3_FORCE_PATH_STYLE,
  });
  const recorded = await readSnapshot(s3, {
    BucketName: settings.SIMSNAP_VERIFY_SNAPSHOT_BUCKET,
    ObjectKey: settings.SIMSNAP_VERIFY_SNAPSHOT_KEY,
  });
  const url = new URL(CLOCK_PATH, settings.SIMSNAP_SIMSPACEWEAVER_ENDPOINT);
  url.searchParams.set("simulation", settings.SIMSNAP_VERIFY_THROWAWAY);
  const response = await fetch(url);
  if (!response.ok) {
    return { passed: false, detail: `the simulator has no clock for it (${response.status})` };
  }
  const clock = ClockSchema.parse(await response.json());
  if (clock.restoredTick !== recorded.tick) {
    return {
      passed: false,
      detail: `resumed at tick ${clock.restoredTick ?? "(none: not started from a snapshot)"}, but its snapshot recorded tick ${recorded.tick}`,
    };
  }
  return {
    passed: true,
    detail: `resumed at tick ${recorded.tick}, the tick its snapshot recorded; now at tick ${clock.tick}`,
  };
}

/**
 * The same question for a throwaway NVIDIA Air cloned from a checkpoint it holds (no file, no
 * tick to read): did the clone resume from a checkpoint at all, rather than boot from scratch?
 * Air's API answers it as a user's check could ask it: the clone's current run names the
 * checkpoint it started from (`started_from`, the copy Air made when cloning) or `null` for an
 * initial boot. simsnap itself claims no more than "started" for Air (the copy is not linked to
 * the checkpoint it came from), so this is the user check's part, as the tick is for SimSpace
 * Weaver.
 */
export async function checkAirClone(env: NodeJS.ProcessEnv): Promise<TickCheckResult> {
  const settings = AirCheckEnvSchema.parse(env);
  const token = env[settings.SIMSNAP_AIR_TOKEN_ENV] ?? "";
  const base = settings.SIMSNAP_AIR_ENDPOINT.endsWith("/")
    ? settings.SIMSNAP_AIR_ENDPOINT
    : `${settings.SIMSNAP_AIR_ENDPOINT}/`;
  const read = async (path: string): Promise<unknown> => {
    const response = await fetch(new URL(path, base), {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error(`NVIDIA Air answered ${response.status} to GET ${path}`);
    return response.json();
  };
  const name = encodeURIComponent(settings.SIMSNAP_VERIFY_THROWAWAY);
  const [clone] = AirPageSchema.parse(await read(`simulations/?name=${name}`)).results;
  if (typeof clone?.id !== "string") {
    return {
      passed: false,
      detail: `NVIDIA Air has no simulation ${settings.SIMSNAP_VERIFY_THROWAWAY}`,
    };
  }
  const runs = AirPageSchema.parse(
    await read(`simulations/runs/?simulation=${clone.id}&ordering=-created&limit=1`),
  ).results;
  const run = AirRunSchema.parse(runs[0]);
  if (run.ended_at !== null || run.started_from === null) {
    return {
      passed: false,
      detail:
        run.started_from === null
          ? "its run started from no checkpoint: an initial boot, the checkpoint's state was not restored"
          : "its current run has ended",
    };
  }
  const from = AirCheckpointSchema.parse(
    await read(`simulations/runs/checkpoints/${run.started_from}/`),
  );
  return {
    passed: true,
    detail: `resumed from checkpoint ${run.started_from.slice(0, 8)} "${from.name}" (${from.state}), the copy NVIDIA Air made when cloning; not an initial boot`,
  };
}

// Run as a command (`node --import tsx lib/local/verify-tick.ts`): the last line is the detail.
if (import.meta.url === `file://${process.argv[1]}`) {
  checkResumedTick(process.env).then(
    (result) => {
      process.stdout.write(`${result.detail}\n`);
      process.exitCode = result.passed ? 0 : 1;
    },
    (error: unknown) => {
      process.stderr.write(`tick check could not run: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
