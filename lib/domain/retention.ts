import * as z from "zod";
import type { CheckpointState } from "./checkpoint.ts";
import {
  canonicalTimeZone,
  civilFromDays,
  daysFromCivil,
  formatDuration,
  InstantParser,
  isTimeZone,
  isZeroDuration,
  parseDuration,
  subtractDuration,
  ZoneClock,
  type CalendarDuration,
} from "./duration.ts";
import { ValidationError } from "./errors.ts";
import {
  addCheckpointRuleReasons,
  CHECKPOINT_RULE_FIELDS,
  hasCheckpointRules,
  KeepBestSchema,
  KeepEveryNStepsSchema,
  KeepStepsSchema,
  KeepVerifiedSchema,
  verifiedRefusal,
} from "./retention-checkpoint-rules.ts";
import { ProviderNameSchema } from "./provider-names.ts";
import { parseInput } from "./validation.ts";
import { lazySchema } from "./lazy-schema.ts";

/** A calendar period restic cuts a clock into; `last` is the snapshot's position instead. */
type Period = "last" | "hour" | "day" | "week" | "month" | "year";

const COUNT_RULES = [
  { field: "keepLast", reason: "last snapshot", period: "last" },
  { field: "keepHourly", reason: "hourly snapshot", period: "hour" },
  { field: "keepDaily", reason: "daily snapshot", period: "day" },
  { field: "keepWeekly", reason: "weekly snapshot", period: "week" },
  { field: "keepMonthly", reason: "monthly snapshot", period: "month" },
  { field: "keepYearly", reason: "yearly snapshot", period: "year" },
] as const;

const WITHIN_RULES = [
  { field: "keepWithinHourly", reason: "hourly within", period: "hour" },
  { field: "keepWithinDaily", reason: "daily within", period: "day" },
  { field: "keepWithinWeekly", reason: "weekly within", period: "week" },
  { field: "keepWithinMonthly", reason: "monthly within", period: "month" },
  { field: "keepWithinYearly", reason: "yearly within", period: "year" },
] as const;

const POLICY_FIELDS = [
  ...COUNT_RULES.map((r) => r.field),
  "keepWithin",
  ...WITHIN_RULES.map((r) => r.field),
  "keepTags",
  ...CHECKPOINT_RULE_FIELDS,
  "timeZone",
];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const floorMod = (a: number, n: number): number => ((a % n) + n) % n;

/**
 * The periods of wall-clock readings (`ZoneClock.local`), numbered as restic compares them:
 * `YYYYMMDDHH`, `YYYYMMDD`, ISO `YYYYWW` (weeks start on Monday; week-year of the week's
 * Thursday, like Go), `YYYYMM`, `YYYY`. Plain arithmetic on the day count, no Date objects, and
 * the last day's date is kept: checkpoints read in order mostly share their neighbour's day.
 */
class Periods {
  private days = Number.NaN;
  private date = 0;

  of(period: Exclude<Period, "last">, local: number): number {
    const days = Math.floor(local / DAY_MS);
    if (period === "week") {
      const thursday = days - floorMod(days + 3, 7) + 3;
      const date = civilFromDays(thursday);
      const weekYear = (date - floorMod(date, 10_000)) / 10_000;
      return weekYear * 100 + Math.floor((thursday - daysFromCivil(weekYear, 1, 1)) / 7) + 1;
    }
    if (days !== this.days) {
      this.days = days;
      this.date = civilFromDays(days);
    }
    const date = this.date;
    if (period === "hour") return date * 100 + Math.floor((local - days * DAY_MS) / HOUR_MS);
    if (period === "day") return date;
    const month = (date - floorMod(date, 100)) / 100;
    return period === "month" ? month : (month - floorMod(month, 100)) / 100;
  }
}

const KeepCountSchema = lazySchema(() =>
  z
    .number()
    .int("must be an integer: -1 (unlimited), 0 (off) or a positive count")
    .min(-1, "must be -1 (unlimited), 0 (off) or a positive count"),
);

