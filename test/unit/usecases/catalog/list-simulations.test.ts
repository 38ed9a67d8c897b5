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
