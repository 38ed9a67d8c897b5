import { describe, expect, it } from "vitest";
import { turnedOffSimSpaceWeaver } from "../../../../lib/adapters/simspaceweaver/turned-off.ts";
import { ConflictError } from "../../../../lib/domain/errors.ts";
import { directoryOf } from "../../../../lib/ports/simulation-provider.ts";
import { restoreCheckpoint } from "../../../../lib/usecases/restore/restore-checkpoint.ts";
import { MemoryQueue } from "../../../support/memory.ts";
import { archiveWorld, completedCheckpoint } from "../../../support/archive-world.ts";

describe("a restore of a SimSpace Weaver checkpoint with SimSpace Weaver turned off", () => {
  it("is refused at once, naming the switch, with no job and no step", async () => {
    const world = {
      ...archiveWorld(),
      providers: directoryOf([turnedOffSimSpaceWeaver]),
      restoreSteps: new MemoryQueue(),
      // No role either: the refusal names the switch, not a missing role it would not use.
      restore: {
        snapshotBucket: "snapshots",
        snapshotPrefix: "simsnap",
        checksumAlgorithm: "CRC64NVME" as const,
        deadlineSeconds: 3600,
        firstCheckSeconds: 10,
        maxCheckSeconds: 60,
        thaw: { days: 1, tier: "Standard" as const },
      },
    };
    await completedCheckpoint(world, { provider: "simspaceweaver" });

    const restoring = restoreCheckpoint({ checkpointId: "c-1", clientToken: "t-1" }, world);

    await expect(restoring).rejects.toBeInstanceOf(ConflictError);
    await expect(restoring).rejects.toThrow(
      /^Checkpoint c-1 cannot be restored: SimSpace Weaver is turned off in this deployment \(config providers\.simspaceweaver\.enabled/,
    );
    expect((await world.jobs.listAll()).items).toEqual([]);
    expect(world.restoreSteps.sent).toEqual([]);
  });
});
