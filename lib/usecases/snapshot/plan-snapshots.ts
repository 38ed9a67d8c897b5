import { isThrowawayName } from "../../domain/verification.ts";
import { EVENT_SCHEMA_VERSION } from "../../domain/events.ts";
import { canCycle } from "../../domain/stop.ts";
import type {
  ScheduleAction,
  ScheduleTick,
  SnapshotRequest,
  StopRequestedEvent,
} from "../../domain/messages.ts";
import {
  selectorMatchesName,
  selectorMatchesProvider,
  selectorMatchesTags,
  selectorNeedsTags,
  type SimulationSelector,
} from "../../domain/selector.ts";
import type { CachedTags, TagCache } from "../../ports/catalog.ts";
import type { Clock, MessageQueue } from "../../ports/messaging.ts";
import {
  RUNNING_STATUSES,
  type ProviderDirectory,
  type SimulationProvider,
  type SimulationSummary,
} from "../../ports/simulation-provider.ts";
import { forEachLimited } from "../for-each-limited.ts";

/**
 * What plan-snapshots needs: the snapshot requests' queue, and the stop requests' (request-stop's,
 * the one the `Simulation Stop Requested` rule feeds), where a `cycle` schedule's stops go.
 */
export interface PlanSnapshotsDeps {
  providers: Pick<ProviderDirectory, "all">;
  requests: MessageQueue<SnapshotRequest>;
  stops: MessageQueue<StopRequestedEvent>;
  /** Where tags read for tag selectors are remembered; without it every tick reads them all. */
  tags?: TagCacheDeps;
}

/**
 * The tag cache of a deployment. Tags are cached, not the selector's matches, so a changed
 * selector is matched against the tags at once; what may be stale is a simulation's tags, for at
 * most `maxAgeMs` after they changed on the platform.
 */
export interface TagCacheDeps {
  cache: TagCache;
  clock: Clock;
  /**
   * The staleness bound: tags read longer ago are read again. Each entry is refreshed after 75 to
   * 100% of it (a fixed share per simulation), so a fleet first read at one tick is read again
   * over several ticks, not all at once. Default `DEFAULT_TAG_MAX_AGE_MS`.
   */
  maxAgeMs?: number;
  /**
   * Provider tag reads one tick may spend, so a cold cache over a large fleet cannot run the
   * plan function into its timeout: new simulations are read first, then the oldest entries;
   * an old entry left over is used as it is, a new simulation left over is skipped with the
   * reason and read by a later tick. Default `DEFAULT_TAG_READS_PER_TICK`.
   */
  maxReadsPerTick?: number;
}

/**
 * 4,000 reads at 10 in flight: about 20 s of the plan function's 60 at 50 ms a call. It keeps a
 * fleet of up to 4,000 × 6 h / P within the six-hour bound (24,000 simulations with hourly
 * ticks); a new fleet larger than 4,000 is first read over several ticks.
 */
export const DEFAULT_TAG_READS_PER_TICK = 4_000;

/**
 * Six hours: with hourly ticks, a fleet's tags cost about a sixth of a read per simulation per
 * tick instead of one, and a tag added to or removed from a running simulation takes effect
 * within six hours (a simulation's tags are mostly set once, when it is started).
 */
export const DEFAULT_TAG_MAX_AGE_MS = 6 * 3_600_000;

/** Provider tag reads in flight at once. */
const TAG_READ_CONCURRENCY = 10;

/** What one tick asked for: snapshots, cycles (stop, then restart), and what it left out. */
export interface PlannedSnapshots {
  requested: string[];
  /** Simulations a `cycle` tick asked to stop with a checkpoint and start again from it. */
  cycled: string[];
  skipped: SkippedSimulation[];
  /** Present when tags were looked up for a selector: how they were had, how old the oldest. */
  tags?: TagReads;
}

/** How a tick got the tags its selector matched on. */
export interface TagReads {
  /** Simulations whose tags were read from their provider at this tick. */
  read: number;
  /** Simulations whose tags came from the cache. */
  cached: number;
  /** When the oldest cached tags used were read: this tick's staleness. */
  oldestReadAt?: string;
  /** New simulations whose tags this tick had no reads left for: skipped, with the reason. */
  unread: number;
  /** Provider tag reads this tick could spend. */
  budget: number;
}

/** A running simulation the selector picked but no snapshot can be asked of, and why. */
export interface SkippedSimulation {
  simulation: string;
  provider: string;
  reason: string;
}

/** The request id of a schedule slot: the same slot always yields the same snapshot. */
export const scheduledRequestId = (tick: ScheduleTick, simulation: string): string =>
  `schedule/${tick.schedule}/${simulation}/${new Date(tick.scheduledTime).toISOString()}`;

