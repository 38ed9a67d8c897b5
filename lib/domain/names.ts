import * as z from "zod";

/**
 * SimSpace Weaver's own rule for simulation names. Checked before any call so that a bad name is
 * a clear validation error here, not an opaque 400 from the service.
 */
export const SimulationNameSchema = z
  .string()
  .min(1, "must be 1 to 64 characters")
  .max(64, "must be 1 to 64 characters")
  .regex(/^[a-zA-Z0-9_.-]+$/, "must match ^[a-zA-Z0-9_.-]+$ (letters, digits, _ . -)");

/** A validated simulation name. */
export type SimulationName = z.infer<typeof SimulationNameSchema>;
