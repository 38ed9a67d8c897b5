import * as z from "zod";
import { describe, expect, it } from "vitest";
import { SnapshotRequestSchema } from "../../../lib/domain/messages.ts";
import { lazySchema } from "../../../lib/domain/lazy-schema.ts";
import { parseInput } from "../../../lib/domain/validation.ts";

/** A lazy schema and how many times it was built. */
function counted() {
  const builds = { count: 0 };
  const schema = lazySchema(() => {
    builds.count += 1;
    return z.object({ name: z.string().min(1), size: z.number().int().nonnegative() });
  });
  return { schema, builds };
}

describe("lazySchema", () => {
  it("builds nothing until first used, then once", () => {
    const { schema, builds } = counted();
    const parent = z.object({ item: schema });
    expect(builds.count).toBe(0);
    expect(parent.parse({ item: { name: "a", size: 1 } })).toEqual({
      item: { name: "a", size: 1 },
    });
    expect(schema.parse({ name: "b", size: 2 })).toEqual({ name: "b", size: 2 });
    expect(builds.count).toBe(1);
  });

  it("keeps every rule, and errors name the field and the rule", () => {
    const { schema } = counted();
    expect(() =>
      parseInput(z.object({ item: schema }), { item: { name: "", size: 1.5 } }, "item"),
    ).toThrow(/item\.name: Too small.*item\.size: Invalid input: expected int/);
  });

  it("behaves as the schema it builds: methods, shape, instanceof, JSON Schema", () => {
    const { schema } = counted();
    expect(schema).toBeInstanceOf(z.ZodObject);
    expect(Object.keys(schema.shape)).toEqual(["name", "size"]);
    expect(schema.extend({ tag: z.string() }).safeParse({ name: "a", size: 0 }).success).toBe(
      false,
    );
    expect(schema.optional().parse(undefined)).toBeUndefined();
    expect(z.toJSONSchema(z.object({ item: schema })).properties?.item).toMatchObject({
      type: "object",
      required: ["name", "size"],
    });
  });

  it("gives z.toJSONSchema what the eager schema gives, metadata and defaults included", () => {
    const item = () =>
      z.object({ a: z.string().default("x") }).meta({ additionalProperties: false });
    const page = () => z.coerce.number().int().default(1);
    const eager = z.object({ item: item(), page: page(), again: item() });
    const lazy = z.object({
      item: lazySchema(item),
      page: lazySchema(page),
      again: lazySchema(item),
    });
    for (const io of ["input", "output"] as const) {
      expect(z.toJSONSchema(lazy, { io })).toEqual(z.toJSONSchema(eager, { io }));
    }
  });

  it("keeps the domain's message schemas as strict as before", () => {
    expect(
      SnapshotRequestSchema.safeParse({
        requestId: "r",
        simulation: "sim",
        trigger: "discovered",
        requestedAt: "2026-12-01T00:00:00Z",
      }).error?.issues.map((issue) => issue.path.join(".")),
    ).toEqual(["trigger"]);
  });
});
