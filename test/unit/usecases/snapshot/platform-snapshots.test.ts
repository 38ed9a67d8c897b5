import { describe, expect, it } from "vitest";
import { ConflictError } from "../../../../lib/domain/errors.ts";
import type { ProviderName } from "../../../../lib/domain/providers.ts";
import { planSnapshots } from "../../../../lib/usecases/snapshot/plan-snapshots.ts";
import { requestSnapshot } from "../../../../lib/usecases/snapshot/request-snapshot.ts";
import { platformWorld } from "../../../support/platform-world.ts";

const tick = { schedule: "hourly", scheduledTime: "2026-12-01T10:00:00Z" };

describe("snapshots of a platform that checkpoints only while stopping", () => {
  it("are not planned by a schedule: its running simulations are reported as skipped", async () => {
    const world = platformWorld({ "air-sim": "STARTED", "air-off": "STOPPED" });

    const result = await planSnapshots(tick, world);

    expect(result).toEqual({
      requested: ["sim-a"],
      cycled: [],
      skipped: [
        {
          simulation: "air-sim",
          provider: "platform",
          reason: expect.stringContaining("cannot snapshot a running simulation"),
        },
      ],
    });
    expect(world.requests.sent.map((s) => s.message.simulation)).toEqual(["sim-a"]);
    // The default action never stops a simulation to checkpoint it.
    expect(world.stops.sent).toEqual([]);
    expect(world.platform.calls).toEqual([]);
  });

  it("picks nothing there by tags, which its simulations do not have", async () => {
    const world = platformWorld();

    const result = await planSnapshots({ ...tick, selector: { tags: { team: "x" } } }, world);

    // Only the other provider's sim-a had its tags read (and they do not match either).
    expect(result).toEqual({
      requested: [],
      cycled: [],
      skipped: [],
      tags: { read: 1, cached: 0, unread: 0, budget: 4000 },
    });
    expect(world.platform.calls).toEqual([]);
  });

  it("are left out, unlisted, by a selector naming other providers", async () => {
    const world = platformWorld({ "air-sim": "STARTED" });

    // The fakes are named "fake" (running snapshots) and "platform" (checkpoints on stop).
    const providers = ["fake" as ProviderName];
    const result = await planSnapshots({ ...tick, selector: { providers } }, world);

    expect(result).toEqual({ requested: ["sim-a"], cycled: [], skipped: [] });
    expect(world.platform.calls).toEqual([]);
  });

  it("are refused when asked for, pointing at the stop with a snapshot", async () => {
    const world = platformWorld();

    const refused = requestSnapshot({ simulation: "air-sim" }, world);
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toThrow("POST /simulations/air-sim/stop");
    expect(world.requests.sent).toEqual([]);
    expect(await requestSnapshot({ simulation: "sim-a" }, world)).toMatchObject({
      kind: "snapshot",
    });
  });
});
