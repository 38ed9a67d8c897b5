import * as z from "zod";
import { lazySchema } from "./lazy-schema.ts";

/** Largest page a caller may ask for, as in the catalog's own listings. */
export const MAX_LIMIT = 1000;
/** Page size when the caller names none. */
export const DEFAULT_LIMIT = 100;

const limitMessage = `must be an integer from 1 to ${MAX_LIMIT}`;

/** A page size in a query string, 1 to `MAX_LIMIT`; refused, never clamped, when out of range. */
export const limitParam = lazySchema(() =>
  z
    .string()
    .regex(/^\d+$/, limitMessage)
    .transform(Number)
    .pipe(z.number().int().min(1, limitMessage).max(MAX_LIMIT, limitMessage))
    .default(DEFAULT_LIMIT),
);

/** `true`/`false` in a query string; anything else is refused rather than read as false. */
export const booleanParam = lazySchema(() =>
  z
    .enum(["true", "false"], { error: "must be true or false" })
    .transform((value) => value === "true"),
);

/**
 * Reads a comma-separated query parameter (`state=COMPLETE,FAILED`); API Gateway also joins a
 * repeated parameter (`tag=a&tag=b`) this way, so both spellings mean the same.
 */
export const commaList = (value: string): string[] =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
