import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../../lib/domain/errors.ts";
import { JobQuerySchema } from "../../../../lib/domain/job-query.ts";
import { parseInput } from "../../../../lib/domain/validation.ts";
import { getJob, listJobs } from "../../../../lib/usecases/catalog/list-jobs.ts";
import { job, minutesIn } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

const query = (input: Record<string, string> = {}) =>
  parseInput(JobQuerySchema, input, "query string");

describe("listJobs", () => {
  it("lists one simulation's jobs or every job, newest first, filtered", async () => {
    const world = apiWorld();
    for (let i = 0; i < 1_010; i++) {
      await world.jobs.create(
        job({
          id: `j${String(i).padStart(4, "0")}`,
          simulation: i % 2 === 0 ? "sim-a" : "restored-1",
          kind: i % 2 === 0 ? "snapshot" : "restore",
          startTime: minutesIn(i),
        }),
      );
    }
    const all = await listJobs(query({ limit: "3" }), world);
    expect(all.items.map((j) => j.id)).toEqual(["j1009", "j1008", "j1007"]);
    const restores = await listJobs(query({ kind: "restore", limit: "1000" }), world);
    expect(restores.items).toHaveLength(505);
    const simA = await listJobs(query({ simulation: "sim-a", limit: "2" }), world);
    expect(simA.items.map((j) => j.id)).toEqual(["j1008", "j1006"]);
  });

  it("finds one job, and names a missing one", async () => {
    const world = apiWorld();
    await world.jobs.create(job({ id: "j1" }));
    expect((await getJob("j1", world)).id).toBe("j1");
    await expect(getJob("nope", world)).rejects.toThrow(NotFoundError);
  });
});
