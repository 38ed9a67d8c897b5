import { describe, expect, it } from "vitest";
import { listSimulations } from "../../../../lib/usecases/catalog/list-simulations.ts";
import { checkpoint, minutesIn } from "../../../support/checkpoint-factory.ts";
import { apiWorld } from "../../../support/api-world.ts";

describe("listSimulations", () => {
  it("shows every simulation the provider lists or the catalog knows, with counts by state", async () => {
    const world = apiWorld({ "sim-a": "STARTED", "sim-new": "STARTING" });
    for (const record of [
      checkpoint({ simulation: "sim-a", createdAt: minutesIn(5) }),
      checkpoint({ simulation: "sim-a", createdAt: minutesIn(9), state: "DELETED" }),
      checkpoint({ simulation: "sim-a", createdAt: minutesIn(7) }),
      checkpoint({ simulation: "sim-a", createdAt: minutesIn(8), state: "FAILED" }),
      checkpoint({ simulation: "sim-gone", createdAt: minutesIn(1), state: "PENDING" }),
    ]) {
      await world.checkpoints.create(record);
    }

    expect(await listSimulations(world)).toEqual([
      {
        name: "sim-a",
        status: "STARTED",
        provider: "fake",
        lastCheckpointAt: minutesIn(7),
        checkpoints: { PENDING: 0, COMPLETE: 2, FAILED: 1, DELETED: 1 },
      },
      {
        name: "sim-gone",
        status: "UNKNOWN",
        provider: "fake",
        checkpoints: { PENDING: 1, COMPLETE: 0, FAILED: 0, DELETED: 0 },
      },
      {
        name: "sim-new",
        status: "STARTING",
        provider: "fake",
        checkpoints: { PENDING: 0, COMPLETE: 0, FAILED: 0, DELETED: 0 },
      },
    ]);
  });
});

describe("listSimulations with the schedules' staleness thresholds", () => {
  const now = new Date(Date.parse(minutesIn(0)) + 3 * 3_600_000);
  const clock = { now: () => now };
  const watches = [
    { schedule: "hourly", lateAfterSeconds: 7200, selector: { names: ["ocean-*"] } },
    { schedule: "tagged", lateAfterSeconds: 600, selector: { tags: { team: "oceans" } } },
  ];

  it("says late past twice the strictest selecting schedule's interval, fresh before", async () => {
    const world = apiWorld({ "ocean-a": "STARTED", "ocean-b": "STARTED", "city-c": "STARTED" });
    // ocean-a: completed 3 h ago; ocean-b: a DELETED one 1 h ago counts, as the alarm counts it.
    await world.checkpoints.create(checkpoint({ simulation: "ocean-a", createdAt: minutesIn(0) }));
    await world.checkpoints.create(
      checkpoint({ simulation: "ocean-b", createdAt: minutesIn(120), state: "DELETED" }),
    );
    const listed = await listSimulations({ ...world, freshness: { watches, clock } });
    const freshness = Object.fromEntries(listed.map((s) => [s.name, s.freshness]));
    expect(freshness["ocean-a"]).toEqual({
      ageSeconds: 10_800,
      schedule: "hourly",
      lateAfterSeconds: 7200,
      late: true,
      undecided: ["tagged"],
    });
    expect(freshness["ocean-b"]).toMatchObject({ ageSeconds: 3600, late: false });
    // Selected by no name: only the tag selector might pick it, which the API cannot tell.
    expect(freshness["city-c"]).toEqual({ ageSeconds: 0, undecided: ["tagged"] });
  });

  it("says nothing of late for a simulation that does not run, as no schedule snapshots it", async () => {
    const world = apiWorld({ "ocean-a": "STOPPED" });
    await world.checkpoints.create(checkpoint({ simulation: "ocean-a", createdAt: minutesIn(0) }));
    const [listed] = await listSimulations({ ...world, freshness: { watches, clock } });
    expect(listed?.freshness).toEqual({ ageSeconds: 10_800 });
  });
});
