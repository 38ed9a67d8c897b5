import { describe, expect, it } from "vitest";
import { describeCheckpoint } from "../../../cli/commands/checkpoints.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";

describe("simsnap checkpoints show", () => {
  it("shows the latest restore test: its outcome, when, how long and why", () => {
    const lines = describeCheckpoint(
      checkpoint({
        verification: {
          status: "FAILED",
          at: "2026-12-01T04:02:40.000Z",
          durationMs: 160_000,
          detail: "resumed at tick 0, but its snapshot recorded tick 57",
          jobId: "job-1",
        },
      }),
    );
    expect(lines.find((l) => l.startsWith("verified:"))).toMatch(
      /^verified:\s+FAILED 2026-12-01 04:02:40.* in 160\.0 s: resumed at tick 0, but its snapshot recorded tick 57$/,
    );
  });

  it("shows no verification line for a checkpoint never tested", () => {
    expect(describeCheckpoint(checkpoint()).some((l) => l.startsWith("verified:"))).toBe(false);
  });
});
