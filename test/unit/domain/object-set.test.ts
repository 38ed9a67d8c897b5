import { describe, expect, it } from "vitest";
import {
  isSafeRelativeKey,
  membership,
  objectSetArchiveKey,
  objectSetArchivePrefix,
  objectSetManifestKey,
  objectSetSource,
  restoreTargetRefusal,
  targetPrefixOf,
} from "../../../lib/domain/object-set.ts";
import {
  ObjectSetManifestSchema,
  type ObjectSetManifest,
} from "../../../lib/domain/object-set-manifest.ts";
import { FILES_BUCKET, fileOwnership } from "../../support/files-world.ts";

const owned = fileOwnership();
const set = (key: string, bucket = FILES_BUCKET) => objectSetSource({ bucket, key }, owned);

describe("objectSetSource", () => {
  it("accepts exactly one checkpoint of a source, with the source it belongs to", () => {
    expect(set("runs/exp7/checkpoint-1200/")).toMatchObject({ source: { prefix: "runs" } });
    expect(set("ray/exp/checkpoint_2026-12-01_10-00-00.000001/")).toMatchObject({
      source: { prefix: "ray" },
    });
    expect(set("lightning/v0/epoch=3-step=1200.ckpt")).toMatchObject({
      source: { prefix: "lightning", commit: { kind: "atomic" } },
    });
  });

  it.each([
    ["runs/exp7/", "a whole run: every checkpoint of it"],
    ["runs/", "the whole source"],
    ["runs/exp7/checkpoint-12", "a directory without its /, which also lists checkpoint-120/"],
    ["runs/exp7/checkpoint-1200/model.safetensors", "one object inside a checkpoint"],
    ["runs/exp7/tmp-checkpoint-1200/", "a temporary directory the tool still writes"],
    ["runs/../checkpoint-1/", "a .. segment"],
    ["runs/exp7//checkpoint-1/", "an empty segment"],
    ["lightning/v0/epoch=3-step=1200.ckpt.bak", "an object the layout does not name"],
  ])("refuses %s (%s)", (key) => {
    expect(set(key)).toEqual({ refusal: expect.stringContaining("not one checkpoint") });
  });

  it("refuses sets outside the sources and the bucket", () => {
    expect(set("other/exp7/checkpoint-1/")).toEqual({
      refusal: expect.stringContaining("outside the files sources"),
    });
    expect(set("runsx/exp7/checkpoint-1/")).toEqual({
      refusal: expect.stringContaining("outside the files sources"),
    });
    expect(set("runs/exp7/checkpoint-1/", "elsewhere")).toEqual({
      refusal: expect.stringContaining("outside the files bucket"),
    });
  });
});

describe("membership", () => {
  const dir = "runs/exp7/checkpoint-12/";

  it("gives the key relative to a directory set, its placeholder included", () => {
    expect(membership(dir, `${dir}model.bin`)).toEqual({
      kind: "member",
      relativeKey: "model.bin",
    });
    expect(membership(dir, `${dir}state/0/`)).toEqual({ kind: "member", relativeKey: "state/0/" });
    expect(membership(dir, dir)).toEqual({ kind: "member", relativeKey: "" });
    expect(membership(dir, "runs/exp7/checkpoint-120/model.bin")).toBeUndefined();
  });

  it("leaves keys with empty, . or .. segments alone", () => {
    for (const rest of ["../x", "a/./b", "a//b", "./"]) {
      expect(membership(dir, dir + rest)).toMatchObject({ kind: "left-alone" });
    }
  });

  it("names a single-object set's member by its file name, and nothing else", () => {
    const key = "lightning/v0/epoch=3-step=1200.ckpt";
    expect(membership(key, key)).toEqual({
      kind: "member",
      relativeKey: "epoch=3-step=1200.ckpt",
    });
    expect(membership(key, `${key}.bak`)).toBeUndefined();
  });

  it("agrees with isSafeRelativeKey", () => {
    for (const key of ["", "a", "a/b", "a/", "a/b/"]) expect(isSafeRelativeKey(key)).toBe(true);
    for (const key of ["/a", "a//b", "..", "a/../b", "./a", "a/./"]) {
      expect(isSafeRelativeKey(key)).toBe(false);
    }
  });
});

describe("archive keys", () => {
  const runs = { prefix: "runs" };

  it("puts a set under files/<source>/<checkpoint path>/<id>/ with the manifest beside it", () => {
    const prefix = objectSetArchivePrefix(runs, "runs/exp7/checkpoint-1200/", "c-1");
    expect(prefix).toBe("files/runs/exp7/checkpoint-1200/c-1/");
    expect(objectSetArchiveKey(prefix, "shards/a.bin")).toBe(
      "files/runs/exp7/checkpoint-1200/c-1/shards/a.bin",
    );
    expect(objectSetManifestKey(prefix)).toBe("files/runs/exp7/checkpoint-1200/c-1.manifest.json");
    expect(objectSetArchivePrefix({ prefix: "lightning" }, "lightning/v0/e=1.ckpt", "c-2")).toBe(
      "files/lightning/v0/e=1.ckpt/c-2/",
    );
  });

  it("spells placeholders and odd segments so that no two relative keys share an archive key", () => {
    const prefix = "files/runs/x/c-1/";
    const keys = ["", "a/", "a/!empty", "!empty", "a!", "a!!", "!dot"];
    const archived = keys.map((key) => objectSetArchiveKey(prefix, key));
    expect(new Set(archived).size).toBe(keys.length);
    expect(archived.slice(0, 2)).toEqual([`${prefix}!empty`, `${prefix}a/!empty`]);
    expect(archived.every((key) => !key.endsWith("/"))).toBe(true);
  });
});

