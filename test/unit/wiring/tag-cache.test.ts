import { describe, expect, it } from "vitest";
import { tagCache } from "../../../lib/wiring/catalog.ts";

describe("tagCache", () => {
  it("is built only for a function that declares it keeps the cache, as IAM grants it", () => {
    expect(() => tagCache("take-snapshot")).toThrow(
      'take-snapshot uses the tag cache (catalog: "cache"), which its needs in lib/topology.ts do not declare',
    );
  });
});
