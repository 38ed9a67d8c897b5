import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isJobFinished, type Job } from "../domain/job.ts";
import type { RestoreRequestInput, RestoreStep } from "../domain/restore.ts";
import { retryTransient } from "../handlers/retry-transient.ts";
import { systemClock } from "../ports/messaging.ts";
import { loadSimulationCheckpoints } from "../usecases/catalog/list-checkpoints.ts";
import { restoreCheckpoint } from "../usecases/restore/restore-checkpoint.ts";
import type { RestoreDeps } from "../usecases/restore/restore-deps.ts";
import { catalog } from "../wiring/catalog.ts";
import { eventPublisher } from "../wiring/events.ts";
import { archiveStore } from "../wiring/objects.ts";
import { providerDirectory } from "../wiring/provider.ts";
import { queue } from "../wiring/queues.ts";
import { restoreSettings, settingsFor, snapshotOwnership } from "../wiring/settings.ts";
import type { LocalSimulator } from "./simulator.ts";
import { readZipEntries } from "./simulator-snapshots.ts";

/** What the demo restore needs from the running local stack. */
export interface RestoreDemoOptions {
  simulation: string;
  simulator: LocalSimulator;
  s3: S3Client;
  print: (line: string) => void;
  timeoutMs: number;
}

/** The tick a snapshot file recorded (`state.json` in the simulator's zip). */
async function snapshotTick(s3: S3Client, job: Job): Promise<number | undefined> {
  const snapshot = job.restore?.snapshot;
  if (!snapshot) return undefined;
  const object = await s3.send(
    new GetObjectCommand({ Bucket: snapshot.bucket, Key: snapshot.key }),
  );
  const bytes = await object.Body?.transformToByteArray();
  const state = bytes && readZipEntries(bytes).get("state.json");
  return state ? (JSON.parse(state.toString("utf8")) as { tick: number }).tick : undefined;
}

/**
 * The end of the demo: restores a checkpoint of `simulation` into a new simulation through the
 * same use case the API calls, preferring one that retention pruned but the archive kept (so the
 * restore reads the archive), and prints the tick the new simulation resumed at next to the tick
 * its snapshot recorded. The restore job itself runs in the restore-checkpoint function, fed by
 * the local restore queue, exactly as in AWS.
 */
export async function restoreDemo(options: RestoreDemoOptions): Promise<void> {
  const { print } = options;
  const adapters = apiRestoreAdapters(settingsFor("api"));
  // Newest first: the demo restores the newest archived (else COMPLETE) checkpoint.
  const checkpoints = (
    await loadSimulationCheckpoints(adapters.checkpoints, options.simulation)
  ).reverse();
  const chosen =
    checkpoints.find((c) => c.state === "DELETED" && c.archive) ??
    checkpoints.find((c) => c.state === "COMPLETE");
  if (!chosen) {
    print(`  ↺ nothing to restore: ${options.simulation} has no COMPLETE or archived checkpoint`);
    return;
  }
  const { job: current, simulationName } = await restoreAndAwait(
    { checkpointId: chosen.id, clientToken: `demo-${chosen.id}` },
    adapters,
    { what: "demo restore", timeoutMs: options.timeoutMs },
  );
  if (current?.status !== "SUCCEEDED") {
    print(
      `  ↺ restore of ${chosen.id} into ${simulationName} is ${current?.status ?? "gone"}${
        current?.error ? `: ${current.error.message}` : ""
      }`,
    );
    return;
  }
  const tick = options.simulator.simulation(simulationName)?.tick;
  const recorded = await snapshotTick(options.s3, current);
  print(
    `  ↺ ${simulationName} resumed from tick ${recorded ?? "?"} (recorded in its snapshot) and is now at tick ${tick ?? "?"}; restored from the ${current.restore?.from ?? "?"} copy of ${chosen.state} checkpoint ${chosen.id.slice(0, 8)}`,
  );
}

/**
 * The adapters a demo's restore request runs with: a restore request is the API's, so it runs with
 * what the api function declares (`settings` are the api's).
 */
export function apiRestoreAdapters(settings: ReturnType<typeof settingsFor>) {
  return {
    ...catalog("api"),
    storage: archiveStore("api"),
    providers: providerDirectory("api"),
    events: eventPublisher("api"),
    clock: systemClock,
    restore: restoreSettings(settings),
    owned: snapshotOwnership(settings),
    restoreSteps: queue<RestoreStep>("api", "restore-steps"),
  };
}

/**
 * Requests a restore as a client of the API does, retrying a 502 (chaos mode's faults; the client
 * token makes a retry safe), then polls its job, which the restore-checkpoint function runs from
 * the local restore queue as in AWS, until it finishes or `timeoutMs` passes: the job as it then
 * stands (undefined when it is gone).
 */
export async function restoreAndAwait(
  input: RestoreRequestInput,
  adapters: RestoreDeps,
  options: { what: string; timeoutMs: number },
): Promise<{ job: Job | undefined; simulationName: string }> {
  const { job, simulationName } = await retryTransient(() => restoreCheckpoint(input, adapters), {
    what: options.what,
    attempts: 5,
    backoff: { baseSeconds: 1, maxSeconds: 4 },
  });
  const deadline = Date.now() + options.timeoutMs;
  let current: Job | undefined = job;
  while (current && !isJobFinished(current) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    current = await adapters.jobs.get(job.id);
  }
  return { job: current, simulationName };
}