describe("restore targets", () => {
  const target = (prefix: string, bucket = FILES_BUCKET) =>
    restoreTargetRefusal({ bucket, prefix }, owned);

  it("normalizes a target to one trailing /, and has no root", () => {
    expect(targetPrefixOf("/runs/restored/")).toBe("runs/restored/");
    expect(targetPrefixOf("runs/restored")).toBe("runs/restored/");
    expect(targetPrefixOf("//")).toBeUndefined();
  });

  it("accepts prefixes strictly inside a source, a checkpoint's own prefix included", () => {
    expect(target("runs/restored/")).toBeUndefined();
    expect(target("runs/exp7/checkpoint-1200/")).toBeUndefined();
    expect(target("lightning/v0/")).toBeUndefined();
  });

  it("refuses the source itself, outside it, inside a checkpoint and odd segments", () => {
    expect(target("runs/")).toMatch(/not strictly inside a files source/);
    expect(target("elsewhere/x/")).toMatch(/not strictly inside a files source/);
    expect(target("runs/x/", "other")).toMatch(/outside the files bucket/);
    expect(target("runs/exp7/checkpoint-1200/sub/")).toMatch(
      /inside the checkpoint s3:\/\/training\/runs\/exp7\/checkpoint-1200\//,
    );
    expect(target("runs/../x/")).toMatch(/segments/);
    expect(target("runs/x")).toMatch(/segments/);
  });
});

describe("ObjectSetManifestSchema", () => {
  const checksum = { algorithm: "SHA256", value: "abc=", verification: "sha256-stream" } as const;
  const manifest: ObjectSetManifest = {
    manifestVersion: "1",
    kind: "object-set",
    simsnapVersion: "0.1.0",
    checkpointId: "c-1",
    source: {
      bucket: FILES_BUCKET,
      prefix: "runs",
      key: "runs/exp7/checkpoint-1200/",
      layout: "directory",
      marker: "trainer_state.json",
    },
    archive: {
      bucket: "archive",
      prefix: "files/runs/exp7/checkpoint-1200/c-1/",
      storageClass: "STANDARD_IA",
    },
    objects: [
      { key: "model.safetensors", size: 10, checksum },
      { key: "trainer_state.json", size: 5, checksum },
    ],
    totals: { objects: 2, bytes: 15 },
    times: {
      checkpointCreatedAt: "2026-12-01T10:00:00.000Z",
      archivedAt: "2026-12-01T11:00:00.000Z",
    },
  };
  const issues = (value: unknown) =>
    ObjectSetManifestSchema.safeParse(value).error?.issues.map((i) => i.message) ?? [];

  it("accepts a consistent manifest", () => {
    expect(ObjectSetManifestSchema.parse(manifest)).toEqual(manifest);
  });

  it("refuses keys that would leave the target, duplicates and wrong totals", () => {
    const entry = { key: "../escape", size: 0, checksum };
    expect(issues({ ...manifest, objects: [...manifest.objects, entry] })).toEqual(
      expect.arrayContaining([expect.stringMatching(/relative key/)]),
    );
    expect(issues({ ...manifest, objects: [...manifest.objects, manifest.objects[0]] })).toEqual(
      expect.arrayContaining([expect.stringMatching(/appears twice/)]),
    );
    expect(issues({ ...manifest, totals: { objects: 2, bytes: 16 } })).toEqual([
      "must be 2 objects and 15 bytes, as listed",
    ]);
  });

  it("checks the source: key inside the prefix, layout, marker among the objects", () => {
    expect(issues({ ...manifest, source: { ...manifest.source, key: "other/x/" } })).toEqual([
      "must lie strictly inside the source prefix runs/",
    ]);
    expect(issues({ ...manifest, source: { ...manifest.source, marker: "_SUCCESS" } })).toEqual([
      "_SUCCESS is not among the objects",
    ]);
    const single = {
      ...manifest,
      source: {
        bucket: FILES_BUCKET,
        prefix: "lightning",
        key: "lightning/v0/a.ckpt",
        layout: "object",
      },
      objects: [{ key: "b.ckpt", size: 1, checksum }],
      totals: { objects: 1, bytes: 1 },
    };
    expect(issues(single)).toEqual(["a single-object set holds exactly its file a.ckpt"]);
  });
});
