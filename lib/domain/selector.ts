import * as z from "zod";
import { ProviderNameSchema } from "./providers.ts";
import { GlobSchema, matchesGlob } from "./retention.ts";
import { lazySchema } from "./lazy-schema.ts";

/** AWS's tag rules: keys of 1–128 characters, values of up to 256. */
const TagsSchema = lazySchema(() =>
  z.record(
    z.string().min(1, "tag keys must not be empty").max(128, "tag keys are at most 128 characters"),
    z.string().max(256, "tag values are at most 256 characters"),
  ),
);

/**
 * Which simulations a schedule snapshots: those of the listed providers, with names matching any
 * of the globs (the retention overrides' glob syntax: `*`, `?`, `[a-z]`) and carrying every
 * listed tag with that value. An absent part does not filter, so `{}` selects every running
 * simulation of every provider. Tags are the simulation's own AWS tags, read from the provider
 * (`ListTagsForResource`); a provider whose simulations have no tags matches no tag selector.
 */
export const SimulationSelectorSchema = lazySchema(() =>
  z.strictObject({
    providers: z
      .array(ProviderNameSchema)
      .min(1, "must list at least one provider, or be left out")
      .optional(),
    names: z.array(GlobSchema).min(1, "must list at least one glob, or be left out").optional(),
    tags: TagsSchema.optional(),
  }),
);
/** Which simulations a schedule snapshots. */
export type SimulationSelector = z.output<typeof SimulationSelectorSchema>;

/** True when deciding needs the simulation's tags, which cost the provider one call each. */
export const selectorNeedsTags = (selector: SimulationSelector | undefined): boolean =>
  Object.keys(selector?.tags ?? {}).length > 0;

/** True when the name matches one of the selector's globs (or it lists none). */
export const selectorMatchesName = (
  selector: SimulationSelector | undefined,
  name: string,
): boolean => selector?.names === undefined || selector.names.some((g) => matchesGlob(g, name));

/** True when the simulation has every tag the selector asks for, with the same value. */
export const selectorMatchesTags = (
  selector: SimulationSelector | undefined,
  tags: Readonly<Record<string, string>>,
): boolean =>
  Object.entries(selector?.tags ?? {}).every(
    ([key, value]) => Object.hasOwn(tags, key) && tags[key] === value,
  );

/** True when the selector picks simulations of this provider (or names no providers). */
export const selectorMatchesProvider = (
  selector: SimulationSelector | undefined,
  provider: string,
): boolean =>
  selector?.providers === undefined || (selector.providers as readonly string[]).includes(provider);
