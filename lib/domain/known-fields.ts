import * as z from "zod";

/**
 * An object schema that refuses unknown fields one by one, each issue on the field's own path, so
 * an error names `state` (or `limt`) rather than the object as a whole — zod's strict objects
 * report every unknown key as one issue at the root.
 */
export function knownFieldsOnly<Shape extends z.ZodRawShape>(shape: Shape, message: string) {
  const known = new Set(Object.keys(shape));
  // `when` runs the check even when a known field is invalid, so one error names every problem;
  // a value with an unknown field never passes, so the output holds known fields only.
  // The JSON Schema generated from it (the OpenAPI document) says what the check enforces: the
  // loose object alone would read as "any other field is welcome".
  return z
    .looseObject(shape)
    .superRefine(
      (value, context) => {
        for (const key of Object.keys(value)) {
          if (!known.has(key)) context.addIssue({ code: "custom", path: [key], message });
        }
      },
      { when: (payload) => typeof payload.value === "object" && payload.value !== null },
    )
    .meta({ additionalProperties: false }) as unknown as z.ZodObject<Shape, z.core.$strict>;
}
