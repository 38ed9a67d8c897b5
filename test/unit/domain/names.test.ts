import { describe, expect, it } from "vitest";
import { deterministicId } from "../../../lib/domain/ids.ts";
import {
  nameWithSuffix,
  SIMULATION_NAME_MAX,
  SimSpaceWeaverNameSchema,
  SimulationNameSchema,
} from "../../../lib/domain/names.ts";
import { hasDotSegment, s3Key } from "../../../lib/domain/s3-key.ts";
import { parseInput } from "../../../lib/domain/validation.ts";

/** The longest name simsnap allows, in the most bytes per character UTF-8 has. */
const LONGEST = "🌊".repeat(SIMULATION_NAME_MAX);

const messagesFor = (name: string): string[] => {
  const result = SimulationNameSchema.safeParse(name);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
};

describe("simsnap's simulation name rule", () => {
  it.each([
    "a",
    "Sim_1.v-2",
    "My First Simulation",
    "東京 Überwachung 🌊",
    "Lab #3: 50% + more? (v2) & co!",
    ".",
    "..",
    "x".repeat(SIMULATION_NAME_MAX),
    LONGEST,
  ])("accepts %j", (name) => {
    expect(messagesFor(name)).toEqual([]);
  });

  it("admits every SimSpace Weaver name, so records of either platform stay readable", () => {
    for (const name of ["a", ".", "..", "-", "x".repeat(64), "Sim_1.v-2"]) {
      expect(SimSpaceWeaverNameSchema.safeParse(name).success, name).toBe(true);
      expect(SimulationNameSchema.safeParse(name).success, name).toBe(true);
    }
  });

  it.each([
    ["", "must be 1 to 128 characters"],
    ["x".repeat(SIMULATION_NAME_MAX + 1), "must be 1 to 128 characters"],
    [`${LONGEST}🌊`, "must be 1 to 128 characters"],
    ["lab\nforged log line", "must not contain control characters or line breaks"],
    ["bell\u0007", "must not contain control characters or line breaks"],
    ["nul\u0000part", "must not contain control characters or line breaks"],
    ["c1\u0085", "must not contain control characters or line breaks"],
    ["a\u2028b", "must not contain control characters or line breaks"],
    [" lab", "must not start or end with white space"],
    ["lab ", "must not start or end with white space"],
    ["lab\u00a0", "must not start or end with white space"],
    ["\u3000lab", "must not start or end with white space"],
    ["team/lab", 'must not contain "/"'],
    ["/", 'must not contain "/"'],
    ["half \ud83c", "must be well-formed Unicode (no lone surrogate)"],
  ])("refuses %j: %s", (name, message) => {
    expect(messagesFor(name)).toContain(message);
    expect(() => parseInput(SimulationNameSchema, name, "simulation name")).toThrow(
      `Invalid simulation name: (root): ${message}`,
    );
  });

  it("counts characters as Air does, an emoji as one", () => {
    expect(LONGEST.length).toBe(2 * SIMULATION_NAME_MAX);
    expect(SimulationNameSchema.safeParse(LONGEST).success).toBe(true);
  });

  it("keeps every allowed name one safe segment of an S3 key, within S3's 1,024 bytes", () => {
    for (const name of [
      "My First Simulation",
      "東京 Überwachung 🌊",
      "Lab #3: 50% + more?",
      LONGEST,
    ]) {
      const key = s3Key("simsnap", "reports", "prune", name, "2026-12-01T12-00-00-000Z.json");
      expect(key.split("/"), name).toHaveLength(5);
      expect(key.split("/")[3], name).toBe(name);
      expect(hasDotSegment(key), name).toBe(false);
      expect(Buffer.byteLength(key, "utf8"), name).toBeLessThanOrEqual(1024);
      // Every allowed name is well-formed, so it can be percent-encoded into a URL and back.
      expect(decodeURIComponent(encodeURIComponent(name))).toBe(name);
    }
  });

  it("keeps U+0000 out of names, which deterministic ids use to join their parts", () => {
    // Were it allowed, ("a\0b", "c") and ("a", "b\0c") would name one job.
    expect(deterministicId("prune", "a\u0000b", "c")).toBe(
      deterministicId("prune", "a", "b\u0000c"),
    );
    expect(SimulationNameSchema.safeParse("a\u0000b").success).toBe(false);
  });
});

describe("SimSpace Weaver's name rule", () => {
  it.each(["My First Simulation", "ünï", "x".repeat(65), "a#b", ""])(
    "refuses %j, naming its rule",
    (name) => {
      expect(() =>
        parseInput(SimSpaceWeaverNameSchema, name, "SimSpace Weaver simulation name"),
      ).toThrow(/Invalid SimSpace Weaver simulation name: \(root\): must/);
    },
  );
});

describe("nameWithSuffix", () => {
  it("keeps short names whole and cuts long ones by whole characters, never half an emoji", () => {
    expect(nameWithSuffix("lab", "-r1", 64)).toBe("lab-r1");
    const cut = nameWithSuffix("🌊".repeat(70), "-r1", 64);
    expect([...cut]).toHaveLength(64);
    expect(cut.endsWith("🌊-r1")).toBe(true);
    expect(SimulationNameSchema.safeParse(cut).success).toBe(true);
  });
});
