import { describe, expect, it } from "vitest";
import { describeCheckpoint } from "../../../cli/commands/checkpoints.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";

describe("simsnap checkpoints show, for a deleted checkpoint", () => {
  it("shows where its file waits in the trash and until when it can be undeleted", () => {
    const lines = describeCheckpoint({
      ...checkpoint({ id: "c1" }),
      state: "DELETED",
      trash: { bucket: "snapshots", key: "simsnap/trash/c1/v1/ocean-261201-1000-00.zip" },
      purgeAfter: "2026-12-08T10:00:00.000Z",
    });
    expect(lines.find((l) => l.startsWith("trash:"))).toMatch(
      /^trash:\s+s3:\/\/snapshots\/simsnap\/trash\/c1\/v1\/ocean-261201-1000-00\.zip until 2026-12-08 10:00:00.* \(undelete to keep it\)$/,
    );
    expect(lines.some((l) => l.startsWith("purged:"))).toBe(false);
  });

  it("shows a checkpoint its platform keeps in the trash, and until when", () => {
    const lines = describeCheckpoint({
      ...checkpoint({ id: "a1", provider: "air", platformId: "p-1", location: undefined }),
      state: "DELETED",
      trashOnPlatform: true,
      purgeAfter: "2026-12-08T10:00:00.000Z",
    });
    expect(lines.find((l) => l.startsWith("trash:"))).toMatch(
      /^trash:\s+kept on air until 2026-12-08 10:00:00.* \(undelete to keep it\)$/,
    );
  });

  it("shows when a purge made its deletion final, and no trash line", () => {
    const lines = describeCheckpoint({
      ...checkpoint(),
      state: "DELETED",
      purgeAfter: "2026-12-08T10:00:00.000Z",
      purgedAt: "2026-12-08T10:05:00.000Z",
    });
    expect(lines.find((l) => l.startsWith("purged:"))).toMatch(/^purged:\s+2026-12-08 10:05:00/);
    expect(lines.some((l) => l.startsWith("trash:"))).toBe(false);
  });
});
