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
