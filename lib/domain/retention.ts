import * as z from "zod";
import type { CheckpointState } from "./checkpoint.ts";
import {
  canonicalTimeZone,
  formatDuration,
  isTimeZone,
  isZeroDuration,
  parseDuration,
  subtractDuration,
  wallClock,
  type CalendarDuration,
  type WallClock,
} from "./duration.ts";
import { ValidationError } from "./errors.ts";
import {
  addCheckpointRuleReasons,
  CHECKPOINT_RULE_FIELDS,
  hasCheckpointRules,
  KeepBestSchema,
  KeepEveryNStepsSchema,
  KeepStepsSchema,
} from "./retention-checkpoint-rules.ts";
import { parseInput } from "./validation.ts";

const COUNT_RULES = [
  { field: "keepLast", reason: "last snapshot", bucket: (_c: WallClock, nr: number) => nr },
  { field: "keepHourly", reason: "hourly snapshot", bucket: (c: WallClock) => ymdh(c) },
  { field: "keepDaily", reason: "daily snapshot", bucket: (c: WallClock) => ymd(c) },
  { field: "keepWeekly", reason: "weekly snapshot", bucket: (c: WallClock) => isoWeek(c) },
  { field: "keepMonthly", reason: "monthly snapshot", bucket: (c: WallClock) => ym(c) },
  { field: "keepYearly", reason: "yearly snapshot", bucket: (c: WallClock) => c.year },
] as const;

const WITHIN_RULES = [
  { field: "keepWithinHourly", reason: "hourly within", bucket: (c: WallClock) => ymdh(c) },
  { field: "keepWithinDaily", reason: "daily within", bucket: (c: WallClock) => ymd(c) },
  { field: "keepWithinWeekly", reason: "weekly within", bucket: (c: WallClock) => isoWeek(c) },
  { field: "keepWithinMonthly", reason: "monthly within", bucket: (c: WallClock) => ym(c) },
  { field: "keepWithinYearly", reason: "yearly within", bucket: (c: WallClock) => c.year },
] as const;

const POLICY_FIELDS = [
  ...COUNT_RULES.map((r) => r.field),
  "keepWithin",
  ...WITHIN_RULES.map((r) => r.field),
  "keepTags",
  ...CHECKPOINT_RULE_FIELDS,
  "timeZone",
];

function ymdh(c: WallClock): number {
  return c.year * 1_000_000 + c.month * 10_000 + c.day * 100 + c.hour;
}

function ymd(c: WallClock): number {
  return c.year * 10_000 + c.month * 100 + c.day;
}

function ym(c: WallClock): number {
  return c.year * 100 + c.month;
}

const DAY_MS = 86_400_000;

