import { describe, expect, it } from "vitest";
import {
  objectSetArchivePrefix,
  objectSetArchivePrefixOf,
  objectSetManifestKey,
} from "../../../lib/domain/object-set.ts";

describe("objectSetArchivePrefixOf", () => {
  it("gives back the folder of every manifest key objectSetManifestKey makes", () => {
    for (const [prefix, key, id] of [
      ["runs", "runs/exp7/checkpoint-1200/", "c-1"],
      ["jax/ckpts", "jax/ckpts/run/12/", "c-2"],
      ["lightning", "lightning/v0/epoch=3-step=1200.ckpt", "c-3"],
    ] as const) {
      const folder = objectSetArchivePrefix({ prefix }, key, id);
      expect(objectSetArchivePrefixOf(objectSetManifestKey(folder))).toBe(folder);
    }
  });

  it("refuses keys no set's manifest has, so archive retention never lists beyond one folder", () => {
    for (const key of [
      "ocean/2026/11/ocean-261123-1000-00.zip.manifest.json",
      "files/runs.manifest.json",
      "files/runs/c-1.manifest.json",
      "files//exp7/c-1.manifest.json",
      "files/runs/exp7/c-1.json",
    ]) {
      expect(objectSetArchivePrefixOf(key)).toBeUndefined();
    }
  });
});
