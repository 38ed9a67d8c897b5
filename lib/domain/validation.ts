import type { z } from "zod";
import { ValidationError } from "./errors.ts";

/**
 * Parses external input (event, HTTP body, config, CLI argument) with its schema and turns zod's
 * issues into one `ValidationError` naming every field and rule, so callers never see a stack
 * trace or a half-applied input.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)",
    message: issue.message,
  }));
  const summary = details.map((d) => `${d.path}: ${d.message}`).join("; ");
  throw new ValidationError(`Invalid ${what}: ${summary}`, details, { cause: result.error });
}