/** A simulation incarnation's cache key: a simulation created again under its name is new. */
const tagKey = (provider: string, arn: string, simulation: SimulationSummary): string =>
  `${provider}/${arn}/${simulation.creationTime?.toISOString() ?? ""}`;

/** A fixed share in [0.75, 1) of the maximum age per key (FNV-1a), spreading refreshes. */
function refreshShare(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return 0.75 + ((hash >>> 0) / 2 ** 32) * 0.25;
}

/**
 * The tags of these simulations: from the cache where an entry is young enough, else read from
 * the provider (a bounded number at once) and put back in the cache, so a tick pays provider
 * calls only for new simulations and entries past their age.
 */
async function tagsOf(
  simulations: readonly { simulation: SimulationSummary; arn: string }[],
  provider: Pick<SimulationProvider, "listTags" | "name">,
  deps: TagCacheDeps | undefined,
  reads: TagReads,
): Promise<Map<string, Record<string, string>>> {
  const keyed = simulations.map((s) => ({ ...s, key: tagKey(provider.name, s.arn, s.simulation) }));
  const now = deps?.clock.now().getTime() ?? 0;
  const maxAge = deps?.maxAgeMs ?? DEFAULT_TAG_MAX_AGE_MS;
  const cached = deps
    ? await deps.cache.get(keyed.map((k) => k.key))
    : new Map<string, CachedTags>();
  const tags = new Map<string, Record<string, string>>();
  const unknown: typeof keyed = [];
  const old: (typeof keyed)[number][] = [];
  for (const entry of keyed) {
    const hit = cached.get(entry.key);
    if (!hit) unknown.push(entry);
    else if (now - Date.parse(hit.readAt) < maxAge * refreshShare(entry.key)) {
      tags.set(entry.simulation.name, hit.tags);
      noteCached(reads, hit);
    } else old.push(entry);
  }
  // New simulations first (without tags they cannot be picked), then the oldest entries; what
  // the tick's budget leaves is decided on its cached tags, or, never read, left for a later tick.
  old.sort((a, b) =>
    (cached.get(a.key)?.readAt ?? "").localeCompare(cached.get(b.key)?.readAt ?? ""),
  );
  const budget = deps ? Math.max(0, reads.budget - reads.read) : Number.POSITIVE_INFINITY;
  const toRead = [...unknown, ...old].slice(0, budget);
  for (const entry of [...unknown, ...old].slice(toRead.length)) {
    const hit = cached.get(entry.key);
    if (hit) {
      tags.set(entry.simulation.name, hit.tags);
      noteCached(reads, hit);
    } else reads.unread++;
  }
  const fresh = new Map<string, CachedTags>();
  const readAt = new Date(now).toISOString();
  await forEachLimited(toRead, TAG_READ_CONCURRENCY, async (entry) => {
    const read = await provider.listTags(entry.arn);
    tags.set(entry.simulation.name, read);
    fresh.set(entry.key, { tags: read, readAt });
  });
  reads.read += toRead.length;
  if (deps && fresh.size > 0) await deps.cache.put(fresh);
  return tags;
}

function noteCached(reads: TagReads, hit: CachedTags): void {
  reads.cached++;
  if (reads.oldestReadAt === undefined || hit.readAt < reads.oldestReadAt) {
    reads.oldestReadAt = hit.readAt;
  }
}

/**
 * The running simulations a selector picks. Names are matched first, so tags are only looked up
 * for simulations whose names already match, and only when the selector asks for tags.
 */
async function selectRunning(
  simulations: SimulationSummary[],
  selector: SimulationSelector | undefined,
  provider: Pick<SimulationProvider, "describeSimulation" | "listTags" | "capabilities" | "name">,
  deps: PlanSnapshotsDeps,
  reads: TagReads,
  skipped: SkippedSimulation[],
): Promise<string[]> {
  // A restore test's throwaway simulation is simsnap's own, running minutes: never snapshotted.
  const candidates = simulations.filter(
    (s) =>
      RUNNING_STATUSES.has(s.status) &&
      !isThrowawayName(s.name) &&
      selectorMatchesName(selector, s.name),
  );
  if (!selectorNeedsTags(selector)) return candidates.map((s) => s.name);
  // A selector on tags picks nothing on a platform whose simulations carry none.
  if (!provider.capabilities.tags) return [];
  const withArn: { simulation: SimulationSummary; arn: string }[] = [];
  for (const simulation of candidates) {
    const arn = simulation.arn ?? (await provider.describeSimulation(simulation.name)).arn;
    if (arn !== undefined) withArn.push({ simulation, arn });
  }
  const tags = await tagsOf(withArn, provider, deps.tags, reads);
  const selected: string[] = [];
  for (const { simulation } of withArn) {
    const known = tags.get(simulation.name);
    if (known === undefined) {
      skipped.push({
        simulation: simulation.name,
        provider: provider.name,
        reason: `its tags are not read yet: this tick's ${reads.budget} tag reads went to other simulations; a later tick reads them`,
      });
    } else if (selectorMatchesTags(selector, known)) selected.push(simulation.name);
  }
  return selected;
}

