import { describe, expect, it } from "vitest";
import {
  fileCheckpointId,
  newFileCheckpoint,
  simulationOfCheckpoint,
} from "../../../lib/domain/file-discovery.ts";
import { CheckpointSchema } from "../../../lib/domain/checkpoint.ts";
import { sourceOf } from "../../support/files-world.ts";

const hf = sourceOf({ prefix: "runs", preset: "huggingface" });
const NOW = new Date("2026-12-01T12:00:00Z");

describe("file discovery records", () => {
  it("derives one id per bucket and checkpoint key", () => {
    expect(fileCheckpointId("b", "runs/a/checkpoint-1/")).toBe(
      fileCheckpointId("b", "runs/a/checkpoint-1/"),
    );
    expect(fileCheckpointId("b", "runs/a/checkpoint-1/")).not.toBe(
      fileCheckpointId("c", "runs/a/checkpoint-1/"),
    );
  });

  it("files under {run}, refusing a run that is no simulation name", () => {
    expect(simulationOfCheckpoint(hf, { run: "exp7", step: 1 })).toEqual({ simulation: "exp7" });
    expect(simulationOfCheckpoint(hf, { run: " exp7", step: 1 })).toEqual({
      refusal: expect.stringMatching(/white space/),
    });
    expect(simulationOfCheckpoint(hf, { run: "x".repeat(129) })).toEqual({
      refusal: expect.stringMatching(/1 to 128/),
    });
  });

  it("builds a valid PENDING record, its name cut from the front to the catalog's 256 characters", () => {
    const run = "🙂".repeat(200);
    const key = `runs/${run}/checkpoint-12/`;
    const record = newFileCheckpoint({
      bucket: "b",
      source: hf,
      checkpointKey: key,
      fields: { run, name: "trial-3", step: 12 },
      simulation: "s",
      firstWrite: new Date("2026-12-01T11:00:00Z"),
      now: NOW,
    });

    expect(CheckpointSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({ state: "PENDING", run: "trial-3", step: 12, version: 1 });
    expect(record.name.endsWith("/checkpoint-12")).toBe(true);
    expect(record.name.length).toBeLessThanOrEqual(256);
    expect(record.name.length).toBeGreaterThan(250);
    expect(record.name.codePointAt(0)).toBe(0x1f642);
    expect(record.createdAt).toBe("2026-12-01T11:00:00.000Z");
  });
});
