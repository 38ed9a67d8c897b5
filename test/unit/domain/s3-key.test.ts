import { describe, expect, it } from "vitest";
import { archiveKey, manifestKey } from "../../../lib/domain/archive.ts";
import { ValidationError } from "../../../lib/domain/errors.ts";
import { hasDotSegment, keySegment, prefixSegments, s3Key } from "../../../lib/domain/s3-key.ts";

describe("s3Key", () => {
  it("leaves ordinary names as they are, dots inside a name included", () => {
    expect(s3Key("simsnap", "reports", "prune", "a..b", "2026-11-23T10-00-00-000Z.json")).toBe(
      "simsnap/reports/prune/a..b/2026-11-23T10-00-00-000Z.json",
    );
    expect(s3Key("...", ".hidden", "v1.2", "a.")).toBe(".../.hidden/v1.2/a.");
  });

  it("spells ., .. and empty segments so that no segment is a path step", () => {
    expect(s3Key(".", "..", "")).toBe("!dot/!dotdot/!empty");
    expect(s3Key("", "x")).toBe("!empty/x");
    for (const key of [s3Key("."), s3Key(".."), s3Key("", ""), s3Key("..", "..", "x")]) {
      expect(key.startsWith("/"), key).toBe(false);
      expect(hasDotSegment(key), key).toBe(false);
      expect(key.split("/"), key).not.toContain("");
    }
  });

  it("never gives two different segments one spelling", () => {
    const segments = ["", ".", "..", "!", "!!", "!dot", "!dotdot", "!empty", "dot", "a!b", "a..b"];
    const spelt = segments.map(keySegment);
    expect(new Set(spelt).size).toBe(segments.length);
    expect(keySegment("!dot")).toBe("!!dot");
  });

  it("refuses a segment holding a / (a leading / included) and a key of no segments", () => {
    for (const bad of ["/x", "a/b", "x/"]) {
      expect(() => keySegment(bad), bad).toThrow(ValidationError);
      expect(() => s3Key("simsnap", bad), bad).toThrow(/must not contain "\/"/);
    }
    expect(() => s3Key()).toThrow(ValidationError);
  });

  it("splits configured prefixes into segments, whatever their slashes", () => {
    expect(prefixSegments("a/b")).toEqual(["a", "b"]);
    expect(prefixSegments("/a//b/")).toEqual(["a", "b"]);
    expect(prefixSegments("")).toEqual([]);
  });

  it("finds . and .. segments in a path", () => {
    expect(hasDotSegment("a/../b")).toBe(true);
    expect(hasDotSegment(".")).toBe(true);
    expect(hasDotSegment("a/..b/c.")).toBe(false);
  });
});

describe("archive keys", () => {
  const createdAt = "2026-11-23T10:00:10Z";

  it.each([
    [".", "!dot/2026/11/.-261123-1000-10.zip"],
    ["..", "!dotdot/2026/11/..-261123-1000-10.zip"],
    ["a..b", "a..b/2026/11/a..b-261123-1000-10.zip"],
  ])("keeps the archive of a simulation named %j inside its own folder", (simulation, key) => {
    const archived = archiveKey({ simulation, createdAt }, `${simulation}-261123-1000-10.zip`);
    expect(archived).toBe(key);
    expect(hasDotSegment(archived)).toBe(false);
    expect(hasDotSegment(manifestKey(archived))).toBe(false);
  });

  it("spells a file name that is a path step safely too", () => {
    expect(archiveKey({ simulation: "s", createdAt }, "..")).toBe("s/2026/11/!dotdot");
  });
});
