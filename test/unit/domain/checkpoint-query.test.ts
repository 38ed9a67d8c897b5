import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../lib/domain/checkpoint.ts";
import {
  CheckpointQuerySchema,
  queryCheckpoints,
  type CheckpointQueryInput,
} from "../../../lib/domain/checkpoint-query.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { checkpoint, minutesIn } from "../../support/checkpoint-factory.ts";

const query = (input: CheckpointQueryInput = {}) =>
  parseInput(CheckpointQuerySchema, input, "query string");

function validationPaths(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details.map((d) => d.path);
  }
  throw new Error("expected a ValidationError");
}

function allPages(records: Checkpoint[], input: CheckpointQueryInput): Checkpoint[][] {
  const pages: Checkpoint[][] = [];
  let cursor: string | undefined;
  do {
    const page = queryCheckpoints(records, query({ ...input, ...(cursor ? { cursor } : {}) }));
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

const ids = (records: readonly Checkpoint[]) => records.map((c) => c.id);

const catalog = [
  checkpoint({ id: "a1", name: "cp-2", createdAt: minutesIn(1), tags: ["gold", "nightly"] }),
  checkpoint({ id: "a2", name: "cp-10", createdAt: minutesIn(2), favorite: true, run: "r1" }),
  checkpoint({
    id: "a3",
    name: "Before UPGRADE",
    description: "taken by hand",
    createdAt: minutesIn(3),
    state: "PENDING",
    location: undefined,
  }),
  checkpoint({ id: "b1", simulation: "sim-b", name: "cp-1", createdAt: minutesIn(2) }),
  checkpoint({
    id: "b2",
    simulation: "sim-b",
    name: "broken",
    description: "Upgrade failed",
    createdAt: minutesIn(4),
    state: "FAILED",
    tags: ["gold"],
  }),
];

describe("queryCheckpoints filters", () => {
  it.each<[string, CheckpointQueryInput, string[]]>([
    ["simulation", { simulation: "sim-b" }, ["b2", "b1"]],
    ["run", { run: "r1" }, ["a2"]],
    ["one state", { state: "COMPLETE" }, ["a2", "b1", "a1"]],
    ["any of several states", { state: "PENDING,FAILED" }, ["b2", "a3"]],
    ["favorites", { favorite: "true" }, ["a2"]],
    ["non-favorites", { favorite: "false" }, ["b2", "a3", "b1", "a1"]],
    ["a tag", { tag: "gold" }, ["b2", "a1"]],
    ["all of several tags", { tag: "gold,nightly" }, ["a1"]],
    ["text in name or description, any case", { search: "upgrade" }, ["b2", "a3"]],
    ["created at or after (inclusive)", { createdAfter: minutesIn(3) }, ["b2", "a3"]],
    ["created before (exclusive)", { createdBefore: minutesIn(2) }, ["a1"]],
    [
      "filters combined with AND",
      { simulation: "sim-a", state: "COMPLETE", createdAfter: minutesIn(2) },
      ["a2"],
    ],
  ])("by %s", (_, input, expected) => {
    expect(ids(queryCheckpoints(catalog, query(input)).items)).toEqual(expected);
  });

  it("compares instants, whatever offset a bound is written with", () => {
    const bound = "2026-01-01T01:03:00+01:00"; // minute 3 in UTC
    expect(ids(queryCheckpoints(catalog, query({ createdAfter: bound })).items)).toEqual([
      "b2",
      "a3",
    ]);
  });
});

describe("queryCheckpoints ordering", () => {
  it.each<[string, string[]]>([
    ["createdAt", ["a1", "a2", "b1", "a3", "b2"]],
    ["-createdAt", ["b2", "a3", "a2", "b1", "a1"]],
    ["name", ["a3", "b2", "b1", "a1", "a2"]],
    ["state", ["a3", "a1", "a2", "b1", "b2"]],
    ["-favorite,createdAt", ["a2", "a1", "b1", "a3", "b2"]],
    ["modifiedAt", ["a1", "a2", "b1", "a3", "b2"]],
  ])("orders by %s, ties broken by id", (ordering, expected) => {
    expect(ids(queryCheckpoints(catalog, query({ ordering })).items)).toEqual(expected);
  });

  it("defaults to newest first", () => {
    expect(ids(queryCheckpoints(catalog, query()).items)).toEqual(["b2", "a3", "a2", "b1", "a1"]);
  });

  it("orders names as people read numbers (cp-2 before cp-10)", () => {
    const names = queryCheckpoints(catalog, query({ ordering: "name", state: "COMPLETE" }));
    expect(names.items.map((c) => c.name)).toEqual(["cp-1", "cp-2", "cp-10"]);
  });
});

describe("queryCheckpoints pages", () => {
  const many = Array.from({ length: 23 }, (_, i) =>
    checkpoint({
      id: `m${String(i).padStart(2, "0")}`,
      name: `cp-${i % 5}`,
      createdAt: minutesIn(i % 7),
      favorite: i % 4 === 0,
      state: i % 6 === 0 ? "DELETED" : "COMPLETE",
    }),
  );

  it("pages through every match once, in order, with no cursor on the last page", () => {
    const input = { ordering: "name,-createdAt", limit: "5", state: "COMPLETE" };
    const pages = allPages(many, input);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 4]);
    const one = queryCheckpoints(many, query({ ...input, limit: "1000" }));
    expect(ids(pages.flat())).toEqual(ids(one.items));
    expect(one.nextCursor).toBeUndefined();
  });

  it("neither repeats nor skips a record when the catalog changes between pages", () => {
    const input = { ordering: "createdAt", limit: "4" };
    const first = queryCheckpoints(many, query(input));
    const seen = ids(first.items);
    const changed = [
      ...many.filter((c) => c.id !== seen[0] && c.id !== "m06"),
      checkpoint({ id: "new-early", createdAt: minutesIn(-1) }),
      checkpoint({ id: "new-late", createdAt: minutesIn(99) }),
    ];
    const rest = allPages(changed, { ...input, cursor: first.nextCursor }).flat();
    const expected = ids(queryCheckpoints(changed, query({ ...input, limit: "1000" })).items);
    // Everything after the last record of page one, in order: the late newcomer included, the
    // early one (before the position) and the deleted m06 not.
    expect(ids(rest)).toEqual(expected.slice(expected.indexOf(seen.at(-1) as string) + 1));
    expect(ids(rest)).toContain("new-late");
    expect(ids(rest)).not.toContain("new-early");
    expect(new Set([...seen, ...ids(rest)]).size).toBe(seen.length + rest.length);
  });

  it("keeps a cursor valid when only the page size changes", () => {
    const first = queryCheckpoints(many, query({ ordering: "name", limit: "3" }));
    const next = queryCheckpoints(
      many,
      query({ ordering: "name", limit: "50", cursor: first.nextCursor }),
    );
    const all = queryCheckpoints(many, query({ ordering: "name", limit: "50" }));
    expect(ids([...first.items, ...next.items])).toEqual(ids(all.items));
  });

  it("refuses, naming cursor, a cursor of another query and one that is not a cursor", () => {
    const cursor = queryCheckpoints(many, query({ ordering: "name", limit: "3" })).nextCursor;
    for (const input of [
      { ordering: "-name", cursor },
      { ordering: "name", state: "COMPLETE", cursor },
      { ordering: "name", cursor: "not a cursor" },
      { ordering: "name", cursor: Buffer.from("[1,2]").toString("base64url") },
      { ordering: "name", cursor: Buffer.from('{"f":"x","k":[],"id":"a"}').toString("base64url") },
    ]) {
      expect(validationPaths(() => queryCheckpoints(many, query(input)))).toEqual(["cursor"]);
    }
  });

  it("pages any ordering of any catalog exactly like one big page (property)", () => {
    const record = fc.record({
      id: fc.uuid(),
      name: fc.constantFrom("a", "B", "cp-2", "cp-10", "é"),
      minute: fc.integer({ min: 0, max: 5 }),
      favorite: fc.boolean(),
      state: fc.constantFrom("PENDING", "COMPLETE", "FAILED", "DELETED" as const),
    });
    const field = fc.constantFrom("createdAt", "modifiedAt", "name", "state", "favorite");
    fc.assert(
      fc.property(
        fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 30 }),
        fc.uniqueArray(field, { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 1, max: 7 }),
        (records, fields, descending, limit) => {
          const checkpoints = records.map((r) =>
            checkpoint({
              ...r,
              createdAt: minutesIn(r.minute),
              modifiedAt: minutesIn(5 - r.minute),
            }),
          );
          const ordering = fields.map((f, i) => (descending[i] ? `-${f}` : f)).join(",");
          const paged = allPages(checkpoints, { ordering, limit: String(limit) }).flat();
          const whole = queryCheckpoints(checkpoints, query({ ordering, limit: "1000" })).items;
          expect(ids(paged)).toEqual(ids(whole));
        },
      ),
    );
  });
});

describe("CheckpointQuerySchema", () => {
  it("names each bad parameter and its rule", () => {
    const error = (() => {
      try {
        query({
          state: "DONE",
          favorite: "yes",
          limit: "0",
          ordering: "size",
          createdAfter: "yesterday",
          simulation: "team/lab",
          limt: "5",
        } as unknown as CheckpointQueryInput);
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error("expected a ValidationError");
    })();
    expect(Object.fromEntries(error.details.map((d) => [d.path, d.message]))).toEqual({
      "state.0": expect.stringContaining('expected one of "PENDING"|"COMPLETE"|"FAILED"|"DELETED"'),
      favorite: "must be true or false",
      limit: "must be an integer from 1 to 1000",
      ordering: expect.stringContaining('"size" is not an ordering'),
      createdAfter: "must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z",
      simulation: 'must not contain "/"',
      limt: "is not a query parameter of this listing",
    });
  });

  it.each(["1001", "abc", "-1", "2.5"])("refuses limit=%s", (limit) => {
    expect(validationPaths(() => query({ limit }))).toEqual(["limit"]);
  });

  it("refuses ordering by the same field twice", () => {
    expect(validationPaths(() => query({ ordering: "name,-name" }))).toEqual(["ordering"]);
  });
});
