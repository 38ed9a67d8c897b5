import type { AirRequestRecord } from "./air/server.ts";
import type { ScheduleSpec } from "../topology.ts";
import type { LocalStackConfig } from "./demo-config.ts";
import type { BusEvent } from "./event-bus.ts";
import type { TickFailure } from "./scheduler.ts";
import type { InjectedFault } from "./simulator-faults.ts";

// Every line `npm start` prints is written here, so the console's wording lives in one place and
// the runtime's phases only say when to print.

/** The time of day (UTC, hh:mm:ss) that starts a progress line. */
const clock = (): string => new Date().toISOString().slice(11, 19);

/** Turns a simsnap bus event into one readable line. */
export function describeEvent(event: BusEvent): string {
  const detail = event.detail as {
    checkpoint?: {
      simulation?: string;
      provider?: string;
      platformId?: string;
      trigger?: string;
      location?: { key?: string };
      size?: number;
      error?: { code: string; message: string };
      name?: string;
      step?: number;
      metrics?: Record<string, number>;
      purgeAfter?: string;
    };
    jobId?: string;
  };
  const checkpoint = detail.checkpoint ?? {};
  const simulation = (checkpoint.simulation ?? "?").padEnd(16);
  // A checkpoint a platform holds has no file: it is named by its platform and its own id.
  const held = checkpoint.platformId
    ? `${checkpoint.provider ?? "?"} checkpoint ${checkpoint.platformId.slice(0, 8)} "${checkpoint.name ?? ""}"`
    : undefined;
  switch (event["detail-type"]) {
    case "Snapshot Requested":
      return `▸ snapshot requested   ${simulation} job ${detail.jobId?.slice(0, 8) ?? "?"}`;
    case "Checkpoint Completed":
      if (held) {
        return `✓ checkpoint complete  ${simulation} ${held} (${checkpoint.trigger ?? "?"}, held by ${checkpoint.provider ?? "?"})`;
      }
      // A checkpoint another tool wrote: its step and the metrics retention ranks it by.
      if (checkpoint.provider === "files") {
        const metrics = Object.entries(checkpoint.metrics ?? {})
          .map(([name, value]) => `, ${name} ${value}`)
          .join("");
        return `✓ checkpoint complete  ${simulation} ${checkpoint.location?.key ?? ""} (files: step ${checkpoint.step ?? "?"}, ${checkpoint.size ?? 0} bytes${metrics})`;
      }
      return `✓ checkpoint complete  ${simulation} ${checkpoint.location?.key ?? ""} (${checkpoint.size ?? 0} bytes)`;
    case "Checkpoint Failed":
      return `✗ checkpoint failed    ${simulation} ${checkpoint.error?.code ?? ""}: ${checkpoint.error?.message ?? ""}`;
    case "Checkpoint Deleted": {
      // A file in the trash can still be undeleted: the line says until when.
      const trash = checkpoint.purgeAfter ? `, in the trash until ${checkpoint.purgeAfter}` : "";
      return `✂ checkpoint deleted   ${simulation} ${held ?? checkpoint.location?.key ?? ""} (${checkpoint.error?.message ?? "by request"}${trash})`;
    }
    case "Checkpoint Undeleted":
      return `↶ checkpoint undeleted ${simulation} ${held ?? checkpoint.location?.key ?? ""} (COMPLETE again, back from the trash)`;
    case "Checkpoints Pruned": {
      const pruned = event.detail as {
        simulation?: string;
        removedCount?: number;
        kept?: unknown[];
        failedCount?: number;
        trashedCount?: number;
        purgeAfter?: string;
      };
      const trash = pruned.trashedCount
        ? ` (${pruned.trashedCount} in the trash until ${pruned.purgeAfter ?? "?"})`
        : "";
      return `✂ checkpoints pruned  ${(pruned.simulation ?? "?").padEnd(16)} removed ${pruned.removedCount ?? 0}${trash}, kept ${pruned.kept?.length ?? 0}${pruned.failedCount ? `, ${pruned.failedCount} failed` : ""}`;
    }
    case "Checkpoints Purged": {
      const purged = event.detail as { purgedCount?: number; orphans?: number };
      return `✂ trash purged         ${purged.purgedCount ?? 0} deletions final${purged.orphans ? `, ${purged.orphans} orphan copies removed` : ""}`;
    }
    case "Simulation Stopped": {
      const stopped = event.detail as {
        simulation?: string;
        finalSnapshot?: string;
        forced?: boolean;
      };
      return `■ simulation stopped   ${(stopped.simulation ?? "?").padEnd(16)} final snapshot ${stopped.finalSnapshot ?? "?"}${stopped.forced ? " (forced)" : ""}`;
    }
    case "Checkpoint Archived": {
      const archived = event.detail as {
        archive?: { key?: string; storageClass?: string };
        copied?: boolean;
      };
      return `⇪ checkpoint archived  ${simulation} ${archived.archive?.key ?? "?"} (${archived.archive?.storageClass ?? "?"}${archived.copied === false ? ", copy was already there" : ""})`;
    }
    case "Archives Pruned": {
      const pruned = event.detail as { simulation?: string; removedCount?: number };
      return `✂ archives pruned      ${(pruned.simulation ?? "?").padEnd(16)} removed ${pruned.removedCount ?? 0}`;
    }
    case "Restore Requested":
    case "Checkpoint Restored":
    case "Restore Failed": {
      const restore = event.detail as {
        simulation?: string;
        target?: string;
        from?: string;
        snapshot?: { key?: string };
        prefix?: string;
        uri?: string;
        error?: { code?: string; message?: string };
      };
      const source = (restore.simulation ?? "?").padEnd(16);
      // A set of files another tool wrote is copied under a prefix: no simulation is started.
      const target = restore.prefix ?? restore.target ?? "?";
      if (event["detail-type"] === "Restore Requested")
        return `↺ restore requested    ${source} → ${target}`;
      if (event["detail-type"] === "Restore Failed")
        return `✗ restore failed       ${source} ${restore.error?.code ?? ""}: ${restore.error?.message ?? ""}`;
      if (restore.uri !== undefined)
        return `↺ checkpoint restored  ${source} → ${restore.uri} from its archive (matches its manifest)`;
      if (restore.from === "platform")
        return `↺ checkpoint restored  ${source} → ${restore.target ?? "?"} from the checkpoint its platform holds`;
      return `↺ checkpoint restored  ${source} → ${restore.target ?? "?"} from the ${restore.from ?? "?"} copy ${restore.snapshot?.key ?? ""}`;
    }
    case "Checkpoint Verified":
    case "Checkpoint Verification Failed": {
      const verified = event.detail as {
        verification?: { status?: string; durationMs?: number; detail?: string };
        throwaway?: string;
      };
      const v = verified.verification ?? {};
      const mark = v.status === "PASSED" ? "✔" : "✗";
      return `${mark} verified ${(v.status ?? "?").padEnd(11)} ${simulation} ${checkpoint.location?.key ?? held ?? ""} in ${((v.durationMs ?? 0) / 1000).toFixed(1)} s via ${verified.throwaway ?? "?"}: ${v.detail ?? ""}`;
    }
    case "Simulation Stop Failed": {
      const failed = event.detail as { simulation?: string; error?: { message?: string } };
      return `✗ stop refused         ${(failed.simulation ?? "?").padEnd(16)} ${failed.error?.message ?? ""}`;
    }
    default:
      return `• ${event["detail-type"]} ${JSON.stringify(event.detail)}`;
  }
}

