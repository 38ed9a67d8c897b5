/**
 * EventBridge event-pattern matching, for the local bus: the same patterns the CDK stack deploys
 * (from `lib/topology.ts`) decide locally which events reach which queue. Supported: exact values,
 * `prefix`, `suffix` (and their `equals-ignore-case` forms), `equals-ignore-case`, `anything-but`
 * (values, `prefix`, `suffix`), `numeric` ranges, `exists`, `wildcard`, nested objects, arrays in
 * events (any element matches) and `$or`.
 */
export type EventPattern = Record<string, unknown>;

type Matcher = unknown;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** True when `event` matches `pattern` as EventBridge would decide. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, isObject(event) ? event : {});
}

function matchObject(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === "$or") {
      return (
        Array.isArray(rule) &&
        rule.some((alternative) => isObject(alternative) && matchObject(alternative, event))
      );
    }
    const value = event[field];
    if (isObject(rule)) return isObject(value) && matchObject(rule, value);
    if (!Array.isArray(rule)) return false;
    return matchField(rule, value, field in event);
  });
}

function matchField(matchers: Matcher[], value: unknown, present: boolean): boolean {
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((matcher) => {
    if (isObject(matcher) && "exists" in matcher) {
      return (
        matcher.exists ===
        (present && value !== null && !(Array.isArray(value) && value.length === 0))
      );
    }
    if (!present) return false;
    return values.some((v) => matchOne(matcher, v));
  });
}

function matchOne(matcher: Matcher, value: unknown): boolean {
  if (!isObject(matcher)) return matcher === value || (matcher === null && value === null);
  if ("prefix" in matcher) return matchAffix(matcher.prefix, value, (v, p) => v.startsWith(p));
  if ("suffix" in matcher) return matchAffix(matcher.suffix, value, (v, s) => v.endsWith(s));
  if ("equals-ignore-case" in matcher) {
    return (
      typeof value === "string" &&
      value.toLowerCase() === String(matcher["equals-ignore-case"]).toLowerCase()
    );
  }
  if ("wildcard" in matcher)
    return typeof value === "string" && wildcard(String(matcher.wildcard)).test(value);
  if ("numeric" in matcher)
    return Array.isArray(matcher.numeric) && numeric(matcher.numeric, value);
  if ("anything-but" in matcher) return anythingBut(matcher["anything-but"], value);
  return false;
}

function matchAffix(
  rule: unknown,
  value: unknown,
  test: (value: string, affix: string) => boolean,
): boolean {
  if (typeof value !== "string") return false;
  if (isObject(rule) && "equals-ignore-case" in rule) {
    return test(value.toLowerCase(), String(rule["equals-ignore-case"]).toLowerCase());
  }
  return typeof rule === "string" && test(value, rule);
}

function anythingBut(rule: unknown, value: unknown): boolean {
  if (Array.isArray(rule)) return !rule.includes(value);
  if (isObject(rule)) return !matchOne(rule, value);
  return rule !== value;
}

function numeric(conditions: unknown[], value: unknown): boolean {
  if (typeof value !== "number") return false;
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const operator = conditions[i];
    const bound = Number(conditions[i + 1]);
    const ok =
      (operator === "=" && value === bound) ||
      (operator === "<" && value < bound) ||
      (operator === "<=" && value <= bound) ||
      (operator === ">" && value > bound) ||
      (operator === ">=" && value >= bound);
    if (!ok) return false;
  }
  return conditions.length > 0;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}
