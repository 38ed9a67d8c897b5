import { describe, expect, it } from "vitest";
import type { BusEvent } from "../../../lib/local/event-bus.ts";
import { describeEvent } from "../../../lib/local/console-lines.ts";

const restoreEvent = (detailType: string, detail: Record<string, unknown>): BusEvent =>
  ({ source: "simsnap", "detail-type": detailType, detail }) as unknown as BusEvent;

describe("describeEvent of a files checkpoint's restore", () => {
  it("names the prefix it is copied under, then the URI it matches its manifest at", () => {
    const common = { simulation: "bert-demo", target: "bert-demo", into: "prefix" };
    expect(
      describeEvent(
        restoreEvent("Restore Requested", { ...common, prefix: "runs/restored/ckpt-1200/" }),
      ),
    ).toBe("↺ restore requested    bert-demo        → runs/restored/ckpt-1200/");
    expect(
      describeEvent(
        restoreEvent("Checkpoint Restored", {
          ...common,
          from: "archive",
          uri: "s3://training/runs/restored/ckpt-1200/",
        }),
      ),
    ).toBe(
      "↺ checkpoint restored  bert-demo        → s3://training/runs/restored/ckpt-1200/ from its archive (matches its manifest)",
    );
  });
});

describe("describeEvent of the trash", () => {
  it("says what went to the trash and until when, what came back, and what was purged", () => {
    const checkpoint = {
      simulation: "ocean-currents",
      location: { key: "simsnap/snapshot/ocean-currents-261201-1000-00.zip" },
    };
    expect(
      describeEvent(
        restoreEvent("Checkpoints Pruned", {
          simulation: "ocean-currents",
          removedCount: 2,
          kept: [{}, {}],
          trashedCount: 2,
          purgeAfter: "2026-12-08T10:00:00.000Z",
        }),
      ),
    ).toBe(
      "✂ checkpoints pruned  ocean-currents   removed 2 (2 in the trash until 2026-12-08T10:00:00.000Z), kept 2",
    );
    expect(
      describeEvent(
        restoreEvent("Checkpoint Deleted", {
          checkpoint: { ...checkpoint, purgeAfter: "2026-12-08T10:00:00.000Z" },
        }),
      ),
    ).toBe(
      "✂ checkpoint deleted   ocean-currents   simsnap/snapshot/ocean-currents-261201-1000-00.zip (by request, in the trash until 2026-12-08T10:00:00.000Z)",
    );
    expect(describeEvent(restoreEvent("Checkpoint Undeleted", { checkpoint }))).toBe(
      "↶ checkpoint undeleted ocean-currents   simsnap/snapshot/ocean-currents-261201-1000-00.zip (COMPLETE again, back from the trash)",
    );
    const held = {
      simulation: "air-lab",
      provider: "air",
      platformId: "0f1e2d3c-aaaa",
      name: "monday",
    };
    expect(describeEvent(restoreEvent("Checkpoint Undeleted", { checkpoint: held }))).toBe(
      '↶ checkpoint undeleted air-lab          air checkpoint 0f1e2d3c "monday" (COMPLETE again, back from the trash)',
    );
    expect(describeEvent(restoreEvent("Checkpoints Purged", { purgedCount: 3, orphans: 1 }))).toBe(
      "✂ trash purged         3 deletions final, 1 orphan copies removed",
    );
  });
});
