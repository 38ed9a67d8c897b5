import { describe, expect, it } from "vitest";
import { throwawayName } from "../../../../lib/domain/verification.ts";
import {
  syncAllPlatformCheckpoints,
  syncPlatformCheckpoints,
} from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { platformWorld } from "../../../support/platform-world.ts";

describe("a restore test's throwaway clone and the checkpoint mirror", () => {
  it("is never mirrored: the copy the platform made when cloning stays out of the catalog", async () => {
    const clone = throwawayName("verify-job");
    const world = platformWorld({ "air-sim": "STOPPED", [clone]: "STARTED" });
    world.platform.seed("air-sim");
    world.platform.seed(clone);

    const all = await syncAllPlatformCheckpoints(world);
    expect(all.map((r) => r.simulation)).toEqual(["air-sim"]);

    const named = await syncPlatformCheckpoints(clone, { ...world, provider: world.platform });
    expect(named).toMatchObject({ simulation: clone, listed: [], created: [] });
    expect(await world.checkpoints.listSimulations()).toEqual(["air-sim"]);
  });
});