/**
 * What the demo trainer just wrote, as a training log would say it: a whole checkpoint with its
 * evaluation loss, or one it left half-written (which discovery must keep PENDING).
 */
export const trainerLine = (checkpoint: {
  key: string;
  step: number;
  loss: number;
  complete: boolean;
}): string =>
  checkpoint.complete
    ? `  ${clock()} ◆ trainer: saved ${checkpoint.key} (step ${checkpoint.step}, eval_loss ${checkpoint.loss})`
    : `  ${clock()} ◆ trainer: left ${checkpoint.key} half-written (step ${checkpoint.step}, no trainer_state.json)`;

/** The startup line naming the faults chaos mode injects, and how to run the same ones again. */
export function chaosBanner(chaos: NonNullable<LocalStackConfig["chaos"]>): string {
  const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;
  const faults =
    chaos.providerFaults > 0
      ? `${percent(chaos.providerFaults)} of SimSpace Weaver calls fail (InternalServerException, ThrottlingException or ConflictException, as each operation can)`
      : "no SimSpace Weaver faults";
  const drops =
    chaos.dropEvents > 0
      ? `${percent(chaos.dropEvents)} of the snapshot bucket's S3 Object Created events are dropped`
      : "no S3 events dropped";
  return `  chaos mode: ${faults}; ${drops}; seed ${chaos.seed} (--seed ${chaos.seed} draws the same sequence of faults)`;
}

/** Where the running stack's parts answer, for the startup lines. */
export interface StartupEndpoints {
  dataDir: string;
  api: string;
  /** The CLI command that reaches this very stack (with `--endpoint` when it would not find it). */
  cli: string;
  s3: string;
  dynamodb: string;
  sqs: string;
  simulator: string;
  eventBridge: string;
  /** The local NVIDIA Air server, its simulations and where its token is, when it runs. */
  air?: { endpoint: string; simulations: readonly string[]; tokenEnv: string };
}

