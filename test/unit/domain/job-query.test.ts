import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { JobQuerySchema, queryJobs } from "../../../lib/domain/job-query.ts";
import { parseInput } from "../../../lib/domain/validation.ts";
import { job, minutesIn } from "../../support/checkpoint-factory.ts";

const query = (input: Record<string, string> = {}) =>
  parseInput(JobQuerySchema, input, "query string");

const jobs = [
  job({ id: "j1", startTime: minutesIn(1), status: "SUCCEEDED" }),
  job({ id: "j2", startTime: minutesIn(2), kind: "prune", status: "FAILED" }),
  job({ id: "j3", startTime: minutesIn(3), simulation: "sim-b" }),
  job({ id: "j4", startTime: minutesIn(4), kind: "stop", simulation: "sim-b" }),
];

describe("queryJobs", () => {
  it.each<[Record<string, string>, string[]]>([
    [{}, ["j4", "j3", "j2", "j1"]],
    [{ simulation: "sim-b" }, ["j4", "j3"]],
    [{ kind: "prune,stop" }, ["j4", "j2"]],
    [{ status: "RUNNING" }, ["j4", "j3"]],
    [{ simulation: "sim-a", status: "SUCCEEDED,FAILED", kind: "snapshot" }, ["j1"]],
  ])("filters %j, newest first", (input, expected) => {
    expect(queryJobs(jobs, query(input)).items.map((j) => j.id)).toEqual(expected);
  });

  it("pages with a cursor bound to the filters", () => {
    const first = queryJobs(jobs, query({ limit: "3" }));
    expect(first.items.map((j) => j.id)).toEqual(["j4", "j3", "j2"]);
    const rest = queryJobs(jobs, query({ limit: "3", cursor: first.nextCursor as string }));
    expect(rest).toEqual({ items: [jobs[0]] });
    expect(() =>
      queryJobs(jobs, query({ status: "RUNNING", cursor: first.nextCursor as string })),
    ).toThrow(ValidationError);
  });

  it("names unknown parameters and bad values", () => {
    try {
      query({ kind: "backup", state: "RUNNING" });
      throw new Error("expected a ValidationError");
    } catch (error) {
      expect((error as ValidationError).details.map((d) => d.path)).toEqual(["kind.0", "state"]);
    }
  });
});
