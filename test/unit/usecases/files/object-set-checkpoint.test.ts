import { describe, expect, it } from "vitest";
import {
  isObjectSetCheckpoint,
  objectSetRefusal,
} from "../../../../lib/usecases/files/object-set-checkpoint.ts";
import { FILES_BUCKET, fileOwnership, filesProviders } from "../../../support/files-world.ts";

describe("isObjectSetCheckpoint", () => {
  const providers = filesProviders();

  it("asks the provider's capabilities: files keeps sets, a snapshot platform files", () => {
    expect(isObjectSetCheckpoint({ provider: "files" }, providers)).toBe(true);
    expect(isObjectSetCheckpoint({ provider: "fake" }, providers)).toBe(false);
  });

  it("takes a platform-held record, or one naming a provider this function does not list, for no set", () => {
    expect(isObjectSetCheckpoint({ provider: "files", platformId: "p-1" }, providers)).toBe(false);
    expect(isObjectSetCheckpoint({ provider: "retired-platform" }, providers)).toBe(false);
  });

  it("does not hide other failures of the directory", () => {
    const broken = {
      byName: () => {
        throw new Error("directory unavailable");
      },
    };
    expect(() => isObjectSetCheckpoint({ provider: "files" }, broken)).toThrow(
      "directory unavailable",
    );
  });
});

describe("objectSetRefusal", () => {
  it("accepts one whole checkpoint of a source, and names why it refuses anything else", () => {
    const at = (key: string) => ({ bucket: FILES_BUCKET, key });
    expect(objectSetRefusal(at("runs/exp7/checkpoint-1200/"), fileOwnership())).toBeUndefined();
    expect(objectSetRefusal(at("runs/exp7/"), fileOwnership())).toContain("whole checkpoints only");
    expect(objectSetRefusal(at("runs/exp7/checkpoint-1200/"), undefined)).toContain(
      "no files sources are configured",
    );
  });
});
