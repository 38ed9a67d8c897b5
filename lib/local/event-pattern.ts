import { isIP } from "node:net";

/**
 * EventBridge event-pattern matching, for the local bus: the same patterns the CDK stack deploys
 * (from `lib/topology.ts`) decide locally which events reach which queue. Supported, with
 * EventBridge's semantics: exact values (strings, numbers, booleans, `null`, `""`), `prefix` and
 * `suffix` (and their `equals-ignore-case` forms), `equals-ignore-case`, `anything-but` (a value,
 * a list, or a `prefix`, `suffix`, `equals-ignore-case` or `wildcard` condition), `numeric`
 * ranges, `exists` (leaf fields only; `null` is a value, so it exists), `cidr` (IPv4 and IPv6),
 * `wildcard` (`*`, escaped as `\*`), nested objects, arrays in events (any element matches, an
 * object element is matched as a whole) and `$or`, nested at any level.
 */
export type EventPattern = Record<string, unknown>;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** True when `event` matches `pattern` as EventBridge would decide. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, isObject(event) ? event : {});
}

/**
 * Every field of the pattern must match. A nested pattern object is matched against the event's
 * object there, against each object of an array there (one element must match it whole), or, when
 * the event has no object there, against nothing — which only `exists: false` conditions accept.
 */
function matchObject(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    if (field === "$or") {
      return (
        Array.isArray(rule) &&
        rule.some((alternative) => isObject(alternative) && matchObject(alternative, event))
      );
    }
    const present = Object.hasOwn(event, field);
    const value = present ? event[field] : undefined;
    if (isObject(rule)) {
      if (isObject(value)) return matchObject(rule, value);
      const objects = Array.isArray(value) ? value.filter(isObject) : [];
      if (objects.length > 0) return objects.some((element) => matchObject(rule, element));
      return matchObject(rule, {});
    }
    return Array.isArray(rule) && matchLeaf(rule, present, value);
  });
}

/** The leaf values at a field: an array's scalar elements, a scalar itself, nothing for objects. */
function leaves(present: boolean, value: unknown): unknown[] {
  if (!present || isObject(value)) return [];
  if (Array.isArray(value)) return value.filter((element) => !isObject(element));
  return [value];
}

/** One of the pattern's conditions (the array is an OR) must hold for one of the leaf values. */
function matchLeaf(conditions: unknown[], present: boolean, value: unknown): boolean {
  const values = leaves(present, value);
  return conditions.some((condition) => {
    if (isObject(condition) && "exists" in condition) {
      return condition.exists === values.length > 0;
    }
    return values.some((v) => matchOne(condition, v));
  });
}

function matchOne(condition: unknown, value: unknown): boolean {
  if (!isObject(condition)) return condition === value;
  if ("prefix" in condition) return affix(condition.prefix, value, (v, p) => v.startsWith(p));
  if ("suffix" in condition) return affix(condition.suffix, value, (v, s) => v.endsWith(s));
  if ("equals-ignore-case" in condition) {
    return anyOf(
      condition["equals-ignore-case"],
      (text) => typeof value === "string" && value.toLowerCase() === text.toLowerCase(),
    );
  }
  if ("wildcard" in condition) {
    return anyOf(
      condition.wildcard,
      (text) => typeof value === "string" && wildcard(text).test(value),
    );
  }
  if ("numeric" in condition) {
    return Array.isArray(condition.numeric) && numeric(condition.numeric, value);
  }
  if ("cidr" in condition) return typeof condition.cidr === "string" && cidr(condition.cidr, value);
  if ("anything-but" in condition) return anythingBut(condition["anything-but"], value);
  return false;
}

/** A condition operand that may be one string or a list of them (any of which may match). */
function anyOf(operand: unknown, test: (text: string) => boolean): boolean {
  const list = Array.isArray(operand) ? operand : [operand];
  return list.some((item) => typeof item === "string" && test(item));
}

function affix(
  operand: unknown,
  value: unknown,
  test: (value: string, affix: string) => boolean,
): boolean {
  if (typeof value !== "string") return false;
  if (isObject(operand) && "equals-ignore-case" in operand) {
    return anyOf(operand["equals-ignore-case"], (text) =>
      test(value.toLowerCase(), text.toLowerCase()),
    );
  }
  return anyOf(operand, (text) => test(value, text));
}

/** Matches anything except the given value(s) or condition; the field itself must be there. */
function anythingBut(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return !operand.includes(value);
  if (isObject(operand)) return !matchOne(operand, value);
  return operand !== value;
}

function numeric(conditions: unknown[], value: unknown): boolean {
  if (typeof value !== "number" || conditions.length === 0) return false;
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
  return conditions.length % 2 === 0;
}

/**
 * `*` matches any run of characters (none included); `\*` is a literal star and `\\` a literal
 * backslash, as EventBridge reads wildcard patterns.
 */
function wildcard(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\" && (pattern[i + 1] === "*" || pattern[i + 1] === "\\")) {
      source += `\\${pattern.charAt(i + 1)}`;
      i++;
    } else if (c === "*") source += ".*";
    else source += c.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/** An IP address as a 32- or 128-bit number; undefined for anything that is not one. */
function ipToBigInt(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const family = isIP(text);
  if (family === 4) {
    const value = text.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { bits: 32, value };
  }
  if (family === 6) {
    let address = text;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
    if (v4) {
      const tail = ipToBigInt(v4[1] ?? "");
      if (!tail) return undefined;
      const high = (tail.value >> 16n).toString(16);
      const low = (tail.value & 0xffffn).toString(16);
      address = `${address.slice(0, -(v4[1] ?? "").length)}${high}:${low}`;
    }
    const [head = "", rest] = address.split("::");
    const left = head === "" ? [] : head.split(":");
    const right = rest === undefined || rest === "" ? [] : rest.split(":");
    const groups =
      rest === undefined
        ? left
        : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
    const value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
    return { bits: 128, value };
  }
  return undefined;
}

/** True when `value` is an IP address inside the CIDR block (same address family only). */
function cidr(block: string, value: unknown): boolean {
  if (typeof value !== "string") return false;
  const [base = "", prefixText] = block.split("/");
  const network = ipToBigInt(base);
  const address = ipToBigInt(value);
  if (!network || !address || network.bits !== address.bits) return false;
  const prefix = prefixText === undefined ? network.bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > network.bits) return false;
  const shift = BigInt(network.bits - prefix);
  return network.value >> shift === address.value >> shift;
}