const DurationTextSchema = lazySchema(() =>
  z.string().superRefine((text, ctx) => {
    try {
      parseDuration(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
);

const TimeZoneSchema = lazySchema(() =>
  z
    .string()
    .refine(isTimeZone, "must be an IANA time zone name such as UTC or Europe/Berlin")
    .transform(canonicalTimeZone),
);

function isActive(policy: Partial<Record<string, unknown>>): boolean {
  const counts = COUNT_RULES.some((r) => {
    const count = policy[r.field];
    return typeof count === "number" && count !== 0;
  });
  const durations = ["keepWithin", ...WITHIN_RULES.map((r) => r.field)].some((field) => {
    const text = policy[field];
    if (typeof text !== "string") return false;
    try {
      return !isZeroDuration(parseDuration(text));
    } catch {
      return true; // a bad duration is reported by its own field, not as "keeps nothing"
    }
  });
  const tags = Array.isArray(policy.keepTags) && policy.keepTags.length > 0;
  return counts || durations || tags || hasCheckpointRules(policy);
}

/**
 * One retention policy, with the meaning of restic's `forget` options (`keepDaily` is
 * `--keep-daily`, `keepWithinWeekly` is `--keep-within-weekly`, …), plus the rules training jobs
 * ask for and restic lacks (`keepBest`, `keepEveryNSteps`, `keepSteps`; see
 * retention-checkpoint-rules.ts). Strict, so that a misspelt field fails when the config is
 * loaded instead of silently keeping or removing the wrong checkpoints; a policy that keeps
 * nothing is refused for the same reason.
 */
export const RetentionPolicySchema = lazySchema(() =>
  z
    .strictObject(
      {
        keepLast: KeepCountSchema.optional(),
        keepHourly: KeepCountSchema.optional(),
        keepDaily: KeepCountSchema.optional(),
        keepWeekly: KeepCountSchema.optional(),
        keepMonthly: KeepCountSchema.optional(),
        keepYearly: KeepCountSchema.optional(),
        keepWithin: DurationTextSchema.optional(),
        keepWithinHourly: DurationTextSchema.optional(),
        keepWithinDaily: DurationTextSchema.optional(),
        keepWithinWeekly: DurationTextSchema.optional(),
        keepWithinMonthly: DurationTextSchema.optional(),
        keepWithinYearly: DurationTextSchema.optional(),
        /** A checkpoint matches a list when it has every tag of it; `""` matches untagged ones. */
        keepTags: z
          .array(z.array(z.string()).min(1, "a tag list needs at least one tag"))
          .optional(),
        keepBest: KeepBestSchema.optional(),
        keepEveryNSteps: KeepEveryNStepsSchema.optional(),
        keepSteps: KeepStepsSchema.optional(),
        keepVerified: KeepVerifiedSchema.optional(),
        timeZone: TimeZoneSchema.default("UTC"),
      },
      {
        error: (issue) =>
          issue.code === "unrecognized_keys"
            ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; ` +
              `known fields are ${POLICY_FIELDS.join(", ")}`
            : undefined,
      },
    )
    .superRefine((policy, ctx) => {
      if (!isActive(policy)) {
        ctx.addIssue({
          code: "custom",
          message:
            "the policy keeps nothing: set a keepLast/keepHourly/…/keepYearly count (-1 or more " +
            "than 0), a non-zero keepWithin… duration, a keepTags list, keepBest, keepEveryNSteps, " +
            "keepVerified or a keepSteps list",
        });
      }
    }),
);
/** A validated retention policy; `timeZone` is filled in and canonical. */
export type RetentionPolicy = z.output<typeof RetentionPolicySchema>;
/** A retention policy as written in config, before defaults. */
export type RetentionPolicyInput = z.input<typeof RetentionPolicySchema>;

const globCache = new Map<string, RegExp>();

/**
 * Compiles a shell-style glob (`*`, `?`, `[abc]`, `[a-z]`, `[!a-z]`) matched against a whole
 * simulation name, so overrides read like the names they select. An unclosed or empty class is
 * an error rather than a literal, which would never match a valid simulation name.
 */
export function globToRegExp(pattern: string): RegExp {
  const cached = globCache.get(pattern);
  if (cached !== undefined) return cached;
  const fail = (why: string): ValidationError =>
    new ValidationError(`invalid glob ${JSON.stringify(pattern)}: ${why}`, [
      { path: "(root)", message: why },
    ]);
  const escape = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === "!" || pattern[j] === "^") {
        negate = true;
        j++;
      }
      let body = "";
      const start = j;
      while (j < pattern.length && pattern[j] !== "]") {
        const from = pattern.charAt(j);
        if (pattern[j + 1] === "-" && j + 2 < pattern.length && pattern[j + 2] !== "]") {
          const to = pattern.charAt(j + 2);
          if (to < from) throw fail(`range ${from}-${to} is reversed`);
          body += `${escape(from)}-${escape(to)}`;
          j += 3;
        } else {
          body += escape(from);
          j++;
        }
      }
      if (j >= pattern.length) throw fail(`character class at position ${i + 1} is not closed`);
      if (j === start) throw fail(`character class at position ${i + 1} is empty`);
      source += `[${negate ? "^" : ""}${body}]`;
      i = j;
    } else source += escape(c);
  }
  const compiled = new RegExp(`^${source}$`);
  globCache.set(pattern, compiled);
  return compiled;
}

/** True when `name` matches the glob `pattern` in full. */
export const matchesGlob = (pattern: string, name: string): boolean =>
  globToRegExp(pattern).test(name);

/** A simulation-name glob (`*`, `?`, `[a-z]`, `[!…]`), rejected at config load when malformed. */
export const GlobSchema = lazySchema(() =>
  z
    .string()
    .min(1, "must not be empty")
    .superRefine((pattern, ctx) => {
      try {
        globToRegExp(pattern);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
);

/**
 * Retention settings of a deployment: the policy every simulation gets, overrides for simulations
 * whose names match a glob, and when an override names a `provider` only that provider's (a files
 * run and a simulation differ in what is worth keeping: `keepBest` by a training loss, say); the
 * first match wins and replaces the default whole, so an override reads on its own; and the largest share of a simulation's COMPLETE checkpoints one run may
 * remove without being forced, a guard against a mistaken policy emptying the catalog (counted
 * against the simulation's last approved run, see `RetentionBase`, so the policy's own steady
 * state is never held back by it).
 */
export const RetentionConfigSchema = lazySchema(() =>
  z.strictObject({
    default: RetentionPolicySchema,
    overrides: z
      .array(
        z.strictObject({
          match: GlobSchema,
          provider: ProviderNameSchema.optional(),
          policy: RetentionPolicySchema,
        }),
      )
      .default([]),
    maxRemoveFraction: z
      .number()
      .min(0, "must be between 0 and 1")
      .max(1, "must be between 0 and 1")
      .default(0.5),
  }),
);
/** Validated retention settings. */
export type RetentionConfig = z.output<typeof RetentionConfigSchema>;
/** Retention settings as written in a config file. */
export type RetentionConfigInput = z.input<typeof RetentionConfigSchema>;

/**
 * What a deployment keeps when it configures nothing: a day of hourly snapshots, then a week of
 * dailies, a month of weeklies and a year of monthlies, the classic grandfather-father-son set.
 */
export const DEFAULT_RETENTION: RetentionConfigInput = {
  default: { keepLast: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
};

/**
 * The policy that governs `simulation` of `provider` (the one its checkpoints name): the first
 * override whose glob matches and whose provider, if it names one, is that provider; else the
 * default. Without a provider, overrides that name one never apply.
 */
export function policyFor(
  config: RetentionConfig,
  simulation: string,
  provider?: string,
): RetentionPolicy {
  return (
    config.overrides.find(
      (o) =>
        matchesGlob(o.match, simulation) && (o.provider === undefined || o.provider === provider),
    )?.policy ?? config.default
  );
}

/**
 * The fields the planner reads, so that both a catalog `Checkpoint` and a plain JSON record can
 * be planned; `createdAt` is an ISO-8601 string or a Date.
 */
export interface RetentionCandidate {
  readonly id: string;
  readonly simulation: string;
  readonly createdAt: string | Date;
  readonly state: CheckpointState;
  readonly favorite?: boolean;
  readonly tags?: readonly string[];
  /** Read by `keepEveryNSteps` and `keepSteps`; absent for whole-simulation snapshots. */
  readonly step?: number;
  /** Read by `keepBest`; values that are not finite numbers count as absent. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Read by `keepVerified`: its latest restore test, of which only `PASSED` counts. */
  readonly verification?: { readonly status: string };
  /**
   * When it became a candidate (a checkpoint's completion, an archive copy's `archivedAt`): the
   * guard tells by it what the last approved run saw (see `RetentionBase`); absent, it counts as
   * unseen, the cautious side.
   */
  readonly completedAt?: string | Date;
}

/**
 * A kept checkpoint with every reason that keeps it: `favorite` first, then restic's reasons in
 * restic's wording, then those of `keepBest`, `keepEveryNSteps` and `keepSteps`.
 */
export interface KeptCheckpoint {
  id: string;
  reasons: string[];
}

/**
 * What the policy does to one simulation: both lists newest first, every COMPLETE checkpoint in
 * exactly one, nothing else in either. When `refused` is set the lists show what the policy asked
 * for, and callers must not remove anything.
 */
export interface RetentionPlan {
  simulation: string;
  keep: KeptCheckpoint[];
  remove: { id: string }[];
  refused: string | null;
}

/** Planning inputs that are not the policy; `now` decides which checkpoints are in the future. */
export interface RetentionPlanOptions {
  now: Date;
  /** Allows a plan that removes more than `maxRemoveFraction`; never one that removes all. */
  force?: boolean;
  /** Largest share (0–1) of a simulation's COMPLETE checkpoints one run may remove; 0.5 default. */
  maxRemoveFraction?: number;
  /**
   * The last approved run of a simulation (see `RetentionBase`), so the share guard counts only
   * removals that run did not approve and that newer checkpoints do not explain; absent, the
   * whole plan counts, as on a simulation's first run.
   */
  base?: (simulation: string) => RetentionBase | undefined;
}

/** One policy for every simulation, or a function choosing it per simulation (see `policyFor`). */
export type RetentionPolicySource =
  RetentionPolicyInput | ((simulation: string) => RetentionPolicyInput);

/** Hot checkpoints (`prune`) and archive copies (`prune-archives`) keep separate bases. */
export const RetentionScopeSchema = lazySchema(() => z.enum(["checkpoints", "archives"]));
/** Which retention a base belongs to. */
export type RetentionScope = z.infer<typeof RetentionScopeSchema>;

const IsoInstant = z.iso.datetime({ offset: true });

/**
 * What the share guard remembers of a simulation's last approved run (a plan that passed the
 * guard or was forced): when it planned (`at`), the newest checkpoint it planned over that was
 * not in the future (`newest`; `at` when all were) and the policy it applied. That is enough to
 * tell the policy's steady state from a mistake without storing any list of ids: checkpoints
 * newer than `newest` that completed after `at` are the steady arrivals that may push older ones
 * out; replaying `policy` at `at` over what had completed by then tells what that run approved
 * (see `unexplainedRemovals`). Without `policy`, the base of a first run that was refused: it
 * approved nothing, but what arrives after it still rolls through, so a simulation whose first
 * debounce window held many checkpoints is not locked out for good. Read back from the catalog,
 * so parsed like any input.
 */
export const RetentionBaseSchema = lazySchema(() =>
  z.object({
    scope: RetentionScopeSchema,
    simulation: z.string().min(1),
    runId: z.string().min(1),
    at: IsoInstant,
    newest: IsoInstant,
    policy: RetentionPolicySchema.optional(),
  }),
);
/** The last approved run of one simulation's retention. */
export type RetentionBase = z.output<typeof RetentionBaseSchema>;

/**
 * The base a run records once its plan is approved (`policy`, the one it applied), before it
 * removes anything: a crash part-way then leaves a base whose approval covers what is left; or,
 * without `policy`, the base of a simulation's first run that was refused. Undefined when the
 * simulation has no COMPLETE checkpoint: a run that saw nothing has nothing to measure against.
 */
export function retentionBaseOf(
  run: { scope: RetentionScope; simulation: string; runId: string; now: Date },
  checkpoints: readonly RetentionCandidate[],
  policy?: RetentionPolicy,
): RetentionBase | undefined {
  const parser = new InstantParser();
  const now = run.now.getTime();
  let any = false;
  let newest = Number.NEGATIVE_INFINITY;
  for (const candidate of checkpoints) {
    if (candidate.state !== "COMPLETE" || candidate.simulation !== run.simulation) continue;
    any = true;
    const time = timeOf(candidate, parser);
    if (time <= now) newest = Math.max(newest, time);
  }
  if (!any) return undefined;
  // One stamped in the future (a wrong clock) must not hold every later arrival back as "older".
  if (newest === Number.NEGATIVE_INFINITY) newest = now;
  return {
    scope: run.scope,
    simulation: run.simulation,
    runId: run.runId,
    at: run.now.toISOString(),
    newest: new Date(newest).toISOString(),
    ...(policy === undefined ? {} : { policy }),
  };
}

function hasTags(entryTags: readonly string[], list: readonly string[]): boolean {
  for (const tag of list) {
    if (tag === "" && entryTags.length === 0) return true;
    if (!entryTags.includes(tag)) return false;
  }
  return true;
}

const durationOf = (text: string | undefined): CalendarDuration | undefined => {
  if (text === undefined) return undefined;
  const duration = parseDuration(text);
  return isZeroDuration(duration) ? undefined : duration;
};

/** `list` with `reason` appended, created on the first reason (most checkpoints get none). */
function added(list: string[] | undefined, reason: string): string[] {
  if (list === undefined) return [reason];
  list.push(reason);
  return list;
}

/**
 * restic's `ApplyPolicy`, step for step, over COMPLETE checkpoints sorted newest first (`times`
 * their instants): the reasons that keep each one by position, absent for one the policy
 * removes (a map: most of a large catalog is removed, and an array of a million holes costs). A
 * checkpoint's clock is read only when a rule still needs it, and the loop ends once no rule
 * can keep anything older, so a million checkpoints cost what the kept ones need.
 */
function applyPolicy(
  sorted: readonly RetentionCandidate[],
  times: Float64Array,
  policy: RetentionPolicy,
  now: number,
): Map<number, string[]> {
  const tz = policy.timeZone;
  const clock = new ZoneClock(tz);
  const periods = new Periods();
  let latest = Number.NEGATIVE_INFINITY;
  for (const time of times) if (time > latest && time <= now) latest = time;
  const cutoff = (duration: CalendarDuration): number =>
    latest === Number.NEGATIVE_INFINITY
      ? Number.NEGATIVE_INFINITY
      : subtractDuration(new Date(latest), duration, tz).getTime();

  const within = durationOf(policy.keepWithin);
  const withinCutoff = within === undefined ? 0 : cutoff(within);
  const withinText = within === undefined ? "" : `within ${formatDuration(within)}`;
  const counts = COUNT_RULES.map((rule) => ({
    ...rule,
    count: policy[rule.field] ?? 0,
    last: -1,
  }));
  const windows = WITHIN_RULES.flatMap((rule) => {
    const duration = durationOf(policy[rule.field]);
    if (duration === undefined) return [];
    const text = formatDuration(duration);
    return [{ ...rule, text, cutoff: cutoff(duration), last: -1 }];
  });
  const tagLists = policy.keepTags ?? [];
  const oldest = sorted.length - 1;
  const reasons = new Map<number, string[]>();
  // Sorted newest first, so once no count is left, every window and keepWithin lies ahead and
  // no tag list is set, nothing older can be kept by restic's rules: the loop ends there.
  let countsLeft = counts.filter((b) => b.count !== 0).length;
  const lastCutoff = Math.min(
    within === undefined ? Number.POSITIVE_INFINITY : withinCutoff,
    ...windows.map((w) => w.cutoff),
  );
  const keepsOlder = (time: number): boolean =>
    countsLeft > 0 || tagLists.length > 0 || time > lastCutoff;

  for (let nr = 0; nr <= oldest; nr++) {
    const time = times[nr] as number;
    if (!keepsOlder(time)) break;
    let list: string[] | undefined;
    if (tagLists.length > 0) {
      const entryTags = sorted[nr]?.tags ?? [];
      for (const tags of tagLists) {
        if (hasTags(entryTags, tags)) list = added(list, `has tags [${tags.join(", ")}]`);
      }
    }
    if (within !== undefined && time > withinCutoff) list = added(list, withinText);
    let local = Number.NaN;
    for (const b of counts) {
      if (b.count > 0 || b.count === -1) {
        let value = nr;
        if (b.period !== "last") {
          if (Number.isNaN(local)) local = clock.local(time);
          value = periods.of(b.period, local);
        }
        if (value !== b.last || nr === oldest) {
          list = added(list, value === b.last ? `oldest ${b.reason}` : b.reason);
          b.last = value;
          if (b.count > 0 && --b.count === 0) countsLeft--;
        }
      }
    }
    for (const w of windows) {
      if (time > w.cutoff) {
        if (Number.isNaN(local)) local = clock.local(time);
        const value = periods.of(w.period, local);
        if (value !== w.last || nr === oldest) {
          list = added(list, `${value === w.last ? "oldest " : ""}${w.reason} ${w.text}`);
          w.last = value;
        }
      }
    }
    if (list !== undefined) reasons.set(nr, list);
  }
  return reasons;
}

function timeOf(candidate: RetentionCandidate, parser: InstantParser): number {
  const time =
    candidate.createdAt instanceof Date
      ? candidate.createdAt.getTime()
      : parser.parse(candidate.createdAt);
  if (Number.isNaN(time)) {
    throw new ValidationError(
      `checkpoint ${candidate.id} has an invalid createdAt ${JSON.stringify(String(candidate.createdAt))}`,
      [{ path: `${candidate.id}.createdAt`, message: "must be an ISO-8601 date-time" }],
    );
  }
  return time;
}

/** Ids hash by their length and last units: UUIDs and counters vary most at the end. */
const HASHED_ID_UNITS = 12;

function idHash(id: string): number {
  let hash = Math.imul(0x811c9dc5 ^ id.length, 0x01000193);
  for (let k = Math.max(0, id.length - HASHED_ID_UNITS); k < id.length; k++) {
    hash = Math.imul(hash ^ id.charCodeAt(k), 0x01000193);
  }
  return hash;
}

/**
 * The first id (in input order) that appears a second time, or undefined. The ids' hashes (FNV-1a)
 * are split by their top byte into 256 buckets, in input order, and each bucket is checked with a
 * small open-addressing table of indices (equal hashes told apart by comparing the ids). The
 * passes read memory in order and the tables stay in cache: about a fifth of what a `Set` of a
 * million ids costs, which was the largest part of a large plan's time.
 */
function firstDuplicateId(checkpoints: readonly RetentionCandidate[]): string | undefined {
  const n = checkpoints.length;
  const hashes = new Int32Array(n);
  const starts = new Int32Array(257);
  for (let i = 0; i < n; i++) {
    const hash = idHash((checkpoints[i] as RetentionCandidate).id);
    hashes[i] = hash;
    (starts[(hash >>> 24) + 1] as number)++;
  }
  for (let b = 1; b <= 256; b++) starts[b] = (starts[b] as number) + (starts[b - 1] as number);
  const order = new Int32Array(n);
  const next = starts.slice(0, 256);
  for (let i = 0; i < n; i++) {
    const bucket = (hashes[i] as number) >>> 24;
    order[next[bucket] as number] = i;
    next[bucket] = (next[bucket] as number) + 1;
  }
  let largest = 0;
  for (let b = 0; b < 256; b++) {
    largest = Math.max(largest, (starts[b + 1] as number) - (starts[b] as number));
  }
  let size = 16;
  while (size < largest * 2) size *= 2;
  const table = new Int32Array(size);
  let first = n;
  for (let b = 0; b < 256; b++) {
    const from = starts[b] as number;
    const to = starts[b + 1] as number;
    let mask = 15;
    while (mask + 1 < (to - from) * 2) mask = mask * 2 + 1;
    table.fill(-1, 0, mask + 1);
    for (let j = from; j < to; j++) {
      const i = order[j] as number;
      const hash = hashes[i] as number;
      for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
        const at = table[slot] as number;
        if (at === -1) {
          table[slot] = i;
          break;
        }
        if (hashes[at] === hash && checkpoints[at]?.id === checkpoints[i]?.id) {
          first = Math.min(first, i);
          break;
        }
      }
      if (i > first) break; // this bucket's later ids cannot name an earlier duplicate
    }
  }
  return first < n ? (checkpoints[first] as RetentionCandidate).id : undefined;
}

/**
 * The COMPLETE checkpoints of a group newest first, ties in input order (what a stable sort
 * gives), with their instants, in one pass. The catalog lists oldest or newest first, so an
 * already ordered list is only checked (and reversed), never sorted.
 */
function newestFirst(group: readonly RetentionCandidate[]): {
  sorted: RetentionCandidate[];
  times: Float64Array;
} {
  const complete: RetentionCandidate[] = [];
  const all = new Float64Array(group.length);
  const parser = new InstantParser();
  let descending = true;
  let ascending = true;
  let previous = Number.NaN;
  for (const candidate of group) {
    if (candidate.state !== "COMPLETE") continue;
    const time = timeOf(candidate, parser);
    if (time > previous) descending = false;
    if (time <= previous) ascending = false;
    all[complete.length] = time;
    complete.push(candidate);
    previous = time;
  }
  const n = complete.length;
  const times = all.subarray(0, n);
  if (descending) return { sorted: complete, times };
  if (ascending) return { sorted: complete.reverse(), times: times.reverse() };
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (times[b] as number) - (times[a] as number) || a - b,
  );
  return {
    sorted: order.map((i) => complete[i] as RetentionCandidate),
    times: Float64Array.from(order, (i) => times[i] as number),
  };
}

/** Reasons each position of `sorted` (newest first) is kept by, absent where the policy removes. */
function reasonsFor(
  sorted: readonly RetentionCandidate[],
  times: Float64Array,
  policy: RetentionPolicy,
  now: number,
): Map<number, string[]> {
  const reasons = applyPolicy(sorted, times, policy, now);
  addCheckpointRuleReasons(sorted, policy, reasons);
  return reasons;
}

/** True when position `i` of a plan is removed: neither a favorite nor kept by a rule. */
const removedAt = (
  sorted: readonly RetentionCandidate[],
  reasons: ReadonlyMap<number, string[]>,
  i: number,
): boolean => sorted[i]?.favorite !== true && !reasons.has(i);

/**
 * The removals of a plan that the share guard counts once the simulation has a base: those the
 * policy would make even if none of the checkpoints newer than the base had arrived (`newest`
 * passed, completed after `at`, not in the future: the steady arrivals, which only push older
 * checkpoints out), less those the base's run approved (what replaying its policy at its time over
 * what had completed by then removes: a removal it could not finish, such as one waiting for an
 * archive copy). What is left is what a changed policy, a moved clock, checkpoints that arrived
 * out of order (an import of old ones) or ones stamped in the future make removable.
 */
function unexplainedRemovals(
  sorted: readonly RetentionCandidate[],
  times: Float64Array,
  reasons: ReadonlyMap<number, string[]>,
  policy: RetentionPolicy,
  now: number,
  base: RetentionBase,
): { counted: number; newer: number } {
  const at = Date.parse(base.at);
  const newest = Date.parse(base.newest);
  const parser = new InstantParser();
  const older: number[] = [];
  const seen: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const completedAt = (sorted[i] as RetentionCandidate).completedAt;
    const completed =
      completedAt === undefined
        ? Number.NaN
        : completedAt instanceof Date
          ? completedAt.getTime()
          : parser.parse(completedAt);
    const time = times[i] as number;
    if (completed <= at) seen.push(i);
    else if (time > newest && time <= now) continue;
    older.push(i);
  }
  const newer = sorted.length - older.length;
  const pick = (positions: readonly number[]) => ({
    sorted: positions.map((i) => sorted[i] as RetentionCandidate),
    times: Float64Array.from(positions, (i) => times[i] as number),
  });
  const withoutNewer = pick(older);
  const removedWithoutNewer = new Uint8Array(sorted.length);
  const kept = reasonsFor(withoutNewer.sorted, withoutNewer.times, policy, now);
  older.forEach((i, j) => {
    if (removedAt(withoutNewer.sorted, kept, j)) removedWithoutNewer[i] = 1;
  });
  const approved = new Uint8Array(sorted.length);
  if (base.policy !== undefined) {
    const then = pick(seen);
    const keptThen = reasonsFor(then.sorted, then.times, base.policy, at);
    seen.forEach((i, j) => {
      if (removedAt(then.sorted, keptThen, j)) approved[i] = 1;
    });
  }
  let counted = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (removedAt(sorted, reasons, i) && removedWithoutNewer[i] === 1 && approved[i] !== 1) {
      counted++;
    }
  }
  return { counted, newer };
}

/** The plan's refusal by simsnap's two count guards, or null (see `planRetention`). */
function refusal(
  simulation: string,
  plan: { sorted: readonly RetentionCandidate[]; times: Float64Array; removing: number },
  reasons: ReadonlyMap<number, string[]>,
  policy: RetentionPolicy,
  options: RetentionPlanOptions,
  max: number,
): string | null {
  const { sorted, times, removing } = plan;
  const complete = sorted.length;
  if (complete > 0 && removing === complete) {
    return `the policy would remove all ${complete} COMPLETE checkpoints of ${simulation}; refusing to leave it without any`;
  }
  if (options.force || removing <= max * complete) return null;
  const allowed = `more than the allowed ${Math.round(max * 100)}%; force the run to allow it`;
  const base = options.base?.(simulation);
  if (base === undefined) {
    const share = Math.round((removing / complete) * 100);
    return (
      `the policy would remove ${removing} of ${complete} COMPLETE checkpoints of ${simulation} ` +
      `(${share}%), ${allowed}`
    );
  }
  const now = options.now.getTime();
  const { counted, newer } = unexplainedRemovals(sorted, times, reasons, policy, now, base);
  if (counted <= max * complete) return null;
  const share = Math.round((counted / complete) * 100);
  const why =
    base.policy === undefined
      ? `not pushed out by the ${newer} newer checkpoints since its refused first run (${base.at})`
      : `neither approved by its last approved run (${base.at}) nor pushed out by the ${newer} ` +
        `newer checkpoints since (a changed policy or clock, or checkpoints out of order?)`;
  return (
    `the policy would remove ${removing} of ${complete} COMPLETE checkpoints of ${simulation}, ` +
    `${counted} of them (${share}%) ${why}, ${allowed}`
  );
}

/**
 * Decides, per simulation, which checkpoints a retention run keeps and which it removes, with
 * restic `forget` semantics to the letter (see docs/lifecycle.md, "Retention and pruning"), the checkpoint
 * rules restic lacks (a checkpoint is kept when any rule keeps it, every reason listed) and
 * simsnap's guards: only COMPLETE checkpoints are candidates, favorites are always kept (reason
 * `favorite`, and they still fill the periods they fall in), and a plan that would remove every
 * COMPLETE checkpoint is refused, as is, without `force`, one removing more than
 * `maxRemoveFraction` of them. With a base (`options.base`, the simulation's last approved run)
 * only the removals that run neither approved nor newer checkpoints explain count towards that
 * share (see `unexplainedRemovals`), so the policy's steady state rolls through after a backlog
 * while a changed policy, clock or import is still stopped; without one, every removal counts.
 * Pure: the same inputs give the same plans, which is what makes a dry run trustworthy.
 */
export function planRetention(
  checkpoints: readonly RetentionCandidate[],
  policy: RetentionPolicySource,
  options: RetentionPlanOptions,
): RetentionPlan[] {
  const max = options.maxRemoveFraction ?? 0.5;
  if (!(max >= 0 && max <= 1)) {
    throw new ValidationError(`maxRemoveFraction must be between 0 and 1, got ${max}`, [
      { path: "maxRemoveFraction", message: "must be between 0 and 1" },
    ]);
  }
  const now = options.now.getTime();
  if (Number.isNaN(now)) throw new ValidationError("now must be a valid date");

  const duplicate = firstDuplicateId(checkpoints);
  if (duplicate !== undefined) {
    throw new ValidationError(`checkpoint id ${duplicate} appears more than once`, [
      { path: duplicate, message: "duplicate id" },
    ]);
  }
  const bySimulation = new Map<string, readonly RetentionCandidate[]>();
  const only = checkpoints[0]?.simulation;
  if (only !== undefined && checkpoints.every((c) => c.simulation === only)) {
    bySimulation.set(only, checkpoints); // one simulation, as a prune plans it: no copy
  } else {
    for (const checkpoint of checkpoints) {
      const group = bySimulation.get(checkpoint.simulation);
      if (group) (group as RetentionCandidate[]).push(checkpoint);
      else bySimulation.set(checkpoint.simulation, [checkpoint]);
    }
  }

  const simulations = [...bySimulation.keys()].sort();
  return simulations.map((simulation) => {
    const raw = typeof policy === "function" ? policy(simulation) : policy;
    const resolved = parseInput(RetentionPolicySchema, raw, `retention policy for ${simulation}`);
    const { sorted, times } = newestFirst(bySimulation.get(simulation) ?? []);
    const reasons = reasonsFor(sorted, times, resolved, now);
    const keep: KeptCheckpoint[] = [];
    const remove: { id: string }[] = [];
    // Positions with reasons in order, so the walk below needs no lookup for the others.
    const reasoned = [...reasons.keys()].sort((a, b) => a - b);
    let next = 0;
    for (let i = 0; i < sorted.length; i++) {
      const { id, favorite } = sorted[i] as RetentionCandidate;
      let why: string[] | undefined;
      if (reasoned[next] === i) {
        why = reasons.get(i);
        next++;
      }
      if (favorite === true) keep.push({ id, reasons: why ? ["favorite", ...why] : ["favorite"] });
      else if (why) keep.push({ id, reasons: why });
      else remove.push({ id });
    }
    const planned = { sorted, times, removing: remove.length };
    return {
      simulation,
      keep,
      remove,
      // keepVerified's refusal first: no force overrides it, so it is the one to act on.
      refused:
        verifiedRefusal(simulation, sorted, remove.length, resolved) ??
        refusal(simulation, planned, reasons, resolved, options, max),
    };
  });
}
