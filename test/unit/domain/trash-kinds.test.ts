import { describe, expect, it } from "vitest";
import { keySegment, segmentOfSpelling } from "../../../lib/domain/s3-key.ts";
import {
  purgeCheckpoint,
  purgeDue,
  platformPurged,
  relativeKeyOfTrashKey,
  setTrashFolder,
  setTrashKey,
  trashedCheckpointId,
  trashFolders,
  trashHeldCheckpoint,
  trashHolds,
  undeleteCheckpoint,
  undeleteRefusal,
} from "../../../lib/domain/trash.ts";
import { checkpoint } from "../../support/checkpoint-factory.ts";

const OWNED = { bucket: "snapshots", prefixes: ["team/simsnap/", "adopted"] };
const DAY = 86_400_000;

describe("the trash of a set of objects", () => {
  it("lives under the destination prefix, in a folder of the checkpoint id and record version", () => {
    expect(setTrashFolder({ id: "c1", version: 3 }, OWNED)).toEqual({
      bucket: "snapshots",
      key: "team/simsnap/trash/c1/v3/",
    });
  });

  it("spells every relative key so it reads back the same, placeholders and ! included", () => {
    const folder = "team/simsnap/trash/c1/v3/";
    for (const relativeKey of ["", "model.bin", "shards/part-1.bin", "sub/", "a!b/c", "!empty"]) {
      const key = setTrashKey(folder, relativeKey);
      expect(key.startsWith(folder)).toBe(true);
      expect(key.slice(folder.length).split("/")).not.toContain("");
      expect(relativeKeyOfTrashKey(folder, key), relativeKey).toBe(relativeKey);
    }
    expect(relativeKeyOfTrashKey(folder, "team/simsnap/trash/c2/v1/x")).toBeUndefined();
    for (const segment of ["", ".", "..", "a!b", "!!", "plain"]) {
      expect(segmentOfSpelling(keySegment(segment))).toBe(segment);
    }
  });

  it("is traced to its checkpoint, and kept while the record names its folder", () => {
    const folders = trashFolders(OWNED);
    const key = setTrashKey("team/simsnap/trash/c1/v3/", "shards/part-1.bin");
    expect(trashedCheckpointId(key, folders)).toBe("c1");
    expect(trashedCheckpointId("team/simsnap/trash/c1/v3/", folders)).toBeUndefined();
    const folder = setTrashFolder({ id: "c1", version: 3 }, OWNED);
    expect(trashHolds(folder, "snapshots", key)).toBe(true);
    expect(trashHolds(folder, "snapshots", "team/simsnap/trash/c1/v4/x")).toBe(false);
    const file = { bucket: "snapshots", key: "team/simsnap/trash/c2/v1/f.zip" };
    expect(trashHolds(file, "snapshots", file.key)).toBe(true);
    expect(trashHolds(file, "snapshots", `${file.key}.bak`)).toBe(false);
  });
});

describe("the trash of a checkpoint its platform holds", () => {
  const now = new Date("2026-12-01T10:00:00Z");
  const held = checkpoint({ id: "a1", provider: "air", platformId: "p-1", location: undefined });
  const trashed = trashHeldCheckpoint(held, new Date(now.getTime() + 7 * DAY), now);

  it("is DELETED, marked, and undeletable until purgeAfter, when the purge is due", () => {
    expect(trashed).toMatchObject({ state: "DELETED", trashOnPlatform: true });
    expect(undeleteRefusal(trashed, now)).toBeUndefined();
    expect(purgeDue(trashed, now)).toBe(false);
    const later = new Date(now.getTime() + 7 * DAY);
    expect(purgeDue(trashed, later)).toBe(true);
    expect(undeleteRefusal(trashed, later)).toMatch(/past its purgeAfter/);
    const back = undeleteCheckpoint(trashed, undefined, now);
    expect(back).toMatchObject({ state: "COMPLETE", favorite: true, size: held.size });
    expect(back.trashOnPlatform).toBeUndefined();
  });

  it("stays due after the purge's first write until its platform confirms the delete", () => {
    const later = new Date(now.getTime() + 8 * DAY);
    const purged = purgeCheckpoint(trashed, later);
    expect(purged).toMatchObject({ purgedAt: later.toISOString(), trashOnPlatform: true });
    expect(undeleteRefusal(purged, later)).toMatch(/was purged at/);
    expect(purgeDue(purged, later)).toBe(true);
    // A second purge write keeps the first purgedAt.
    expect(purgeCheckpoint(purged, new Date(later.getTime() + DAY)).purgedAt).toBe(
      later.toISOString(),
    );
    const done = platformPurged(purged, later);
    expect(done.trashOnPlatform).toBeUndefined();
    expect(purgeDue(done, later)).toBe(false);
  });
});