/** The lines printed once the stack is up: where each part answers, the schedules, chaos mode. */
export function startupLines(
  at: StartupEndpoints,
  schedules: readonly ScheduleSpec[],
  chaos: LocalStackConfig["chaos"],
): string[] {
  return [
    `simsnap local stack is up (data in ${at.dataDir}; times below are UTC)`,
    `  Console ${at.api}/  (the web console: open it in a browser)`,
    `  API ${at.api}  (try: ${at.cli})`,
    `  S3 ${at.s3}  DynamoDB ${at.dynamodb}  SQS ${at.sqs}`,
    `  SimSpace Weaver simulator ${at.simulator}  EventBridge ${at.eventBridge}`,
    ...(at.air
      ? [
          `  NVIDIA Air (local) ${at.air.endpoint}  simulations ${at.air.simulations.join(", ") || "none"} (token in $${at.air.tokenEnv})`,
        ]
      : []),
    ...schedules.map((s) => `  schedule ${s.name}: ${s.expression} (${s.timeZone})`),
    ...(chaos ? [chaosBanner(chaos)] : []),
  ];
}

/** A failure anywhere in the stack (a poller, a rule's target, the API server, a tick). */
export const errorLine = (error: unknown): string =>
  `! ${clock()} ${(error as Error).message ?? String(error)}`;

/** A fault the simulator injected in chaos mode. */
export const injectedFaultLine = (fault: InjectedFault): string =>
  `  ${clock()} ⚡ injected ${fault.error} (${fault.status}) on ${fault.operation}`;

/** An S3 Object Created event the bus dropped in chaos mode. */
export const droppedEventLine = (event: BusEvent): string =>
  `  ${clock()} ⚡ dropped S3 event   ${String((event.detail as { object?: { key?: string } }).object?.key ?? "?")}`;

/** A scheduled tick whose target threw, and what Lambda's retry policy does next. */
export const tickFailureLine = (failure: TickFailure<ScheduleSpec>): string =>
  `  ${clock()} ↻ schedule ${failure.schedule.name} tick ${failure.scheduledTime.toISOString()} failed (try ${failure.attempt}); ${
    failure.retryInSeconds === undefined
      ? "giving up, as Lambda does after its retries"
      : `Lambda retries it in ${failure.retryInSeconds} s`
  }`;

/** A simsnap event as it happens. */
export const eventLine = (event: BusEvent): string => `  ${clock()} ${describeEvent(event)}`;

/** A demo simulation the stack started (or found) is running. */
export const simulationStartedLine = (name: string): string => `  simulation ${name} STARTED`;

/** The demo marked a checkpoint favorite, as a user would. */
export const favoriteLine = (simulation: string, checkpoint: string): string =>
  `  ${clock()} ★ marked favorite     ${simulation.padEnd(16)} ${checkpoint} (retention will keep it)`;

/** The clean stop began. */
export const stoppingLine = (): string =>
  `${clock()} stopping: letting snapshots and prunes in flight finish`;

/** Air's own vocabulary for the requests that change something, for `airRequestLine`. */
const AIR_ACTIONS: readonly [RegExp, string][] = [
  [/simulations\/[^/]+\/shutdown\/$/, "shut down"],
  [/simulations\/[^/]+\/start\/$/, "start"],
  [/simulations\/clone\/$/, "clone"],
  [/checkpoints\/[^/]+\/$/, "checkpoint"],
  // A restore test's throwaway clone, deleted once the test is over.
  [/^simulations\/[^/]+\/$/, "delete simulation"],
];

/**
 * A request that changed something on the local NVIDIA Air server (GETs are the mirror's
 * reading, left out), so the console shows what reached Air: the shutdown that saves a
 * checkpoint, a favorite PATCHed, retention's DELETE.
 */
export function airRequestLine(record: AirRequestRecord): string | undefined {
  if (record.method === "GET") return undefined;
  const path = record.path.replace(/^\/api\/v3\//, "");
  const action = AIR_ACTIONS.find(([pattern]) => pattern.test(path))?.[1] ?? "request";
  const what =
    action === "checkpoint"
      ? `${record.method === "DELETE" ? "delete" : "update"} checkpoint ${path.split("/").at(-2)?.slice(0, 8) ?? "?"}`
      : action;
  return `  ${clock()} ⇄ NVIDIA Air ${record.method.padEnd(6)} ${what.padEnd(24)} → ${record.status} (${path})`;
}

/** One step of the NVIDIA Air demo, as the demo takes it through simsnap's API. */
export const airDemoLine = (text: string): string => `  ${clock()} ◆ air demo: ${text}`;