/** ISO-8601 week as `YYYYWW` (weeks start on Monday; week-year of the week's Thursday), like Go. */
function isoWeek(c: WallClock): number {
  const date = new Date(0);
  date.setUTCFullYear(c.year, c.month - 1, c.day);
  const weekday = ((date.getUTCDay() + 6) % 7) + 1;
  const thursday = new Date(date.getTime() + (4 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const januaryFirst = new Date(0);
  januaryFirst.setUTCFullYear(weekYear, 0, 1);
  const week = Math.floor((thursday.getTime() - januaryFirst.getTime()) / DAY_MS / 7) + 1;
  return weekYear * 100 + week;
}

const KeepCountSchema = z
  .number()
  .int("must be an integer: -1 (unlimited), 0 (off) or a positive count")
  .min(-1, "must be -1 (unlimited), 0 (off) or a positive count");

const DurationTextSchema = z.string().superRefine((text, ctx) => {
  try {
    parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

const TimeZoneSchema = z
  .string()
  .refine(isTimeZone, "must be an IANA time zone name such as UTC or Europe/Berlin")
  .transform(canonicalTimeZone);

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
export const RetentionPolicySchema = z
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
      keepTags: z.array(z.array(z.string()).min(1, "a tag list needs at least one tag")).optional(),
      keepBest: KeepBestSchema.optional(),
      keepEveryNSteps: KeepEveryNStepsSchema.optional(),
      keepSteps: KeepStepsSchema.optional(),
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
          "than 0), a non-zero keepWithin… duration, a keepTags list, keepBest, keepEveryNSteps " +
          "or a keepSteps list",
      });
    }
  });
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
export const GlobSchema = z
  .string()
  .min(1, "must not be empty")
  .superRefine((pattern, ctx) => {
    try {
      globToRegExp(pattern);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });

/**
 * Retention settings of a deployment: the policy every simulation gets, overrides for simulations
 * whose names match a glob (the first match wins and replaces the default whole, so an override
 * reads on its own), and the largest share of a simulation's COMPLETE checkpoints one run may
 * remove without being forced, a guard against a mistaken policy emptying the catalog.
 */
export const RetentionConfigSchema = z.strictObject({
  default: RetentionPolicySchema,
  overrides: z
    .array(z.strictObject({ match: GlobSchema, policy: RetentionPolicySchema }))
    .default([]),
  maxRemoveFraction: z
    .number()
    .min(0, "must be between 0 and 1")
    .max(1, "must be between 0 and 1")
    .default(0.5),
});
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

/** The policy that governs `simulation`: the first override whose glob matches, else the default. */
export function policyFor(config: RetentionConfig, simulation: string): RetentionPolicy {
  return config.overrides.find((o) => matchesGlob(o.match, simulation))?.policy ?? config.default;
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
}

/** One policy for every simulation, or a function choosing it per simulation (see `policyFor`). */
export type RetentionPolicySource =
  RetentionPolicyInput | ((simulation: string) => RetentionPolicyInput);

interface Entry {
  id: string;
  time: number;
  clock: WallClock;
  tags: readonly string[];
  favorite: boolean;
  step: number | undefined;
  metrics: Readonly<Record<string, number>> | undefined;
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

/**
 * restic's `ApplyPolicy`, step for step, over entries sorted newest first: the reasons that keep
 * each entry, empty for an entry the policy removes.
 */
function applyPolicy(entries: readonly Entry[], policy: RetentionPolicy, now: number): string[][] {
  const tz = policy.timeZone;
  let latest = Number.NEGATIVE_INFINITY;
  for (const e of entries) if (e.time > latest && e.time <= now) latest = e.time;
  const cutoff = (duration: CalendarDuration): number =>
    latest === Number.NEGATIVE_INFINITY
      ? Number.NEGATIVE_INFINITY
      : subtractDuration(new Date(latest), duration, tz).getTime();

  const within = durationOf(policy.keepWithin);
  const withinCutoff = within === undefined ? 0 : cutoff(within);
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
  const oldest = entries.length - 1;

  return entries.map((entry, nr) => {
    const reasons: string[] = [];
    for (const list of policy.keepTags ?? []) {
      if (hasTags(entry.tags, list)) reasons.push(`has tags [${list.join(", ")}]`);
    }
    if (within !== undefined && entry.time > withinCutoff) {
      reasons.push(`within ${formatDuration(within)}`);
    }
    for (const b of counts) {
      if (b.count > 0 || b.count === -1) {
        const value = b.bucket(entry.clock, nr);
        if (value !== b.last || nr === oldest) {
          reasons.push(value === b.last ? `oldest ${b.reason}` : b.reason);
          b.last = value;
          if (b.count > 0) b.count--;
        }
      }
    }
    for (const w of windows) {
      if (entry.time > w.cutoff) {
        const value = w.bucket(entry.clock);
        if (value !== w.last || nr === oldest) {
          reasons.push(`${value === w.last ? "oldest " : ""}${w.reason} ${w.text}`);
          w.last = value;
        }
      }
    }
    return reasons;
  });
}

function timeOf(candidate: RetentionCandidate): number {
  const time =
    candidate.createdAt instanceof Date
      ? candidate.createdAt.getTime()
      : Date.parse(candidate.createdAt);
  if (Number.isNaN(time)) {
    throw new ValidationError(
      `checkpoint ${candidate.id} has an invalid createdAt ${JSON.stringify(String(candidate.createdAt))}`,
      [{ path: `${candidate.id}.createdAt`, message: "must be an ISO-8601 date-time" }],
    );
  }
  return time;
}

function refusal(
  simulation: string,
  removing: number,
  complete: number,
  options: RetentionPlanOptions,
  max: number,
): string | null {
  if (complete > 0 && removing === complete) {
    return `the policy would remove all ${complete} COMPLETE checkpoints of ${simulation}; refusing to leave it without any`;
  }
  if (!options.force && removing > max * complete) {
    const share = Math.round((removing / complete) * 100);
    return (
      `the policy would remove ${removing} of ${complete} COMPLETE checkpoints of ${simulation} ` +
      `(${share}%), more than the allowed ${Math.round(max * 100)}%; force the run to allow it`
    );
  }
  return null;
}

/**
 * Decides, per simulation, which checkpoints a retention run keeps and which it removes, with
 * restic `forget` semantics to the letter (see docs/lifecycle.md, "Retention and pruning"), the checkpoint
 * rules restic lacks (a checkpoint is kept when any rule keeps it, every reason listed) and
 * simsnap's guards: only COMPLETE checkpoints are candidates, favorites are always kept (reason
 * `favorite`, and they still fill the periods they fall in), and a plan that would remove every
 * COMPLETE checkpoint, or more than `maxRemoveFraction` of them without `force`, is refused.
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

  const seen = new Set<string>();
  const bySimulation = new Map<string, RetentionCandidate[]>();
  for (const checkpoint of checkpoints) {
    if (seen.has(checkpoint.id)) {
      throw new ValidationError(`checkpoint id ${checkpoint.id} appears more than once`, [
        { path: checkpoint.id, message: "duplicate id" },
      ]);
    }
    seen.add(checkpoint.id);
    const group = bySimulation.get(checkpoint.simulation) ?? [];
    group.push(checkpoint);
    bySimulation.set(checkpoint.simulation, group);
  }

  const simulations = [...bySimulation.keys()].sort();
  return simulations.map((simulation) => {
    const raw = typeof policy === "function" ? policy(simulation) : policy;
    const resolved = parseInput(RetentionPolicySchema, raw, `retention policy for ${simulation}`);
    const entries: Entry[] = (bySimulation.get(simulation) ?? [])
      .filter((c) => c.state === "COMPLETE")
      .map((c) => {
        const time = timeOf(c);
        return {
          id: c.id,
          time,
          clock: wallClock(new Date(time), resolved.timeZone),
          tags: c.tags ?? [],
          favorite: c.favorite === true,
          step: c.step,
          metrics: c.metrics,
        };
      })
      .sort((a, b) => b.time - a.time);

    const reasons = applyPolicy(entries, resolved, now);
    addCheckpointRuleReasons(entries, resolved, reasons);
    const keep: KeptCheckpoint[] = [];
    const remove: { id: string }[] = [];
    entries.forEach((entry, i) => {
      const why = [...(entry.favorite ? ["favorite"] : []), ...(reasons[i] ?? [])];
      if (why.length > 0) keep.push({ id: entry.id, reasons: why });
      else remove.push({ id: entry.id });
    });
    return {
      simulation,
      keep,
      remove,
      refused: refusal(simulation, remove.length, entries.length, options, max),
    };
  });
}
