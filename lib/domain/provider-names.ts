import * as z from "zod";

/**
 * The platforms simsnap has an adapter for, by the name their checkpoint records, jobs and
 * messages carry. Configuration and schedule selectors name providers with these, so a typo is
 * a validation error rather than a selector that silently picks nothing. The adapters declare
 * the same names (`SIMSPACEWEAVER`, `AIR`, `FILES`); a test holds the two lists together.
 */
export const PROVIDER_NAMES = ["simspaceweaver", "air", "files"] as const;
/** One provider's name. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** A provider's name, as configuration and selectors write it. */
export const ProviderNameSchema = z.enum(PROVIDER_NAMES, {
  error: `must be one of ${PROVIDER_NAMES.join(", ")}`,
});
