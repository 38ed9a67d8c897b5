import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { forPeople, inCliTerms, validationMessage } from "../../../cli/people.ts";

const zodMessage = (schema: z.ZodType, value: unknown): string => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error("expected a failure");
  return result.error.issues[0]!.message;
};

describe("messages for people", () => {
  it.each([
    [
      z.enum(["PENDING", "COMPLETE", "FAILED"]),
      "DONE",
      "must be one of PENDING, COMPLETE or FAILED",
    ],
    [z.string().max(256), "x".repeat(300), "must be at most 256 characters"],
    [z.string().min(1), "", "must not be empty"],
    [z.string().min(3), "ab", "must be at least 3 characters"],
    [z.coerce.number(), "soon", "must be a number"],
    [z.number(), "7", "must be a number"],
    [z.boolean(), "yes", "must be true or false"],
    [z.string(), undefined, "is required"],
    [z.number().max(1000), 5000, "must be at most 1000"],
    [z.number().positive(), 0, "must be more than 0"],
    [z.array(z.string()).max(50), Array(51).fill("t"), "must have at most 50 items"],
    [
      z.iso.datetime(),
      "last tuesday",
      "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
    ],
    [z.url(), "localhost", "must be a URL such as http://127.0.0.1:8080"],
    [z.strictObject({}), { colour: 1 }, "unknown field colour"],
  ])("rephrases zod's %#: %j", (schema, value, expected) => {
    expect(forPeople(zodMessage(schema, value))).toBe(expected);
  });

  it("keeps simsnap's own messages", () => {
    expect(forPeople("must be a port number from 0 to 65535")).toBe(
      "must be a port number from 0 to 65535",
    );
  });

  it("says the CLI's flags and commands where the API names its parameters and routes", () => {
    expect(
      inCliTerms("Checkpoint c1 is a favorite; unfavorite it first or delete it with force=true"),
    ).toBe("Checkpoint c1 is a favorite; unfavorite it first or delete it with --force");
    expect(
      inCliTerms(
        "Provider air can take no checkpoint of the running simulation x, so it was not stopped; ask with snapshot=false, or with force, to stop it without one",
      ),
    ).toBe(
      "Provider air can take no checkpoint of the running simulation x, so it was not stopped; ask with --no-snapshot, or with --force, to stop it without one",
    );
    expect(inCliTerms("more than the allowed 50%; force the run to allow it")).toBe(
      "more than the allowed 50%; run it with --force to allow it",
    );
    expect(
      inCliTerms("ask for a stop with a snapshot (POST /simulations/My%20Lab/stop) instead"),
    ).toBe("ask for a stop with a snapshot (simsnap stop My Lab) instead");
  });

  it("leaves no `name=value` of the API in the use cases' messages untranslated", () => {
    const root = join(import.meta.dirname, "../../../lib");
    const sources = readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => readFileSync(join(root, file), "utf8"));
    const apiSpeak = sources.flatMap((text) =>
      [...text.matchAll(/[`"][^`"\n]*\b[a-zA-Z]+=(?:true|false)\b[^`"\n]*[`"]/g)].map((m) => m[0]),
    );
    expect(apiSpeak.length).toBeGreaterThan(0);
    for (const literal of apiSpeak)
      expect(inCliTerms(literal)).not.toMatch(/\b[a-zA-Z]+=(true|false)\b/);
  });

  it("rebuilds an API validation error from its details", () => {
    expect(
      validationMessage(
        "Invalid query: search: Too big: expected string to have <=256 characters",
        [{ path: "search", message: "Too big: expected string to have <=256 characters" }],
      ),
    ).toBe("Invalid query: search: must be at most 256 characters");
  });
});