/**
 * Why a running simulation of a provider that cannot snapshot it is left out of a tick: the
 * schedule does not cycle, or the provider cannot start it again from its own checkpoint.
 */
function skipReason(provider: SimulationProvider, action: ScheduleAction): string {
  const cannot = `${provider.name} cannot snapshot a running simulation (it checkpoints only while stopping)`;
  if (action !== "cycle") {
    return `${cannot}, and this schedule's action is snapshot (a schedule with action cycle stops it with a checkpoint and starts it again)`;
  }
  return `${cannot}, and it cannot start a simulation again from the checkpoint its stop saved, so this schedule cannot cycle it`;
}

/**
 * The stop request of a cycle, as request-stop reads it from its queue (the `Simulation Stop
 * Requested` event's shape): stop with the platform's checkpoint, then start again from it. Its
 * request id is the tick's, so a tick delivered twice is one stop job and one restart.
 */
function cycleRequest(tick: ScheduleTick, simulation: string): StopRequestedEvent {
  const requestId = scheduledRequestId(tick, simulation);
  return {
    id: requestId,
    "detail-type": "Simulation Stop Requested",
    source: "simsnap",
    detail: {
      version: EVENT_SCHEMA_VERSION,
      simulation,
      snapshot: true,
      force: false,
      requestId,
      reason: `cycle of schedule ${tick.schedule} (slot ${new Date(tick.scheduledTime).toISOString()})`,
      then: "restart",
    },
  };
}

/**
 * One schedule tick: one snapshot request per running simulation the schedule's selector picks
 * (providers, name globs and AWS tags; no selector picks all), on every provider it names, sent
 * 10 to a request (a fleet of 10,000 is 1,000 SQS requests); tags come from the tag cache when
 * one is given and its entries are young enough (see `TagCacheDeps`). The
 * request id is the schedule, the simulation and the slot's scheduled time, so a tick delivered
 * twice sends requests that take-snapshot recognises as the same and turns into one snapshot. A
 * provider that cannot snapshot a running simulation (NVIDIA Air checkpoints only while stopping)
 * gets no snapshot request: with the schedule's `cycle` action, and a provider that can start the
 * same simulation from the checkpoint its stop saves, each picked simulation gets a stop request
 * that restarts it from that checkpoint (the same request id, so a duplicate tick is one cycle);
 * otherwise it is reported as skipped, with the reason. A cycle schedule still snapshots the
 * simulations of providers that can snapshot them running: stopping those would gain nothing.
 */
export async function planSnapshots(
  tick: ScheduleTick,
  deps: PlanSnapshotsDeps,
): Promise<PlannedSnapshots> {
  const action = tick.action ?? "snapshot";
  const picked: string[] = [];
  const cycling: string[] = [];
  const skipped: SkippedSimulation[] = [];
  const reads: TagReads = {
    read: 0,
    cached: 0,
    unread: 0,
    budget: deps.tags?.maxReadsPerTick ?? DEFAULT_TAG_READS_PER_TICK,
  };
  for (const provider of deps.providers.all()) {
    // A selector naming providers lists only theirs: the others are not even asked.
    if (!selectorMatchesProvider(tick.selector, provider.name)) continue;
    const simulations = await provider.listSimulations();
    const selected = await selectRunning(
      simulations,
      tick.selector,
      provider,
      deps,
      reads,
      skipped,
    );
    if (provider.capabilities.snapshotWhileRunning) {
      picked.push(...selected);
      continue;
    }
    if (action === "cycle" && canCycle(provider.capabilities)) {
      cycling.push(...selected);
      continue;
    }
    for (const simulation of selected) {
      skipped.push({ simulation, provider: provider.name, reason: skipReason(provider, action) });
    }
  }
  const running = picked.sort();
  await deps.requests.sendBatch(
    running.map((simulation) => ({
      requestId: scheduledRequestId(tick, simulation),
      simulation,
      trigger: "schedule",
      schedule: tick.schedule,
      requestedAt: new Date(tick.scheduledTime).toISOString(),
    })),
  );
  const cycled = cycling.sort();
  await deps.stops.sendBatch(cycled.map((simulation) => cycleRequest(tick, simulation)));
  return {
    requested: running,
    cycled,
    skipped,
    ...(reads.read + reads.cached > 0 ? { tags: reads } : {}),
  };
}
