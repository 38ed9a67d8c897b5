import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

/**
 * The longest simulation name simsnap records, in characters (code points): NVIDIA Air's limit
 * (its `name` field, a Django `CharField(max_length=128)`, counts code points), the largest of
 * the platforms simsnap manages; SimSpace Weaver's 64 fit within it.
 */
export const SIMULATION_NAME_MAX = 128;

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** A surrogate that is not half of a pair (with the `u` flag, a pair is one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
/** Unicode white space (`\s` with `u`: spaces, tabs, no-break spaces, ideographic space, BOM). */
const EDGE_WHITESPACE = /^\s|\s$/u;

/** The length of a name in code points, as Air (Python) counts it: an emoji is one character. */
const codePoints = (text: string): number => [...text].length;

/**
 * simsnap's own rule for simulation names, the one every record, job, message, API parameter,
 * config entry and CLI argument is checked with. Platforms name simulations differently
 * (SimSpace Weaver: `^[a-zA-Z0-9_.-]{1,64}$`; NVIDIA Air: free text up to 128 characters, such
 * as "My First Simulation"), so this rule admits every name a platform may hand simsnap and
 * refuses only what would break simsnap itself; each provider checks its platform's own rule at
 * its boundary (see `SimSpaceWeaverNameSchema`, `SimulationProvider.simulationNameRefusal`).
 *
 * - **1 to 128 characters** (code points): Air's limit, the longest of any platform's. It also
 *   bounds the keys built from a name: at most 512 UTF-8 bytes in an S3 key segment (keys may
 *   have 1024) and in a DynamoDB key (2048 for a partition key).
 * - **Well-formed Unicode** (no lone surrogate): a name is stored and sent as UTF-8 (S3 keys,
 *   DynamoDB, JSON, URLs), which cannot spell half a surrogate pair; `encodeURIComponent` throws
 *   on one, so such a name could not even be put in an API path.
 * - **No control characters** (C0, DEL, C1, U+2028/U+2029): a name is printed in one-line logs,
 *   CLI tables and messages, where a newline or an escape sequence forges or garbles lines; S3's
 *   XML listings cannot carry most C0 characters in a key; and `deterministicId` joins its parts
 *   with U+0000, which a name must not contain for two different jobs never to share an id.
 * - **No leading or trailing white space**: invisible in every listing, and lost by shells, forms
 *   and Air itself (its API trims names, DRF's `trim_whitespace`), so `lab ` and `lab` would be
 *   two simsnap names for one Air simulation, or a name no platform call can ever find.
 * - **No `/`**: a name is exactly one segment of the S3 keys simsnap builds (archive copies,
 *   prune reports; `keySegment` refuses a `/`) and of the API's paths (`/simulations/{name}/…`,
 *   where proxies and API Gateway treat `%2F` inconsistently): with a `/`, `a/b`'s files would
 *   land in the folder of a simulation named `a`.
 *
 * Everything else is allowed: spaces inside a name, any script, emoji, punctuation (`#`, `%`,
 * `+`, `?`, `!`), `.` and `..` (SimSpace Weaver allows them; keys spell them safely, see `s3Key`).
 */
export const SimulationNameSchema = lazySchema(() =>
  z
    .string()
    .refine((name) => codePoints(name) >= 1 && codePoints(name) <= SIMULATION_NAME_MAX, {
      message: `must be 1 to ${SIMULATION_NAME_MAX} characters`,
      abort: true,
    })
    .refine((name) => !LONE_SURROGATE.test(name), "must be well-formed Unicode (no lone surrogate)")
    .refine((name) => !CONTROL.test(name), "must not contain control characters or line breaks")
    .refine((name) => !EDGE_WHITESPACE.test(name), "must not start or end with white space")
    .refine((name) => !name.includes("/"), 'must not contain "/"'),
);

/** A validated simulation name. */
export type SimulationName = z.infer<typeof SimulationNameSchema>;

/**
 * SimSpace Weaver's own rule for simulation names (`SimSpaceWeaverResourceName`: 1 to 64 of
 * letters, digits, `_ . -`). Its provider checks names with it before any call, so that a bad
 * name is a clear validation error here, not an opaque 400 from the service; the snapshot key
 * parser reads only such names, since SimSpace Weaver never writes a file under another.
 */
export const SimSpaceWeaverNameSchema = lazySchema(() =>
  z
    .string()
    .min(1, "must be 1 to 64 characters")
    .max(64, "must be 1 to 64 characters")
    .regex(/^[a-zA-Z0-9_.-]+$/, "must match ^[a-zA-Z0-9_.-]+$ (letters, digits, _ . -)"),
);

/**
 * `stem` and `suffix` joined, the stem cut (by whole characters, never half an emoji) so the
 * result has at most `max` characters: derived names (a restore's default target, an Air clone's
 * name) keep their distinguishing suffix and stay within the name rules.
 */
export function nameWithSuffix(stem: string, suffix: string, max: number): string {
  const room = Math.max(0, max - codePoints(suffix));
  return `${[...stem].slice(0, room).join("")}${suffix}`;
}
