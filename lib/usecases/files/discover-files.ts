import type { FileEvent } from "../../domain/messages.ts";
import type { FileOwnership } from "../../domain/object-set.ts";
import type { MessageQueue } from "../../ports/messaging.ts";
import {
  discoverCheckpointOfKey,
  discoverCheckpoints,
  emptyDiscovery,
  type DiscoverCheckpointsDeps,
  type DiscoveryResult,
} from "./discover-checkpoints.ts";

/** SQS's longest delivery delay: a re-check due later is sent again when this one arrives. */
export const MAX_RECHECK_DELAY_SECONDS = 900;

/**
 * What the discover-files function needs: discovery's ports, the configured sources (undefined
 * when the deployment configures none: then nothing is listed), and its own queue for re-checks.
 */
export interface DiscoverFilesDeps extends DiscoverCheckpointsDeps {
  owned: FileOwnership | undefined;
  rechecks: MessageQueue<FileEvent>;
}

/** A discovery run and the re-checks it scheduled. */
export interface DiscoverFilesResult extends DiscoveryResult {
  /** Checkpoint keys sent to the queue for a later look, with their delay. */
  rechecks: { key: string; delaySeconds: number }[];
}

/**
 * The delay of a re-check due at `dueAt`: whole seconds, at least 1 (never a busy loop on a
 * checkpoint due now) and at most SQS's 900. Pure, so the clamp is tested without a queue.
 */
export function recheckDelaySeconds(dueAt: Date, now: Date): number {
  const seconds = Math.ceil((dueAt.getTime() - now.getTime()) / 1000);
  return Math.min(MAX_RECHECK_DELAY_SECONDS, Math.max(1, seconds));
}

/**
 * One message of the file-events queue: an S3 event under a source, or a re-check. Discovery
 * re-lists the one checkpoint the key belongs to; a checkpoint left PENDING that time alone will
 * complete (a settle or quiet period running) gets one delayed re-check naming its checkpoint key,
 * so it is cataloged COMPLETE when its period ends rather than at the next scan. Running it twice
 * changes nothing but may send a second re-check, which changes nothing either.
 */
export async function discoverFileEvent(
  event: FileEvent,
  deps: DiscoverFilesDeps,
): Promise<DiscoverFilesResult> {
  const location =
    "recheck" in event
      ? { bucket: event.recheck.bucket, key: event.recheck.key }
      : { bucket: event.detail.bucket.name, key: event.detail.object.key };
  if (deps.owned === undefined) {
    return {
      ...emptyResult(),
      skipped: [{ key: location.key, reason: "no files sources are configured" }],
    };
  }
  return withRechecks(
    deps.owned.bucket,
    await discoverCheckpointOfKey(deps.owned, location, deps),
    deps,
  );
}

/**
 * The scheduled scan: every source listed (never the rest of the bucket), the catalog made to
 * agree, and a re-check sent for each checkpoint whose period ends before the next scan could
 * look. Nothing without configured sources.
 */
export async function scanFileSources(deps: DiscoverFilesDeps): Promise<DiscoverFilesResult> {
  if (deps.owned === undefined) return emptyResult();
  return withRechecks(deps.owned.bucket, await discoverCheckpoints(deps.owned, deps), deps);
}

const emptyResult = (): DiscoverFilesResult => ({ ...emptyDiscovery(), rechecks: [] });

async function withRechecks(
  bucket: string,
  result: DiscoveryResult,
  deps: DiscoverFilesDeps,
): Promise<DiscoverFilesResult> {
  const now = deps.clock.now();
  const rechecks: DiscoverFilesResult["rechecks"] = [];
  for (const pending of result.pending) {
    if (pending.recheckAt === undefined) continue;
    const delaySeconds = recheckDelaySeconds(new Date(pending.recheckAt), now);
    await deps.rechecks.send(
      { recheck: { bucket, key: pending.key, dueAt: pending.recheckAt } },
      { delaySeconds },
    );
    rechecks.push({ key: pending.key, delaySeconds });
  }
  return { ...result, rechecks };
}
