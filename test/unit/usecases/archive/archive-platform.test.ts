import { describe, expect, it } from "vitest";
import { archiveCheckpoint } from "../../../../lib/usecases/archive/archive-checkpoint.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { syncPlatformCheckpoints } from "../../../../lib/usecases/sync/sync-platform-checkpoints.ts";
import { archiveWorld } from "../../../support/archive-world.ts";
import { FakePlatformProvider } from "../../../support/fake-platform-provider.ts";
import { MemoryJobStore } from "../../../support/memory.ts";

describe("archiveCheckpoint, for a checkpoint a platform holds", () => {
  it("skips it with the reason when the platform offers no bytes, and copies nothing", async () => {
    const base = archiveWorld();
    const platform = new FakePlatformProvider(base.clock, { "air-sim": "STOPPED" });
    const world = { ...base, providers: directoryOf([platform]) };
    platform.seed("air-sim");
    const { created } = await syncPlatformCheckpoints("air-sim", {
      ...world,
      jobs: new MemoryJobStore(),
      provider: platform,
    });
    const checkpointId = created[0]!;

    const result = await archiveCheckpoint({ checkpointId }, world);

    expect(result).toEqual({
      outcome: "skipped",
      checkpointId,
      reason:
        "checkpoint is held by platform, whose API offers no checkpoint bytes (archivable: false): it cannot be archived, it stays on platform only",
    });
    expect((await world.checkpoints.get(checkpointId))?.archive).toBeUndefined();
    const archived = [];
    for await (const object of world.storage.list("archive", "")) archived.push(object);
    expect(archived).toEqual([]);
  });
});
